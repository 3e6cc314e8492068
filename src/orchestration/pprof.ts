// pprof from every coderd replica during a run (Coder's runner: a port-forward to each coderd pod's 6060 and,
// every few minutes, allocs, block, heap, goroutine, mutex, a CPU profile and a trace). Captures land in
// <run>/pprof/<replica>/<profile>-<unix ms>.<ext>, with an annotation per capture. Fails soft.
import { constants, mkdirSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { request } from "undici";
import { $, within, type ProcessPromise } from "zx";
import { listPods, safeName, warn, type Kube } from "./kubectl.ts";

export interface Profile {
  name: string;
  path: string;
  ext: string;
}

export function profiles(cpuSeconds: number, traceSeconds: number): Profile[] {
  return [
    ...["allocs", "block", "heap", "goroutine", "mutex"].map((name) => ({ name, path: `/debug/pprof/${name}`, ext: "pb.gz" })),
    { name: "profile", path: `/debug/pprof/profile?seconds=${cpuSeconds}`, ext: "pb.gz" },
    { name: "trace", path: `/debug/pprof/trace?seconds=${traceSeconds}`, ext: "trace" },
  ];
}

/** Largest profile kept (a trace of a busy coderd is tens of MB). */
export const PROFILE_LIMIT_BYTES = 256 * 1024 * 1024;

interface Forward {
  pod: string;
  port: number;
  proc: ProcessPromise;
  done: boolean;
}

/** `kubectl port-forward pod/<pod> :6060`; resolves with the local port kubectl picked, or null after a warning. */
async function portForward(k: Kube, pod: string, timeoutMs = 30_000): Promise<Forward | null> {
  const proc = within(() => {
    $.verbose = false;
    $.quiet = true;
    return $({ nothrow: true })`${k.kubectl} -n ${k.namespace} port-forward ${`pod/${pod}`} :6060`;
  });
  const fw: Forward = { pod, port: 0, proc, done: false };
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const port = await new Promise<number | null>((resolve) => {
    let out = "";
    const timer = setTimeout(() => resolve(null), timeoutMs);
    proc.stdout.on("data", (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void proc.then((o) => {
      fw.done = true;
      clearTimeout(timer);
      if (o.exitCode === 127) stderr = "ENOENT";
      else if (o.exitCode !== 0 && !stderr) stderr = o.message;
      resolve(null);
    });
  });
  if (port === null) {
    warn(k, "pprof", `port-forward to pod/${pod}:6060 failed: ${/ENOENT/.test(stderr) ? "kubectl is not installed" : stderr.trim().split("\n").slice(-2).join(" ") || "no port within 30s"}`);
    stop(fw);
    return null;
  }
  fw.port = port;
  return fw;
}

function stop(fw: Forward): void {
  if (!fw.done) void fw.proc.kill("SIGTERM").catch(() => {});
  fw.done = true;
}

/** Saves one profile, capped at `limit` bytes (a partial file is removed). */
async function save(url: string, file: string, limit: number, timeoutMs: number): Promise<void> {
  const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`HTTP ${res.statusCode}`);
  }
  let n = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      cb(n > limit ? new Error(`larger than ${limit} bytes`) : null, chunk);
    },
  });
  try {
    // Never through a symlink planted where the profile goes.
    const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    await pipeline(res.body, cap, fh.createWriteStream());
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  }
}

export interface PprofOptions {
  intervalMs: number;
  signal: AbortSignal;
  cpuSeconds?: number;
  traceSeconds?: number;
  /** Label selector of the coderd pods. */
  selector?: string;
  /** Called after each replica's capture (Grafana annotation); never throws. */
  annotate?: (text: string) => Promise<void>;
  limitBytes?: number;
}

export interface PprofStats {
  rounds: number;
  captures: number;
  failures: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** Captures every `intervalMs` until `signal` aborts; port-forwards are opened per replica and closed at the end. */
export async function collectPprof(k: Kube, o: PprofOptions): Promise<PprofStats> {
  const stats: PprofStats = { rounds: 0, captures: 0, failures: 0 };
  const forwards = new Map<string, Forward>();
  const list = profiles(o.cpuSeconds ?? 10, o.traceSeconds ?? 5);
  try {
    while (!o.signal.aborted) {
      stats.rounds++;
      const pods = (await listPods(k, "pprof", o.selector ?? "app.kubernetes.io/name=coder")) ?? [];
      for (const pod of pods.filter((p) => p.phase === "Running" || p.phase === "")) {
        if (o.signal.aborted) break;
        let fw = forwards.get(pod.name);
        if (!fw || fw.done) {
          const opened = await portForward(k, pod.name);
          if (!opened) {
            stats.failures++;
            continue;
          }
          fw = opened;
          forwards.set(pod.name, fw);
        }
        const replica = safeName(pod.name);
        const dir = join(k.runDir, "pprof", replica);
        mkdirSync(dir, { recursive: true });
        const at = Date.now();
        let ok = 0;
        for (const p of list) {
          try {
            await save(`http://127.0.0.1:${fw.port}${p.path}`, join(dir, `${p.name}-${at}.${p.ext}`), o.limitBytes ?? PROFILE_LIMIT_BYTES, 60_000 + 1000 * Math.max(o.cpuSeconds ?? 10, o.traceSeconds ?? 5));
            ok++;
          } catch (e) {
            stats.failures++;
            warn(k, "pprof", `${replica} ${p.name}: ${(e as Error).message}`);
          }
        }
        stats.captures += ok;
        if (ok > 0 && o.annotate) await o.annotate(`pprof: ${ok} profiles from ${replica}`);
      }
      // Replicas gone since the last round: close their forwards.
      for (const [name, fw] of forwards) {
        if (!pods.some((p) => p.name === name)) {
          stop(fw);
          forwards.delete(name);
        }
      }
      await sleep(o.intervalMs, o.signal);
    }
  } finally {
    for (const fw of forwards.values()) stop(fw);
    await Promise.allSettled([...forwards.values()].map((f) => f.proc));
  }
  return stats;
}
