// Scale-out on Kubernetes without a cluster: the Indexed Job manifest validated against the Kubernetes
// schemas (kubernetes-models), the executor's real client-node code path against a fake API on loopback
// (create, wait, collect from pod logs, delete by run id), the shard log frame, the merge rule on identical
// samples split 3 ways, and the env a shard inherits.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Job } from "kubernetes-models/batch/v1";
import { Secret } from "kubernetes-models/v1";
import { loadConfig } from "../src/config/index.ts";
import { buildPhaseRecord } from "../src/results/summary.ts";
import {
  buildShardJob,
  buildShardSecret,
  decodeShardLog,
  encodeShardLog,
  runShardedTraffic,
  shardEnv,
  shardResultPath,
  trafficResultOf,
  type ShardRunSpec,
} from "../src/scaleout/index.ts";
import { deleteRunJobs, KubernetesExecutor, parseIndexes } from "../src/scaleout/kubernetes.ts";
import { ResultsFileError } from "../src/results/schema.ts";
import { LatencyHistogram } from "../src/traffic/histogram.ts";
import { mergeTrafficResults, TOTAL_KEYS } from "../src/traffic/result.ts";
import { seededRandom } from "../src/traffic/payload.ts";
import { tempDir } from "./helpers/results-tmp.ts";
import { resultFromSamples, startFakeKube, type ConnSamples, type FakeKube } from "./helpers/scaleout.ts";

const TOKEN = "Abcdefghij-abcdefghijabcdefghij12";

function spec(resultsDir: string, over: Partial<ShardRunSpec> = {}): ShardRunSpec {
  return {
    script: "web-terminal-traffic",
    runners: 3,
    runId: "k8s1",
    phase: "web-terminal-traffic",
    resultsDir,
    scriptArgs: ["--target-workspaces", "0:300", "--web-terminal-percentage", "100"],
    env: { CODER_URL: "https://coder.example.com", SCALETEST_DURATION: "5m" },
    secretEnv: { CODER_SESSION_TOKEN: TOKEN },
    timeoutMs: 600_000,
    ...over,
  };
}

/** 300 connections x 30 ticks with a long-tailed latency distribution (seeded). */
function samples(): ConnSamples[] {
  const rnd = seededRandom(42);
  return Array.from({ length: 300 }, (_, index) => ({
    index,
    dialMs: 50 + rnd() * 200,
    // Shards see different conditions: the last third is slower, so averaging shard p99s would be wrong.
    ticks: Array.from({ length: 30 }, () => (index >= 200 ? 20 : 1) * (1 + rnd() ** 4 * 400)),
  }));
}

describe("Job manifest", () => {
  const job = buildShardJob(spec("/home/coder/results"), { namespace: "coder-big", image: "ghcr.io/x/runner:1", results: { mode: "log" } });

  test("validates against the Kubernetes batch/v1 Job schema; its Secret against v1 Secret", () => {
    assert.doesNotThrow(() => new Job(job as ConstructorParameters<typeof Job>[0]).validate());
    const secret = buildShardSecret(spec("/r"), "coder-big");
    assert.doesNotThrow(() => new Secret(secret as ConstructorParameters<typeof Secret>[0]).validate());
    // The validator does reject a broken manifest (so the check above means something).
    const broken = structuredClone(job) as any;
    broken.spec.completions = "three";
    assert.throws(() => new Job(broken).validate(), /completions/);
  });

  test("Indexed, N pods at once, runner image, --shard $(JOB_COMPLETION_INDEX)/N, run id and phase labels", () => {
    const s = job.spec!;
    assert.equal(s.completionMode, "Indexed");
    assert.equal(s.completions, 3);
    assert.equal(s.parallelism, 3);
    assert.equal(s.backoffLimit, 3);
    assert.equal(s.activeDeadlineSeconds, 600);
    assert.equal(job.metadata?.name, "scaletest-k8s1-web-terminal-traffic");
    for (const labels of [job.metadata!.labels!, s.template.metadata!.labels!]) {
      assert.equal(labels["scaletest.coder.com/run-id"], "k8s1");
      assert.equal(labels["scaletest.coder.com/phase"], "web-terminal-traffic");
    }
    const c = s.template.spec!.containers[0]!;
    assert.equal(c.image, "ghcr.io/x/runner:1");
    const args = c.args!;
    assert.equal(args[args.indexOf("--shard") + 1], "$(JOB_COMPLETION_INDEX)/3");
    assert.equal(args[args.indexOf("--run-id") + 1], "k8s1");
    assert.equal(args[args.indexOf("--result") + 1], "log");
    assert.deepEqual(args.slice(-4), ["--target-workspaces", "0:300", "--web-terminal-percentage", "100"]);
    assert.equal(c.env![0]!.name, "JOB_COMPLETION_INDEX");
    assert.equal(c.env!.find((e) => e.name === "SCALETEST_DURATION")?.value, "5m");
    assert.equal(s.template.spec!.restartPolicy, "Never");
    assert.equal(s.podFailurePolicy!.rules[0]!.action, "FailJob");
  });

  test("the session token is referenced from the Secret, never written into the Job", () => {
    assert.ok(!JSON.stringify(job).includes(TOKEN));
    const tok = job.spec!.template.spec!.containers[0]!.env!.find((e) => e.name === "CODER_SESSION_TOKEN");
    assert.deepEqual(tok?.valueFrom?.secretKeyRef, { name: "scaletest-k8s1-web-terminal-traffic-env", key: "CODER_SESSION_TOKEN" });
  });

  test("volume mode mounts the RWX claim at the results dir and writes shards/<i>.json there; $( is not expanded from user text", () => {
    const v = buildShardJob(spec("/home/coder/results", { scriptArgs: ["--target-workspaces", "$(rm)"] }), {
      namespace: "ns",
      image: "img",
      results: { mode: "volume", claimName: "scaletest-results" },
    });
    assert.doesNotThrow(() => new Job(v as ConstructorParameters<typeof Job>[0]).validate());
    const pod = v.spec!.template.spec!;
    assert.ok(pod.volumes!.some((x) => x.persistentVolumeClaim?.claimName === "scaletest-results"));
    assert.ok(pod.containers[0]!.volumeMounts!.some((m) => m.name === "results" && m.mountPath === "/home/coder/results"));
    const args = pod.containers[0]!.args!;
    assert.equal(args[args.indexOf("--result") + 1], "/home/coder/results/k8s1/web-terminal-traffic/shards/$(JOB_COMPLETION_INDEX).json");
    assert.equal(args.at(-1), "$$(rm)");
  });

  test("bad inputs fail with what to do", () => {
    assert.throws(() => buildShardJob(spec("/r"), { namespace: "n", image: "", results: { mode: "log" } }), /--runner-image/);
    assert.throws(() => buildShardJob(spec("/r", { runners: 0 }), { namespace: "n", image: "i", results: { mode: "log" } }), /1\.\.100/);
  });
});

describe("Kubernetes executor against a fake API (loopback)", () => {
  let kube: FakeKube;
  let dir: { path: string; cleanup: () => void };
  const shardResults = [0, 1, 2].map((i) => resultFromSamples(samples().slice(i * 100, (i + 1) * 100), 512));
  let failIndex = -1;
  /** A shard whose output has a field the results schema refuses. */
  let badIndex = -1;
  // What a shard prints: the traffic scenario's phase record, the engine result in extra.traffic.
  const shardOutput = (i: number): unknown => {
    const traffic = i === badIndex ? { ...shardResults[i]!, totals: { ...shardResults[i]!.totals, bytesRead: "lots" } } : shardResults[i];
    return buildPhaseRecord({ runId: "k8s1", phase: "web-terminal-traffic", runner: "web-terminal-traffic", startedAt: new Date(0), endedAt: new Date(1000), extra: { traffic } });
  };

  before(async () => {
    dir = tempDir("scaletest-scaleout-k8s-");
    kube = await startFakeKube({
      podLog: (i) => (i === failIndex ? undefined : `starting\n${encodeShardLog({ shard: `${i}/3`, exitCode: 0, output: shardOutput(i) })}`),
    });
  });
  after(async () => {
    await kube?.close();
    dir?.cleanup();
  });

  const executor = () => new KubernetesExecutor({ namespace: "scaletest", image: "runner:1", results: { mode: "log" }, kubeConfig: kube.kubeConfig, pollIntervalMs: 10 });

  test("creates the Job and its Secret (owned by the Job), waits, reads every pod log and merges", async () => {
    const out = await runShardedTraffic(executor(), spec(dir.path));
    assert.deepEqual(out.shards.map((s) => [s.shard, s.state, s.source]), [
      ["0/3", "succeeded", "pod/scaletest-k8s1-web-terminal-traffic-0-abcde"],
      ["1/3", "succeeded", "pod/scaletest-k8s1-web-terminal-traffic-1-abcde"],
      ["2/3", "succeeded", "pod/scaletest-k8s1-web-terminal-traffic-2-abcde"],
    ]);
    const created = kube.requests.find((r) => r.method === "POST" && r.path.endsWith("/jobs"));
    assert.equal(created?.path, "/apis/batch/v1/namespaces/scaletest/jobs");
    assert.doesNotThrow(() => new Job(created!.body).validate());
    assert.ok(!JSON.stringify(created!.body).includes(TOKEN));
    const secret = kube.secrets.get("scaletest-k8s1-web-terminal-traffic-env")!;
    assert.equal(secret.stringData.CODER_SESSION_TOKEN, TOKEN);
    assert.equal(secret.metadata.ownerReferences?.[0]?.uid, kube.jobs.get("scaletest-k8s1-web-terminal-traffic")!.metadata.uid);
    assert.equal(out.result.totals.connections, 300);
    assert.equal(out.result.perConnection.filter((c) => c.shard === "2/3").length, 100);
    // Shard outputs collected from logs land in the same files a shared volume would hold.
    const f = shardResultPath(dir.path, "k8s1", "web-terminal-traffic", 1);
    assert.ok(existsSync(f));
    assert.equal(JSON.parse(readFileSync(f, "utf8")).extra.traffic.totals.connections, 100);
  });

  test("cleanup deletes the run's Job (propagation Background) and Secret by label, leaves other runs alone, is idempotent", async () => {
    await runShardedTraffic(executor(), spec(dir.path, { runId: "other" }));
    assert.ok(kube.jobs.has("scaletest-k8s1-web-terminal-traffic") && kube.jobs.has("scaletest-other-web-terminal-traffic"));
    const deleted = await executor().cleanup("k8s1");
    // The Secret is owned by the Job: garbage collection may remove it first (the fake does at once); cleanup
    // deletes it by label otherwise. Either way it is gone.
    assert.equal(deleted[0], "job/scaletest-k8s1-web-terminal-traffic");
    assert.ok(!kube.secrets.has("scaletest-k8s1-web-terminal-traffic-env"));
    const del = kube.requests.find((r) => r.method === "DELETE" && r.path.endsWith("/jobs/scaletest-k8s1-web-terminal-traffic"));
    assert.equal(del?.query.get("propagationPolicy") ?? del?.body?.propagationPolicy, "Background");
    const list = kube.requests.find((r) => r.method === "GET" && r.path.endsWith("/jobs") && r.query.get("labelSelector"));
    assert.equal(list?.query.get("labelSelector"), "scaletest.coder.com/run-id=k8s1");
    assert.ok(!kube.jobs.has("scaletest-k8s1-web-terminal-traffic"));
    assert.ok(![...kube.pods.keys()].some((p) => p.startsWith("scaletest-k8s1-")));
    assert.ok(kube.jobs.has("scaletest-other-web-terminal-traffic"), "another run's Job is untouched");
    assert.deepEqual(await deleteRunJobs("k8s1", { namespace: "scaletest", kubeConfig: kube.kubeConfig }), []);
    await deleteRunJobs("other", { namespace: "scaletest", kubeConfig: kube.kubeConfig });
    assert.equal(kube.jobs.size, 0);
    assert.equal(kube.secrets.size, 0);
  });

  test("a failed pod is reported with its exit code; the other shards are still merged", async () => {
    failIndex = 1;
    try {
      const out = await runShardedTraffic(executor(), spec(dir.path, { runId: "k8s2" }));
      assert.deepEqual(out.missing, [1]);
      assert.equal(out.shards[1]?.state, "failed");
      assert.match(out.shards[1]?.message ?? "", /exited 1 .*Job failed: BackoffLimitExceeded/);
      assert.equal(out.result.totals.connections, 200);
      assert.equal(out.exitCode, 1);
    } finally {
      failIndex = -1;
      await deleteRunJobs("k8s2", { namespace: "scaletest", kubeConfig: kube.kubeConfig });
    }
  });

  test("a shard output the results schema refuses: that shard fails naming its pod and the field; the others are merged", async () => {
    badIndex = 2;
    try {
      const out = await runShardedTraffic(executor(), spec(dir.path, { runId: "k8s4" }));
      assert.deepEqual(out.missing, [2]);
      assert.equal(out.shards[2]?.state, "failed");
      assert.match(out.shards[2]?.message ?? "", /^pod\/scaletest-k8s4-web-terminal-traffic-2-\w+: field "extra\.traffic\.totals\.bytesRead": /);
      assert.equal(out.result.totals.connections, 200);
      assert.equal(out.exitCode, 1);
      assert.ok(!existsSync(shardResultPath(dir.path, "k8s4", "web-terminal-traffic", 2)), "a refused output is not kept as a shard result");
    } finally {
      badIndex = -1;
      await deleteRunJobs("k8s4", { namespace: "scaletest", kubeConfig: kube.kubeConfig });
    }
  });

  test("a Job still running at the deadline: shards reported as timeout and the Job deleted", async () => {
    const slow = await startFakeKube({ podLog: () => "", behaviour: "never" });
    try {
      const ex = new KubernetesExecutor({ namespace: "scaletest", image: "runner:1", results: { mode: "log" }, kubeConfig: slow.kubeConfig, pollIntervalMs: 20 });
      const outcomes = await ex.runShards(spec(dir.path, { runId: "k8s3", timeoutMs: 200 }));
      assert.deepEqual(outcomes.map((o) => o.state), ["timeout", "timeout", "timeout"]);
      assert.match(outcomes[0]!.message ?? "", /still running after 200 ms/);
      assert.equal(slow.jobs.size, 0);
    } finally {
      await slow.close();
    }
  });
});

describe("merge on the same data", () => {
  test("3 shards of the same recorded samples: totals identical, p99 within histogram precision of one histogram", () => {
    const all = samples();
    const one = resultFromSamples(all, 512);
    const merged = mergeTrafficResults([0, 1, 2].map((i) => resultFromSamples(all.slice(i * 100, (i + 1) * 100), 512, `${i}/3`)));
    for (const k of TOTAL_KEYS) assert.equal(merged.totals[k], one.totals[k], k);
    assert.equal(merged.totals.connections, 300);
    assert.equal(merged.totals.bytesWritten, 300 * 30 * 512);
    // HDR merge is lossless at equal precision: the merged percentiles are the one-histogram percentiles.
    for (const k of ["count", "min", "p50", "p95", "p99", "max"] as const) assert.equal(merged.latency.tick[k], one.latency.tick[k], k);
    assert.ok(Math.abs(merged.latency.tick.mean - one.latency.tick.mean) <= one.latency.tick.mean * 0.001);
    // ...and both are within the histogram's precision (3 significant digits, 0.1 %) of the exact p99.
    const sorted = all.flatMap((c) => c.ticks).sort((a, b) => a - b);
    const exact = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
    assert.ok(Math.abs(merged.latency.tick.p99 - exact) <= exact * 0.001 + 0.001, `p99 ${merged.latency.tick.p99} vs exact ${exact}`);
    // Averaging the shards' p99s (what the merge never does) would be far off on this data.
    const avg = [0, 1, 2].map((i) => resultFromSamples(all.slice(i * 100, (i + 1) * 100), 512).latency.tick.p99).reduce((a, b) => a + b) / 3;
    assert.ok(Math.abs(avg - exact) > exact * 0.05, `averaged p99 ${avg} vs exact ${exact}`);
    assert.equal(LatencyHistogram.mergeEncoded([merged.histograms.tick]).count, 9000);
  });
});

describe("reading a shard's output", () => {
  const rec = (traffic: unknown) =>
    buildPhaseRecord({ runId: "r", phase: "ssh-traffic", runner: "ssh-traffic", startedAt: new Date(0), endedAt: new Date(1000), extra: { traffic } });

  test("validated with the results schema: errors name the file and the field", () => {
    const good = resultFromSamples(samples().slice(0, 10), 64, "0/2");
    assert.equal(trafficResultOf(JSON.parse(JSON.stringify(rec(good))), "/r/ssh-traffic/shards/0.json").totals.connections, 10);
    const refused = (output: unknown, field: RegExp) => {
      assert.throws(() => trafficResultOf(output, "/r/ssh-traffic/shards/1.json"), (e: unknown) => {
        assert.ok(e instanceof ResultsFileError, String(e));
        assert.equal(e.file, "/r/ssh-traffic/shards/1.json");
        assert.match(e.field, field);
        return true;
      });
    };
    refused({ ...rec(good), schema: "scaletest-phase/v1" }, /^schema$/);
    refused({ extra: { traffic: good } }, /^schema$/);
    refused(rec(undefined), /^extra\.traffic$/);
    refused(rec({ ...good, histograms: { tick: 5, dial: "" } }), /^extra\.traffic\.histograms\.tick$/);
    refused(rec({ ...good, perConnection: [{ ...good.perConnection[0]!, status: "fine" }] }), /^extra\.traffic\.perConnection\.0\.status$/);
    // Fields this version does not know are kept (a newer shard's additions reach the merge).
    assert.equal((trafficResultOf(rec({ ...good, note: "new" }), "f") as unknown as { note: string }).note, "new");
  });
});

describe("shard log frame and indexes", () => {
  test("round trip, last frame wins, a truncated frame is an error, no frame is undefined", () => {
    const output = { extra: { traffic: { big: "x".repeat(50_000) } } };
    const text = `noise\n${encodeShardLog({ shard: "0/2", exitCode: 0, output: "old" })}${encodeShardLog({ shard: "1/2", exitCode: 1, output })}tail\n`;
    assert.ok(text.split("\n").every((l) => l.length <= 4000));
    assert.deepEqual(decodeShardLog(text), { shard: "1/2", exitCode: 1, output });
    const enc = encodeShardLog({ shard: "1/2", exitCode: 0, output });
    assert.throws(() => decodeShardLog(enc.slice(0, enc.length - 30)), /cut off/);
    assert.equal(decodeShardLog("just logs\n"), undefined);
  });

  test("completedIndexes ranges", () => {
    assert.deepEqual([...parseIndexes("0-2,4,7-8")], [0, 1, 2, 4, 7, 8]);
    assert.deepEqual([...parseIndexes(undefined)], []);
  });
});

describe("shard env", () => {
  test("non-default settings by env var, the token apart as a secret, per-shard settings left to the executor", () => {
    const { config } = loadConfig("run", ["--runners", "3", "--duration", "5m", "--shard", "1/2", "--results-dir", "/x"], {
      env: { CODER_URL: "https://coder.example.com", CODER_SESSION_TOKEN: TOKEN, SCALETEST_RUN_ID: "abc" },
      envFile: false,
    });
    const { env, secretEnv } = shardEnv(config);
    assert.deepEqual(secretEnv, { CODER_SESSION_TOKEN: TOKEN });
    assert.equal(env.CODER_URL, "https://coder.example.com");
    assert.equal(env.SCALETEST_DURATION, "5m");
    for (const k of ["SCALETEST_RUNNERS", "SCALETEST_SHARD", "SCALETEST_RUN_ID", "SCALETEST_RESULTS_DIR", "CODER_SESSION_TOKEN"]) assert.ok(!(k in env), k);
    assert.ok(!Object.values(env).includes(TOKEN));
  });
});

describe("template RBAC", () => {
  test("rbac.tf grants the runner's service account Jobs, Secrets, Pods and pod logs in its namespace", async () => {
    const { parseHclFile, TEMPLATE_DIR } = await import("./helpers/template.ts");
    const { join } = await import("node:path");
    const tf = (await parseHclFile(join(TEMPLATE_DIR, "rbac.tf"))) as any;
    const rules: { api_groups: string[]; resources: string[]; verbs: string[] }[] = tf.resource.kubernetes_role.scaleout[0].rule;
    const can = (group: string, resource: string, verb: string) =>
      rules.some((r) => r.api_groups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    for (const v of ["create", "get", "list", "delete"]) assert.ok(can("batch", "jobs", v), `jobs ${v}`);
    for (const v of ["create", "list", "delete"]) assert.ok(can("", "secrets", v), `secrets ${v}`);
    assert.ok(can("", "pods", "list") && can("", "pods/log", "get"));
    const binding = tf.resource.kubernetes_role_binding.scaleout[0];
    assert.equal(binding.subject[0].kind, "ServiceAccount");
    assert.equal(binding.subject[0].name, "${var.service_account_name}");
  });
});
