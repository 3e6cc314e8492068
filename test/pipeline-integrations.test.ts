// The pipeline's outside services, run in-process against the simulator with loopback fakes: Grafana region
// annotations per phase (Bearer token never written anywhere), failure counting when Grafana is broken or
// gone, the service banner during the run and its restore, the webhook messages, and the run's API token.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { api, withSim, type Sim } from "./helpers/sim.ts";
import { readJSON, runSmall, tempResults, walk } from "./helpers/pipeline.ts";
import { startFakeGrafana, startWebhookReceiver, unreachableUrl, type Annotation } from "./helpers/fake-grafana.ts";

const GRAFANA_TOKEN = "glsa_integrationTestSecret_0123456789abcdef";
type PhaseEntry = { name: string; text: string; status: string };
/** Preparing, Running, Complete: the status regions of a passing run. */
const STATUS_REGIONS = 3;

type RunJson = { run_id: string; phases: PhaseEntry[]; status: string; integration_failures: { grafana: number; webhook: number; banner: number } };

const tokensNamed = async (sim: Sim, name: string): Promise<unknown[]> => {
  const r = await api<{ token_name: string }[]>(sim, "GET", "/api/v2/users/me/keys/tokens");
  assert.equal(r.status, 200);
  return r.body.filter((t) => t.token_name === name);
};

/** Every file the run wrote, as one string (to look for secrets). */
const everything = (runDir: string): string => walk(runDir).map((f) => readFileSync(f, "utf8")).join("\n");

test("Grafana regions per phase, banner during the run and restored, webhooks, run token deleted", async () => {
  const grafana = await startFakeGrafana();
  const hook = await startWebhookReceiver();
  try {
    await withSim({}, async (sim) => {
      // A banner of the deployment's own, which the run must keep and give back.
      const own = { enabled: true, message: "Maintenance on Friday", background_color: "#112233" };
      const put = await api(sim, "PUT", "/api/v2/appearance", { announcement_banners: [own], service_banner: { enabled: false, message: "", background_color: "" } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const before = (await api(sim, "GET", "/api/v2/appearance")).body;
      const runId = "integ1";
      // While the create phase opens its region: the banner is up and the run's token exists.
      let duringCreate: { banners: { message: string; enabled: boolean }[]; tokens: number } | null = null;
      grafana.onCreate = async (a: Annotation) => {
        if (!a.text.startsWith("Creating")) return;
        const app = await api<{ announcement_banners: { message: string; enabled: boolean }[] }>(sim, "GET", "/api/v2/appearance");
        duringCreate = { banners: app.body.announcement_banners, tokens: (await tokensNamed(sim, `scaletest-runner-${runId}`)).length };
      };
      const dir = tempResults();
      const out = await runSmall(sim, dir, [
        "--run-id", runId, "--scenarios", "ssh", "--banner", "true",
        "--grafana-url", grafana.url, "--grafana-token", GRAFANA_TOKEN, "--webhook-url", hook.url,
      ]);
      assert.equal(out.exitCode, 0, out.output);
      const run = readJSON<RunJson>(join(out.runDir!, "run.json"));
      assert.deepEqual(run.integration_failures, { grafana: 0, webhook: 0, banner: 0 });

      // One region per phase (plus one for the whole run), each opened and closed, in phase order.
      const regions = [...grafana.annotations.values()];
      const phaseRegions = regions.filter((a) => a.tags.includes("phase"));
      assert.deepEqual(phaseRegions.map((a) => a.text), run.phases.map((p) => p.text));
      assert.deepEqual(run.phases.map((p) => p.name), ["prepare", "create-workspaces", "ssh-traffic", "report", "cleanup"]);
      // The run's status as "Status: ..." regions (Coder's set_status), each closed by the next.
      const statusRegions = regions.filter((a) => a.tags.includes("status"));
      assert.deepEqual(statusRegions.map((a) => a.text), ["Status: Preparing", "Status: Running", "Status: Complete"]);
      assert.equal(regions.length, run.phases.length + 1 + STATUS_REGIONS);
      const whole = regions.find((a) => a.tags.includes("run"));
      assert.ok(whole && whole.text.startsWith(`Scaletest ${runId}`));
      for (const a of regions) {
        assert.ok(a.time > 0 && a.timeEnd !== null && a.timeEnd >= a.time, `${a.text}: start ${a.time}, end ${a.timeEnd}`);
        for (const t of ["scaletest", "runner", `run:${runId}`]) assert.ok(a.tags.includes(t), `${a.text} tagged ${t}: ${a.tags.join(",")}`);
        assert.ok(!a.tags.includes("error"), `${a.text} passed`);
      }
      assert.ok(phaseRegions.find((a) => a.text.startsWith("Load scenario"))!.tags.includes("scenario"));
      for (let i = 1; i < phaseRegions.length; i++) assert.ok(phaseRegions[i]!.time >= phaseRegions[i - 1]!.timeEnd!, "sequential regions");
      assert.ok(whole.time <= phaseRegions[0]!.time && whole.timeEnd! >= phaseRegions.at(-1)!.timeEnd!, "the run's region spans its phases");
      // Each region: one POST then one PATCH, all with the Bearer token.
      assert.equal(grafana.requests.filter((r) => r.method === "POST").length, regions.length);
      assert.equal(grafana.requests.filter((r) => r.method === "PATCH").length, regions.length);
      for (const r of grafana.requests) assert.equal(r.headers.authorization, `Bearer ${GRAFANA_TOKEN}`);
      assert.ok(!everything(out.runDir!).includes(GRAFANA_TOKEN), "the Grafana token is in no result file");
      assert.ok(!out.output.includes(GRAFANA_TOKEN));

      // Banner: ours on top of the deployment's own during the run; exactly the old appearance after.
      assert.ok(duringCreate, "the create phase was annotated");
      const seen = duringCreate as { banners: { message: string; enabled: boolean }[]; tokens: number };
      assert.equal(seen.banners.length, 2, JSON.stringify(seen.banners));
      assert.deepEqual(seen.banners[0], own);
      assert.ok(seen.banners[1]!.enabled && seen.banners[1]!.message.includes(`[scaletest ${runId}]`), seen.banners[1]!.message);
      assert.deepEqual((await api(sim, "GET", "/api/v2/appearance")).body, before, "appearance restored");

      // Webhook: started, then completed, each naming the run.
      assert.equal(hook.bodies.length, 2, JSON.stringify(hook.bodies));
      assert.match(hook.bodies[0]!.text, new RegExp(`^New scaletest ${runId} started on `));
      assert.match(hook.bodies[1]!.text, new RegExp(`^Scaletest ${runId} completed on .*PASS`));
      for (const b of hook.bodies) assert.equal((b.blocks[0] as { text: { text: string } }).text.text, b.text);
      assert.ok(!hook.bodies.some((b) => b.text.includes(sim.ownerToken) || b.text.includes(GRAFANA_TOKEN)), "no secrets in messages");

      // The run's token lived during the run and is gone after it.
      assert.equal(seen.tokens, 1, "the run token existed during the create phase");
      assert.deepEqual(await tokensNamed(sim, `scaletest-runner-${runId}`), []);
    });
  } finally {
    await grafana.close();
    await hook.close();
  }
});

test("a failing phase gets the error tag; the webhook says failed", async () => {
  const grafana = await startFakeGrafana();
  const hook = await startWebhookReceiver();
  try {
    await withSim({}, async (sim) => {
      sim.faults.set({ build: { failRate: 1 } });
      const out = await runSmall(sim, tempResults(), [
        "--run-id", "integ2", "--scenarios", "ssh", "--banner", "false",
        "--grafana-url", grafana.url, "--grafana-token", GRAFANA_TOKEN, "--webhook-url", hook.url,
      ]);
      assert.equal(out.exitCode, 1, out.output);
      const run = readJSON<RunJson>(join(out.runDir!, "run.json"));
      const create = run.phases.find((p) => p.name === "create-workspaces")!;
      assert.notEqual(create.status, "pass");
      const regions = [...grafana.annotations.values()];
      const byText = (t: string) => regions.find((a) => a.text === t)!;
      assert.ok(byText(create.text).tags.includes("error"), byText(create.text).tags.join(","));
      assert.ok(byText(create.text).timeEnd !== null);
      assert.ok(!byText(run.phases.find((p) => p.name === "prepare")!.text).tags.includes("error"), "prepare passed");
      assert.ok(regions.find((a) => a.tags.includes("run"))!.tags.includes("error"), "the run's region is marked too");
      assert.equal(hook.bodies.length, 2);
      assert.match(hook.bodies[1]!.text, /^Scaletest integ2 \*failed\* on /);
      assert.equal(run.integration_failures.grafana, 0);
    });
  } finally {
    await grafana.close();
    await hook.close();
  }
});

test("Grafana answering 500, or not there at all: the run passes and every failure is counted", async () => {
  const grafana = await startFakeGrafana();
  grafana.failWith(500);
  const gone = await unreachableUrl();
  try {
    await withSim({}, async (sim) => {
      for (const [runId, url] of [["g500", grafana.url], ["gone", gone]] as const) {
        const out = await runSmall(sim, tempResults(), [
          "--run-id", runId, "--scenarios", "ssh", "--banner", "false", "--grafana-url", url, "--grafana-token", GRAFANA_TOKEN,
        ]);
        assert.equal(out.exitCode, 0, out.output);
        const run = readJSON<RunJson>(join(out.runDir!, "run.json"));
        assert.equal(run.status, "pass");
        // Every region's POST failed (the run's and one per phase), so there was nothing to PATCH.
        assert.equal(run.integration_failures.grafana, run.phases.length + 1 + STATUS_REGIONS, `${runId}: ${JSON.stringify(run.integration_failures)}`);
        assert.ok(!everything(out.runDir!).includes(GRAFANA_TOKEN), `${runId}: the token is in no result file, not even the warnings`);
      }
      const posts = grafana.requests.filter((r) => r.method === "POST");
      assert.equal(grafana.requests.length, posts.length, "no PATCH after a failed POST");
      assert.ok(posts.length >= 6);
    });
  } finally {
    await grafana.close();
  }
});

test("Grafana that accepts regions but fails to close them: each failed PATCH is counted too", async () => {
  const grafana = await startFakeGrafana();
  grafana.failPatchesWith(500);
  try {
    await withSim({}, async (sim) => {
      const out = await runSmall(sim, tempResults(), [
        "--run-id", "patch5", "--scenarios", "ssh", "--banner", "false", "--grafana-url", grafana.url, "--grafana-token", GRAFANA_TOKEN,
      ]);
      assert.equal(out.exitCode, 0, out.output);
      const run = readJSON<RunJson>(join(out.runDir!, "run.json"));
      const patches = grafana.requests.filter((r) => r.method === "PATCH").length;
      assert.equal(patches, run.phases.length + 1 + STATUS_REGIONS, "every region, the run's and the statuses' included, was closed (and failed)");
      assert.equal(run.integration_failures.grafana, patches, "run.json counts every failed PATCH, the run's own region's too");
    });
  } finally {
    await grafana.close();
  }
});
