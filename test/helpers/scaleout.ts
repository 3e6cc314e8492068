/**
 * Scale-out test helpers: traffic results built from given latency samples (for exact merge checks), and a
 * fake Kubernetes API on loopback that speaks the batch/v1 Job and v1 Secret/Pod endpoints client-node calls,
 * with a tiny "controller" that turns a created Indexed Job into pods with logs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { KubeConfig } from "@kubernetes/client-node";
import { LatencyHistogram } from "../../src/traffic/histogram.ts";
import { emptyTotals, type ConnectionResult, type TrafficResult } from "../../src/traffic/result.ts";
import { makeTargets } from "./traffic.ts";

export interface ConnSamples {
  index: number;
  /** Tick latencies (ms), one per completed tick. */
  ticks: number[];
  dialMs: number;
}

/** A TrafficResult as the engine would report these connections (bytesPerTick per tick, echo + "\r"). */
export function resultFromSamples(conns: readonly ConnSamples[], bytesPerTick: number, shard?: string): TrafficResult {
  const totals = emptyTotals();
  const tick = new LatencyHistogram(3);
  const dial = new LatencyHistogram(3);
  const targets = makeTargets(Math.max(0, ...conns.map((c) => c.index + 1)), "scaletest-so9-");
  const perConnection: ConnectionResult[] = conns.map((c) => {
    const h = new LatencyHistogram(2);
    for (const v of c.ticks) {
      h.record(v);
      tick.record(v);
    }
    dial.record(c.dialMs);
    const n = c.ticks.length;
    totals.connections++;
    totals.ticksSent += n;
    totals.ticksCompleted += n;
    totals.bytesWritten += n * bytesPerTick;
    totals.bytesRead += n * (bytesPerTick + 1);
    return {
      target: targets[c.index]!,
      bytesWritten: n * bytesPerTick,
      bytesRead: n * (bytesPerTick + 1),
      readErrors: 0, writeErrors: 0, dialErrors: 0, drops: 0, reconnects: 0,
      ticksSent: n, ticksCompleted: n, ticksLost: 0,
      dialMs: c.dialMs,
      tickLatency: h.percentiles(),
      errors: [],
      status: "ok",
    };
  });
  const t0 = "2026-01-01T00:00:00.000Z";
  return {
    kind: "web-terminal",
    mode: "echo",
    ...(shard ? { shard } : {}),
    settings: { bytesPerTick, tickIntervalMs: 100, durationMs: 3000, rampMs: 0, reconnect: false },
    startedAt: t0,
    endedAt: "2026-01-01T00:00:03.000Z",
    durationMs: 3000,
    endReason: "duration",
    totals,
    latency: { tick: tick.percentiles(), dial: dial.percentiles() },
    histograms: { tick: tick.count ? tick.encode() : "", dial: dial.count ? dial.encode() : "" },
    perConnection,
    errors: [],
    errorsOmitted: 0,
    timeline: [],
  };
}

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: any;
}

type Obj = { metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { uid: string }[] }; [k: string]: any };

export interface FakeKubeOptions {
  /** Log of pod `index` (attempt 0); undefined = the pod fails with exit code `failExitCode`. */
  podLog: (index: number, job: Obj) => string | undefined;
  failExitCode?: number;
  /** "complete": status filled on the first read. "never": stays active (timeouts). */
  behaviour?: "complete" | "never";
}

export interface FakeKube {
  url: string;
  kubeConfig: KubeConfig;
  requests: FakeRequest[];
  jobs: Map<string, Obj>;
  secrets: Map<string, Obj>;
  pods: Map<string, Obj>;
  close(): Promise<void>;
}

function selects(selector: string | null, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [k, v] = term.split("=");
    return labels?.[k!] === v;
  });
}

export async function startFakeKube(opts: FakeKubeOptions): Promise<FakeKube> {
  const requests: FakeRequest[] = [];
  const jobs = new Map<string, Obj>();
  const secrets = new Map<string, Obj>();
  const pods = new Map<string, Obj>();
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  const notFound = (res: ServerResponse, what: string) =>
    send(res, 404, { kind: "Status", apiVersion: "v1", status: "Failure", message: `${what} not found`, reason: "NotFound", code: 404 });

  const runController = (job: Obj) => {
    const n: number = job.spec.completions;
    const completed: number[] = [];
    for (let i = 0; i < n; i++) {
      const log = opts.podLog(i, job);
      const name = `${job.metadata.name}-${i}-abcde`;
      pods.set(name, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name,
          namespace: job.metadata.namespace!,
          labels: { ...job.spec.template.metadata.labels, "batch.kubernetes.io/job-name": job.metadata.name },
          annotations: { "batch.kubernetes.io/job-completion-index": String(i) },
        },
        status: log === undefined
          ? { phase: "Failed", containerStatuses: [{ name: "shard", state: { terminated: { exitCode: opts.failExitCode ?? 1, reason: "Error" } } }] }
          : { phase: "Succeeded", containerStatuses: [{ name: "shard", state: { terminated: { exitCode: 0, reason: "Completed" } } }] },
        log: log ?? "boom\n",
      });
      if (log !== undefined) completed.push(i);
    }
    const failed = n - completed.length;
    job.status = {
      succeeded: completed.length,
      failed,
      completedIndexes: completed.join(","),
      conditions: [failed ? { type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" } : { type: "Complete", status: "True" }],
    };
  };

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? "/", "http://x");
    const raw = Buffer.concat(chunks).toString("utf8");
    const body = raw ? JSON.parse(raw) : undefined;
    requests.push({ method: req.method ?? "", path: u.pathname, query: u.searchParams, body });
    const m = /^\/(apis\/batch\/v1|api\/v1)\/namespaces\/([^/]+)\/(jobs|secrets|pods)(?:\/([^/]+))?(\/log)?$/.exec(u.pathname);
    if (!m) return notFound(res, u.pathname);
    const [, , ns, kind, name, log] = m;
    const store = kind === "jobs" ? jobs : kind === "secrets" ? secrets : pods;
    const sel = u.searchParams.get("labelSelector");
    if (req.method === "POST" && !name) {
      const obj = body as Obj;
      if (store.has(obj.metadata.name)) return send(res, 409, { kind: "Status", code: 409, reason: "AlreadyExists", message: `${obj.metadata.name} already exists` });
      obj.metadata.uid = randomUUID();
      obj.metadata.namespace = ns!;
      store.set(obj.metadata.name, obj);
      return send(res, 201, obj);
    }
    if (req.method === "GET" && !name) {
      const items = [...store.values()].filter((o) => o.metadata.namespace === ns && selects(sel, o.metadata.labels));
      return send(res, 200, { apiVersion: kind === "jobs" ? "batch/v1" : "v1", kind: "List", metadata: {}, items: items.map(({ log: _l, ...o }) => o) });
    }
    const obj = name ? store.get(name) : undefined;
    if (!obj) return notFound(res, `${kind}/${name}`);
    if (req.method === "GET" && log) return send(res, 200, obj.log as string);
    if (req.method === "GET") {
      if (kind === "jobs" && !obj.status && (opts.behaviour ?? "complete") === "complete") runController(obj);
      const { log: _l, ...rest } = obj;
      return send(res, 200, rest);
    }
    if (req.method === "DELETE") {
      store.delete(name!);
      if (kind === "jobs") {
        for (const [pn, p] of pods) if (p.metadata.labels?.["batch.kubernetes.io/job-name"] === name) pods.delete(pn);
        for (const [sn, s] of secrets) if (s.metadata.ownerReferences?.some((r) => r.uid === obj.metadata.uid)) secrets.delete(sn);
      }
      return send(res, 200, { kind: "Status", apiVersion: "v1", status: "Success" });
    }
    return send(res, 405, { kind: "Status", code: 405, message: "method not allowed" });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "fake", server: url, skipTLSVerify: true }],
    users: [{ name: "runner", token: "fake-service-account-token" }],
    contexts: [{ name: "fake", cluster: "fake", user: "runner", namespace: "scaletest" }],
    currentContext: "fake",
  });
  return {
    url,
    kubeConfig,
    requests,
    jobs,
    secrets,
    pods,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
