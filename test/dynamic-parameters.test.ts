// Acceptance tests of the dynamic-parameters load type against the simulator: Coder's partitions and
// distinct versions, both latency distributions at 100 concurrent evaluations, the simulator's added
// evaluation delay showing in the change p50, a server diagnostic failing its session with its text, the
// 425 before a version is imported, and the script's flags (bad input exits 2 before anything is created).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { CoderClient } from "../src/coder/index.ts";
import {
  CHANGE_METRIC,
  DynamicParametersInputError,
  dynamicParametersPhaseResult,
  INITIAL_METRIC,
  partitionEvaluations,
  runDynamicParameters,
  runSession,
  templateArchive,
  type DynamicParametersOptions,
  type DynamicParametersResult,
} from "../src/dynamic-parameters/index.ts";
import { uploadTar, createTemplateVersion } from "../src/dynamic-parameters/api.ts";
import { tarFiles, untarFiles } from "../src/util/tar.ts";
import { getRegistry } from "../src/metrics/registry.ts";
import { PhaseRecord } from "../src/results/schema.ts";
import { loadReportModel, renderHtml, renderMarkdown } from "../src/report/index.ts";
import { summarize } from "../src/results/stats.ts";
import { parametersOf } from "../sim/dynamic-parameters.ts";
import { waitFor, withSim, type Sim } from "./helpers/sim.ts";

const BASE: Omit<DynamicParametersOptions, "runId"> = {
  template: "scaletest-dynamic-parameters",
  concurrentEvaluations: 10,
  provisionerTags: [],
  timeoutMs: 120_000,
  jobTimeoutMs: 60_000,
  importTimeoutMs: 60_000,
  importPollMs: 20,
};

async function run(sim: Sim, o: Partial<DynamicParametersOptions> & { runId: string }): Promise<DynamicParametersResult> {
  const client = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 16 });
  try {
    return await runDynamicParameters(client, { ...BASE, ...o });
  } finally {
    await client.close();
  }
}

function histogramCount(name: string, label: string): number {
  const m = getRegistry().getSingleMetric(name) as unknown as { hashMap?: Record<string, { labels: Record<string, string>; count?: number }> };
  let n = 0;
  for (const v of Object.values(m?.hashMap ?? {})) if (v.labels["concurrent_evaluations"] === label) n += v.count ?? 0;
  return n;
}

describe("preparation (Coder's SetupPartitions)", () => {
  test("--concurrent-evaluations is split into halving partitions, rounding up", () => {
    assert.deepEqual(partitionEvaluations(100), [50, 25, 13, 6, 3, 2, 1]);
    assert.deepEqual(partitionEvaluations(1), [1]);
    assert.deepEqual(partitionEvaluations(7), [4, 2, 1]);
    for (const n of [1, 2, 3, 10, 99, 100, 1000]) assert.equal(partitionEvaluations(n).reduce((a, b) => a + b, 0), n);
  });

  test("each archive is a distinct tar of main.tf, the module and modules.json declaring the zero parameter", () => {
    const a = templateArchive();
    const b = templateArchive();
    assert.notDeepEqual(a, b);
    const files = untarFiles(a);
    assert.deepEqual([...files.keys()].sort(), [".terraform/modules/modules.json", "main.tf", "modules/second/main.tf"]);
    const params = parametersOf(files);
    assert.deepEqual(params.map((p) => p.name), ["zero", "first", "second", "third"]);
    assert.deepEqual(params[0]!.options, ["A", "B"]);
    assert.equal(params[0]!.default, "A");
  });
});

describe("dynamic-parameters against the simulator", () => {
  test("100 concurrent evaluations: 7 distinct versions, every session passes, both distributions reported", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.dynamicParameters.importMs = 30;
      const r = await run(sim, { runId: "dp100", concurrentEvaluations: 100 });
      assert.equal(r.setup_error, null);
      assert.deepEqual(r.parts, [50, 25, 13, 6, 3, 2, 1]);
      assert.equal(new Set(r.partitions.map((p) => p.version.id)).size, 7);
      assert.equal(r.template.created, true);
      assert.equal(sim.dynamicParameters.counts.versions, 7);
      assert.equal(sim.dynamicParameters.counts.templates, 1);
      assert.equal(sim.dynamicParameters.counts.sessions, 100);
      assert.equal(r.pass, 100, r.sessions.filter((s) => !s.ok).map((s) => s.error).join("\n"));
      assert.equal(r.exit_code, 0);
      for (const s of r.sessions) {
        assert.ok(s.initial_ms !== null && s.initial_ms > 0);
        assert.ok(s.change_ms !== null && s.change_ms > 0);
      }
      // Each partition's sessions ran against its own version, with Coder's "<j>/<i>" ids.
      assert.equal(r.sessions.filter((s) => s.concurrent_evaluations === 50).length, 50);
      assert.ok(r.sessions.some((s) => s.id === "49/0") && r.sessions.some((s) => s.id === "0/6"));
      const phase = dynamicParametersPhaseResult(r);
      for (const name of ["dynamic-parameters.initial", "dynamic-parameters.change"]) {
        const m = phase.metrics[name];
        assert.ok(m && m.type === "latency", name);
        assert.equal(m.series.length, 7);
        assert.equal(m.series.reduce((n, s) => n + (s.exact?.count ?? 0), 0), 100, name);
      }
      assert.match(phase.text, /initial evaluation[\s\S]*all\s+n=100[\s\S]*change[\s\S]*all\s+n=100/);
      // Coder's Prometheus series, labelled by the partition's size.
      assert.equal(histogramCount(INITIAL_METRIC, "50"), 50);
      assert.equal(histogramCount(CHANGE_METRIC, "13"), 13);
      // A second run adds versions to the existing template instead of creating it.
      const again = await run(sim, { runId: "dp100b", concurrentEvaluations: 3 });
      assert.equal(again.template.created, false);
      assert.equal(again.template.id, r.template.id);
      assert.equal(again.pass, 3);
      assert.equal(sim.dynamicParameters.counts.templates, 1);
    });
  });

  test("200 ms added to every evaluation shows in the change p50", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.dynamicParameters.importMs = 20;
      sim.dynamicParameters.evalDelayMs = 200;
      const r = await run(sim, { runId: "dpslow", concurrentEvaluations: 20 });
      assert.equal(r.pass, 20);
      const change = summarize(r.sessions.map((s) => s.change_ms!));
      const initial = summarize(r.sessions.map((s) => s.initial_ms!));
      assert.ok((change.p50 ?? 0) >= 200, `change p50 ${change.p50} ms should include the 200 ms the server adds`);
      assert.ok((initial.p50 ?? 0) >= 200, `initial p50 ${initial.p50} ms should include it too`);
    });
  });

  test("a diagnostic from the server fails that session with its text; the others pass", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.dynamicParameters.importMs = 20;
      sim.dynamicParameters.injectDiagnostic("change", { summary: "Module two failed to evaluate", detail: "quota exceeded for org scaletest" }, 1);
      sim.dynamicParameters.injectDiagnostic("initial", { summary: "Provider plan missing", detail: "no cached plan" }, 1);
      const r = await run(sim, { runId: "dpdiag", concurrentEvaluations: 6 });
      assert.equal(r.fail, 2);
      assert.equal(r.exit_code, 1);
      const change = r.sessions.find((s) => s.failed_stage === "change");
      const initial = r.sessions.find((s) => s.failed_stage === "initial");
      assert.match(change?.error ?? "", /unexpected change response diagnostics: .*error: Module two failed to evaluate: quota exceeded for org scaletest/);
      assert.match(initial?.error ?? "", /unexpected initial response diagnostics: .*Provider plan missing: no cached plan/);
      assert.deepEqual(r.errors_by_stage, { change: 1, initial: 1 });
      const phase = dynamicParametersPhaseResult(r);
      assert.ok(phase.errors.some((e) => e.includes("quota exceeded for org scaletest")));
    });
  });

  test("a version still importing answers 425; a failed import fails the setup with its error", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.dynamicParameters.importMs = 60_000;
      const client = new CoderClient({ url: sim.url, token: sim.ownerToken });
      try {
        const org = await client.defaultOrganization();
        const file = await uploadTar(client, templateArchive());
        const v = await createTemplateVersion(client, org.id, { file_id: file, message: "m", storage_method: "file", provisioner: "terraform", tags: {} });
        const s = await runSession(client, { id: "0/0", partition: 0, concurrentEvaluations: 1, versionId: v.id }, AbortSignal.timeout(10_000), () => "stopped");
        assert.equal(s.ok, false);
        assert.equal(s.failed_stage, "connect");
        assert.match(s.error ?? "", /425/);
        assert.match(s.error ?? "", /Template version job has not finished/);
        assert.equal(sim.dynamicParameters.counts.tooEarly, 1);
        // A version without the `zero` parameter fails the session at its initial evaluation, saying so.
        sim.dynamicParameters.importMs = 5;
        const bare = await uploadTar(client, tarFiles({ "main.tf": 'data "coder_parameter" "other" {\n  name = "other"\n  default = "x"\n}\n' }));
        const v2 = await createTemplateVersion(client, org.id, { file_id: bare, message: "m", storage_method: "file", provisioner: "terraform", tags: {} });
        await waitFor("import", async () => (await client.templateVersion(v2.id)).job.status === "succeeded");
        const s2 = await runSession(client, { id: "0/1", partition: 1, concurrentEvaluations: 1, versionId: v2.id }, AbortSignal.timeout(10_000), () => "stopped");
        assert.equal(s2.failed_stage, "initial");
        assert.equal(s2.error, "missing expected parameter: 'zero'");
        assert.ok(s2.initial_ms !== null);
      } finally {
        await client.close();
      }
      sim.dynamicParameters.importMs = 10;
      sim.dynamicParameters.importFails = true;
      const r = await run(sim, { runId: "dpfail", concurrentEvaluations: 4 });
      assert.match(r.setup_error ?? "", /job in unexpected status "failed", error "terraform init failed"/);
      assert.equal(r.sessions.length, 0);
      assert.equal(r.exit_code, 1);
    });
  });

  test("bad input is refused before anything is created", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      for (const [o, re] of [
        [{ concurrentEvaluations: 0 }, /--concurrent-evaluations must be a whole number from 1 to 10000; got 0/],
        [{ template: "my-team-template" }, /--template "my-team-template" must start with scaletest-/],
        [{ provisionerTags: ["novalue"] }, /--provisioner-tag "novalue" must be key=value/],
      ] as const) {
        await assert.rejects(run(sim, { runId: "dpbad", ...o }), (e: unknown) => e instanceof DynamicParametersInputError && re.test((e as Error).message));
      }
      assert.equal(sim.dynamicParameters.counts.uploads, 0);
      assert.equal(sim.dynamicParameters.counts.versions, 0);
    });
  });
});

describe("scenarios/dynamic-parameters.ts", () => {
  const ROOT = fileURLToPath(new URL("..", import.meta.url));
  const script = (sim: Sim, dir: string, args: string[]) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
    return execa(process.execPath, ["--import", "tsx", "scenarios/dynamic-parameters.ts", ...args], {
      cwd: ROOT,
      env: { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0", SCALETEST_METRICS_WAIT: "0s" },
      extendEnv: false,
      reject: false,
      timeout: 120_000,
    });
  };

  test("Coder's flags run the load and write the phase record; bad flags exit 2 before anything is created", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dp-cli-"));
    try {
      await withSim({ preexisting: false }, async (sim) => {
        sim.dynamicParameters.importMs = 20;
        const cases = [
          [["--concurrent-evaluations", "0"], /--concurrent-evaluations \(SCALETEST_DYNAMIC_PARAMETERS_CONCURRENT_EVALUATIONS\) must be at least 1/],
          [["--template", "team-template"], /^dynamic-parameters: --template "team-template" must start with scaletest-/m],
        ] as const;
        // Side by side: each is refused before anything is created (and each has a fresh run id).
        const runs = await Promise.all(cases.map(([args]) => script(sim, dir, [...args])));
        cases.forEach(([args, re], i) => {
          const r = runs[i]!;
          assert.equal(r.exitCode, 2, `${args.join(" ")}: ${r.stderr}`);
          assert.match(r.stderr, re);
          assert.ok(!r.stderr.includes(sim.ownerToken));
        });
        assert.equal(sim.dynamicParameters.counts.versions, 0);
        const out = join(dir, "dp.json");
        const r = await script(sim, dir, ["--concurrent-evaluations", "12", "--job-timeout", "30s", "--run-id", "dpcli", "--output", `json:${out}`, "--output", "text"]);
        assert.equal(r.exitCode, 0, r.stderr);
        assert.match(r.stdout, /sessions: 12 passed, 0 failed/);
        const json = PhaseRecord.parse(JSON.parse(readFileSync(out, "utf8")));
        assert.equal(json.status, "pass");
        assert.deepEqual(json.thresholds.map((t) => [t.expression, t.ok]), [["dynamic-parameters.error_rate<=0%", true]]);
        assert.equal(json.stages["dynamic-parameters.initial{concurrent_evaluations=6}"]?.count, 6);
        assert.equal(json.stages["dynamic-parameters.change{concurrent_evaluations=3}"]?.count, 3);
        assert.equal(sim.dynamicParameters.counts.versions, 4); // 12 -> 6, 3, 2, 1
        // The report's section shows both distributions over all 12 sessions.
        const model = loadReportModel(join(dir, "dpcli"));
        const md = renderMarkdown(model);
        assert.match(md, /## Dynamic parameters[\s\S]*Initial evaluation \(open -> first response\) \| 12 \|[\s\S]*Change \(first response -> change response\) \| 12 \|/);
        assert.match(md, /Change \(first response -> change response\):\n\n```\n[\s\S]*#/);
        const html = renderHtml(model);
        assert.match(html, /<h2>Dynamic parameters<\/h2>[\s\S]*<td>Initial evaluation \(open -&gt; first response\)<\/td><td>12<\/td>/);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
