// The zx orchestration scripts with Debian's real kubectl against a loopback fake Kubernetes API (discovery,
// pods, pod logs, deployments and their scale subresource), and for `kubectl port-forward` (which needs an
// upgraded stream the fake cannot serve) a stand-in that checks its arguments the way kubectl would, serves
// pprof endpoints and records when it is closed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, TEMPLATE_DIR, parseHclFile } from "./helpers/template.ts";

const REAL_KUBECTL = "/usr/bin/kubectl";
const haveKubectl = existsSync(REAL_KUBECTL);
const skip = haveKubectl ? false : "needs Debian's kubectl at /usr/bin/kubectl";

interface Pod {
  name: string;
  labels: Record<string, string>;
  log: string;
}

interface FakeApi {
  url: string;
  requests: { method: string; path: string; query: URLSearchParams; body: string }[];
  replicas: Map<string, number>;
  close(): Promise<void>;
}

/** Every request real kubectl made in these tests, for the RBAC check at the end. */
const ALL_REQUESTS: { method: string; path: string; query: URLSearchParams }[] = [];

const status = (code: number, reason: string, message: string) => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });

/** Enough of the Kubernetes API for kubectl get/logs/scale/rollout status in namespace `ns`. */
async function fakeApi(ns: string, pods: Pod[], deployments: Record<string, number>, forbidden = false): Promise<FakeApi> {
  const requests: FakeApi["requests"] = [];
  const replicas = new Map(Object.entries(deployments));
  const generation = new Map<string, number>([...replicas.keys()].map((k) => [k, 1]));
  const podObj = (p: Pod) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: p.name, namespace: ns, labels: p.labels }, spec: { containers: [{ name: "main", image: "x" }] }, status: { phase: "Running" } });
  const deployment = (name: string) => {
    const n = replicas.get(name) as number;
    const g = generation.get(name) as number;
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: ns, generation: g, uid: `uid-${name}` },
      spec: { replicas: n, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "p", image: "x" }] } } },
      status: { observedGeneration: g, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n },
    };
  };
  const scaleObj = (name: string) => ({ apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name, namespace: ns }, spec: { replicas: replicas.get(name) }, status: { replicas: replicas.get(name) } });
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const u = new URL(req.url ?? "/", "http://x");
    requests.push({ method: req.method ?? "", path: u.pathname, query: u.searchParams, body });
    if (!forbidden) ALL_REQUESTS.push({ method: req.method ?? "", path: u.pathname, query: u.searchParams });
    const json = (code: number, obj: unknown) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(obj));
    };
    const p = u.pathname;
    if (p === "/api") return json(200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] });
    if (p === "/apis") return json(200, { kind: "APIGroupList", apiVersion: "v1", groups: [{ name: "apps", versions: [{ groupVersion: "apps/v1", version: "v1" }], preferredVersion: { groupVersion: "apps/v1", version: "v1" } }] });
    if (p === "/api/v1") {
      return json(200, {
        kind: "APIResourceList",
        groupVersion: "v1",
        resources: [
          { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["get", "list", "watch"], shortNames: ["po"] },
          { name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"] },
        ],
      });
    }
    if (p === "/apis/apps/v1") {
      return json(200, {
        kind: "APIResourceList",
        apiVersion: "v1",
        groupVersion: "apps/v1",
        resources: [
          { name: "deployments", singularName: "deployment", namespaced: true, kind: "Deployment", verbs: ["get", "list", "watch", "patch"], shortNames: ["deploy"] },
          { name: "deployments/scale", singularName: "", namespaced: true, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] },
        ],
      });
    }
    if (forbidden && p.includes("/namespaces/")) return json(403, status(403, "Forbidden", `pods is forbidden: User "system:serviceaccount:x:scaletest-runner" cannot list resource in the namespace "${ns}"`));
    const m = /^\/(?:api\/v1|apis\/apps\/v1)\/namespaces\/([^/]+)\/(pods|deployments)(?:\/([^/]+))?(?:\/(log|scale))?$/.exec(p);
    if (!m || m[1] !== ns) return json(404, status(404, "NotFound", `${p} not found`));
    const [, , kind, name, sub] = m;
    if (kind === "pods") {
      if (!name) {
        const sel = u.searchParams.get("labelSelector");
        const items = pods.filter((x) => !sel || sel.split(",").every((t) => x.labels[t.split("=")[0] as string] === t.split("=")[1])).map(podObj);
        return json(200, { apiVersion: "v1", kind: "PodList", metadata: {}, items });
      }
      const pod = pods.find((x) => x.name === name);
      if (!pod) return json(404, status(404, "NotFound", `pods "${name}" not found`));
      if (sub === "log") {
        res.writeHead(200, { "content-type": "text/plain" });
        return res.end(pod.log);
      }
      return json(200, podObj(pod));
    }
    if (!name) {
      const field = u.searchParams.get("fieldSelector");
      const names = [...replicas.keys()].filter((n) => !field || field === `metadata.name=${n}`);
      return json(200, { apiVersion: "apps/v1", kind: "DeploymentList", metadata: { resourceVersion: "1" }, items: names.map(deployment) });
    }
    if (!replicas.has(name)) return json(404, status(404, "NotFound", `deployments.apps "${name}" not found`));
    if (sub === "scale") {
      if (req.method === "PATCH" || req.method === "PUT") {
        const n = (JSON.parse(body) as { spec?: { replicas?: number } }).spec?.replicas;
        if (typeof n === "number") {
          replicas.set(name, n);
          generation.set(name, (generation.get(name) as number) + 1);
        }
      }
      return json(200, scaleObj(name));
    }
    return json(200, deployment(name));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    replicas,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

function kubeconfig(dir: string, url: string): string {
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${url}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: runner\ncurrent-context: fake\nusers:\n- name: runner\n  user:\n    token: fake-token\n`,
  );
  return file;
}

/**
 * A kubectl on PATH: `port-forward` goes to a stand-in (records its arguments, refuses any flag or shape
 * kubectl would not take here, serves /debug/pprof/* on a free port, logs when it is closed); everything else
 * goes to the real kubectl.
 */
function kubectlShim(dir: string): { bin: string; calls: string } {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const calls = join(dir, "port-forward.log");
  const standIn = join(dir, "port-forward.mjs");
  writeFileSync(
    standIn,
    `import { createServer } from "node:http";
import { appendFileSync } from "node:fs";
const args = process.argv.slice(2);
const log = (s) => appendFileSync(${JSON.stringify(calls)}, s + "\\n");
// kubectl [-n NS] port-forward TYPE/NAME [LOCAL]:REMOTE; port-forward's own flags: --address, --pod-running-timeout.
const known = new Set(["-n", "--namespace", "--address", "--pod-running-timeout", "--kubeconfig", "--context"]);
const rest = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a.startsWith("-")) {
    const name = a.split("=")[0];
    if (!known.has(name)) { process.stderr.write("error: unknown flag: " + name + "\\n"); process.exit(1); }
    if (!a.includes("=")) i++;
  } else rest.push(a);
}
if (rest[0] !== "port-forward" || !/^pod\\/[a-z0-9-]+$/.test(rest[1] ?? "") || !/^\\d*:\\d+$/.test(rest[2] ?? "") || rest.length !== 3) {
  process.stderr.write("error: bad port-forward arguments: " + args.join(" ") + "\\n"); process.exit(1);
}
const pod = rest[1].slice(4);
log("open " + pod + " " + args.join(" "));
const server = createServer((req, res) => {
  log("get " + pod + " " + req.url);
  if (!req.url.startsWith("/debug/pprof/")) { res.writeHead(404); return res.end(); }
  res.writeHead(200, { "content-type": "application/octet-stream" });
  res.end("pprof " + pod + " " + req.url);
}).listen(0, "127.0.0.1", () => process.stdout.write("Forwarding from 127.0.0.1:" + server.address().port + " -> 6060\\n"));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => { log("closed " + pod); process.exit(0); });
`,
  );
  writeFileSync(join(bin, "kubectl"), `#!/bin/sh\nfor a in "$@"; do if [ "$a" = port-forward ]; then exec node ${JSON.stringify(standIn)} "$@"; fi; done\nexec ${REAL_KUBECTL} "$@"\n`);
  chmodSync(join(bin, "kubectl"), 0o755);
  return { bin, calls };
}

const TSX = join(ROOT, "node_modules/.bin/tsx");

/** Runs a script without blocking this process (the fake API answers from it). */
function run(script: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [join(ROOT, "scripts", script), ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function until<T>(what: string, f: () => T | undefined, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const PODS: Pod[] = [
  { name: "coder-7f9c-a", labels: { "app.kubernetes.io/name": "coder" }, log: "coderd a\n" },
  { name: "coder-7f9c-b", labels: { "app.kubernetes.io/name": "coder" }, log: "coderd b\n" },
  { name: "coder-provisioner-5d-x", labels: { "app.kubernetes.io/name": "coder-provisioner" }, log: "provisioner\n" },
  { name: "scaletest-k3x9q2-0", labels: { app: "workspace" }, log: "workspace 0\n" },
  { name: "postgres-0", labels: { app: "postgres" }, log: "not ours\n" },
];

test("gather-logs: coderd, provisioners and scaletest- pods since the run started, into <run>/logs/", { skip, timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "scaletest-logs-"));
  const api = await fakeApi("coder", PODS, {});
  try {
    const runDir = join(dir, "results/k3x9q2");
    const env = { KUBECONFIG: kubeconfig(dir, api.url), SCALETEST_CODER_NAMESPACE: "coder", SCALETEST_KUBECTL: REAL_KUBECTL };
    const r = await run("gather-logs.ts", ["--run-dir", runDir, "--since-time", "2025-01-01T00:00:00Z"], env);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(join(runDir, "logs")).sort(), ["coder-7f9c-a.txt", "coder-7f9c-b.txt", "coder-provisioner-5d-x.txt", "scaletest-k3x9q2-0.txt"]);
    assert.equal(readFileSync(join(runDir, "logs/coder-7f9c-a.txt"), "utf8"), "coderd a\n");
    const logCalls = api.requests.filter((q) => q.path.endsWith("/log"));
    assert.equal(logCalls.length, 4);
    for (const q of logCalls) {
      assert.equal(q.query.get("sinceTime"), "2025-01-01T00:00:00Z");
      assert.ok(Number(q.query.get("limitBytes")) > 0, "each log is capped");
    }
    assert.ok(!api.requests.some((q) => q.path.includes("postgres")), "other pods are not read");
    // Bad input: one clear message, exit 2, nothing read.
    const bad = await run("gather-logs.ts", ["--run-dir", runDir, "--since-time", "yesterday"], env);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--since-time must be an RFC 3339 time/);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("scale-provisioners: up to the create concurrency with the old count recorded, restored at the end and by cleanup after a kill", { skip, timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "scaletest-prov-"));
  const api = await fakeApi("coder", PODS, { "coder-provisioner": 2 });
  try {
    const results = join(dir, "results");
    const env = { KUBECONFIG: kubeconfig(dir, api.url), SCALETEST_CODER_NAMESPACE: "coder", SCALETEST_KUBECTL: REAL_KUBECTL, SCALETEST_RESULTS_DIR: results, SCALETEST_CREATE_CONCURRENCY: "7" };
    const up = await run("scale-provisioners.ts", ["up", "--run-id", "aaa111"], env);
    assert.equal(up.status, 0, up.stderr);
    assert.equal(api.replicas.get("coder-provisioner"), 7, "scaled to the create concurrency");
    const record = JSON.parse(readFileSync(join(results, "aaa111/state/provisioners.json"), "utf8")) as { previousReplicas: number; scaledTo: number };
    assert.deepEqual([record.previousReplicas, record.scaledTo], [2, 7]);
    assert.match(up.stdout, /2 -> 7 replicas/);
    assert.ok(api.requests.some((q) => q.method === "PATCH" && q.path.endsWith("/deployments/coder-provisioner/scale")), "kubectl scale went through the scale subresource");
    const restore = await run("scale-provisioners.ts", ["restore", "--run-id", "aaa111"], env);
    assert.equal(restore.status, 0, restore.stderr);
    assert.equal(api.replicas.get("coder-provisioner"), 2, "restored at the end");
    assert.ok(existsSync(join(results, "aaa111/state/provisioners-restored.json")) && !existsSync(join(results, "aaa111/state/provisioners.json")));
    assert.match((await run("scale-provisioners.ts", ["restore", "--run-id", "aaa111"], env)).stdout, /nothing/, "restoring twice does nothing");

    // A run killed after scaling up: the process dies with the record in place; cleanup's hook restores it.
    const child = spawn(TSX, [join(ROOT, "scripts/scale-provisioners.ts"), "up", "--run-id", "bbb222", "--replicas", "9"], { env: { ...process.env, ...env }, stdio: "ignore" });
    // Listened for from the start: the child may finish on its own before the kill (it hung the test once).
    const exited = new Promise((r) => child.once("exit", r));
    await until("the scale-up", () => (api.replicas.get("coder-provisioner") === 9 ? true : undefined));
    child.kill("SIGKILL");
    await exited;
    assert.ok(existsSync(join(results, "bbb222/state/provisioners.json")), "the killed run left its record");
    const cleanup = await run("scale-provisioners.ts", ["restore-all"], env);
    assert.equal(cleanup.status, 0, cleanup.stderr);
    assert.match(cleanup.stdout, /restored for bbb222/);
    assert.equal(api.replicas.get("coder-provisioner"), 2, "cleanup restored the count from before the killed run");
    // The template's cleanup paths call the hook (next start after a crash, stop, manual cleanup).
    for (const f of ["startup.sh", "shutdown.sh"]) assert.match(readFileSync(join(ROOT, "template", f), "utf8"), /scale-provisioners\.ts restore-all/, f);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("orchestration fails soft: no kubectl, or a missing permission, is a warning in the run folder and exit 0", { skip, timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "scaletest-soft-"));
  const api = await fakeApi("coder", PODS, { "coder-provisioner": 2 }, true);
  try {
    const runDir = join(dir, "results/ccc333");
    const base = { KUBECONFIG: kubeconfig(dir, api.url), SCALETEST_CODER_NAMESPACE: "coder" };
    const missing = await run("scale-provisioners.ts", ["up", "--run-dir", runDir], { ...base, SCALETEST_KUBECTL: join(dir, "no-such-kubectl") });
    assert.equal(missing.status, 0, missing.stderr);
    assert.match(readFileSync(join(runDir, "orchestration-warnings.txt"), "utf8"), /kubectl is not installed/);
    const denied = await run("gather-logs.ts", ["--run-dir", runDir, "--since-time", "2025-01-01T00:00:00Z"], { ...base, SCALETEST_KUBECTL: REAL_KUBECTL });
    assert.equal(denied.status, 0, denied.stderr);
    assert.match(readFileSync(join(runDir, "orchestration-warnings.txt"), "utf8"), /logs: permission missing/);
    assert.ok(!readFileSync(join(runDir, "orchestration-warnings.txt"), "utf8").includes("fake-token"));
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("pprof: captures per coderd replica on the interval, an annotation each, and stops (forwards closed) with the run", { skip, timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "scaletest-pprof-"));
  const api = await fakeApi("coder", PODS, {});
  const grafana: string[] = [];
  const gserver = createServer(async (req, res) => {
    let b = "";
    for await (const c of req) b += c;
    grafana.push(`${req.method} ${req.url} ${b}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: grafana.length, message: "Annotation added" }));
  });
  await new Promise<void>((r) => gserver.listen(0, "127.0.0.1", () => r()));
  try {
    const { bin, calls } = kubectlShim(dir);
    const runDir = join(dir, "results/k3x9q2");
    const child = spawn(TSX, [join(ROOT, "scripts/pprof.ts"), "--run-dir", runDir, "--interval", "500ms", "--cpu-seconds", "1", "--trace-seconds", "1"], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        KUBECONFIG: kubeconfig(dir, api.url),
        SCALETEST_CODER_NAMESPACE: "coder",
        GRAFANA_URL: `http://127.0.0.1:${(gserver.address() as AddressInfo).port}`,
        GRAFANA_API_TOKEN: "grafana-secret",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const replicas = ["coder-7f9c-a", "coder-7f9c-b"];
    const heaps = (r: string) => (existsSync(join(runDir, "pprof", r)) ? readdirSync(join(runDir, "pprof", r)).filter((f) => f.startsWith("heap-")) : []);
    await until("two rounds per replica", () => (replicas.every((r) => heaps(r).length >= 2) ? true : undefined));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    assert.equal(code, 0, out);
    for (const r of replicas) {
      const files = readdirSync(join(runDir, "pprof", r));
      for (const p of ["allocs", "block", "heap", "goroutine", "mutex", "profile"]) assert.ok(files.some((f) => f.startsWith(`${p}-`) && f.endsWith(".pb.gz")), `${r}: ${p}`);
      assert.ok(files.some((f) => /^trace-\d+\.trace$/.test(f)), `${r}: trace`);
      const heap = heaps(r).sort();
      assert.equal(readFileSync(join(runDir, "pprof", r, heap[0] as string), "utf8"), `pprof ${r} /debug/pprof/heap`);
      const times = heap.map((f) => Number(/heap-(\d+)/.exec(f)?.[1]));
      assert.ok((times[1] as number) - (times[0] as number) >= 500, `captures at least the interval apart (${times.join(", ")})`);
    }
    const log = readFileSync(calls, "utf8");
    assert.ok(!existsSync(join(runDir, "pprof", "postgres-0")), "only coderd replicas");
    for (const r of replicas) {
      assert.equal(log.split("\n").filter((l) => l.startsWith(`open ${r} `)).length, 1, `one port-forward per replica for the whole run (${r})`);
      assert.match(log, new RegExp(`closed ${r}\\n`), `the port-forward to ${r} is closed when the run stops`);
      assert.match(log, new RegExp(`get ${r} /debug/pprof/profile\\?seconds=1\\n`));
    }
    assert.match(log, /open coder-7f9c-a -n coder port-forward pod\/coder-7f9c-a :6060/);
    const posts = grafana.filter((g) => g.startsWith("POST /api/annotations"));
    assert.ok(posts.length >= 4, `an annotation per capture (${posts.length})`);
    assert.ok(posts.every((p) => p.includes('"pprof"')), "tagged pprof");
  } finally {
    gserver.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the orchestration Role grants what the scripts' kubectl calls used (and port-forward), nothing more", { skip }, async () => {
  assert.ok(ALL_REQUESTS.length > 10, "the tests above ran kubectl");
  const used = new Set<string>(["|pods/portforward|create", "|pods|get"]); // port-forward: GET the pod, then create the stream
  for (const q of ALL_REQUESTS) {
    const m = /^\/(?:api\/v1|apis\/(apps)\/v1)\/namespaces\/[^/]+\/([a-z]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/.exec(q.path);
    if (!m) continue; // discovery, which every authenticated user may read
    const [, group = "", resource, name, sub] = m;
    const verb = q.method === "GET" ? (name ? "get" : q.query.get("watch") === "true" ? "watch" : "list") : q.method === "PATCH" ? "patch" : q.method === "PUT" ? "update" : q.method === "POST" ? "create" : q.method.toLowerCase();
    used.add(`${group}|${sub ? `${resource}/${sub}` : resource}|${verb}`);
  }
  const rbac = await parseHclFile(join(TEMPLATE_DIR, "rbac.tf"));
  const role = (((rbac.resource as Record<string, Record<string, Record<string, unknown>[]>>).kubernetes_role?.orchestration ?? [])[0] ?? {}) as { rule?: { api_groups: string[]; resources: string[]; verbs: string[] }[] };
  const granted = new Set<string>();
  for (const r of role.rule ?? []) for (const g of r.api_groups) for (const res of r.resources) for (const v of r.verbs) granted.add(`${g}|${res}|${v}`);
  const missing = [...used].filter((u) => !granted.has(u));
  assert.deepEqual(missing, [], "every call the scripts made is granted");
  const unused = [...granted].filter((g) => !used.has(g));
  assert.deepEqual(unused, [], "the Role grants nothing the scripts do not use");
});
