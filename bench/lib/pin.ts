/**
 * CPU pinning for the peer benchmark: the tool under test on one core, the far end (echo server) and the
 * harness itself on another, with `taskset`, so the echo work never competes with the tool for its core.
 * Without it, on a 2-core machine the echo server's CPU lands on the tool's core half the time and its lag
 * is queueing for the CPU, not the tool's own work.
 *
 * Tools are started as `taskset -c <toolCpus> node ...` (every thread and child inherits the mask from the
 * first instruction); the echo server is forked (it needs IPC) and pinned right after with
 * `taskset -a -p -c <farCpus> <pid>` (all its threads; children it starts later inherit). The plan is
 * recorded in the results document as it was applied, or why it was not.
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";

export interface PinPlan {
  /** taskset CPU lists, e.g. "0" and "1"; empty when unpinned */
  tool: string;
  farEnd: string;
  /** where the harness (sampler, step control) runs: the far end's CPUs, off the tool's */
  harness: string;
  method: string;
  /** why the run is not pinned (no taskset, one CPU, --no-pin) */
  unpinned?: string;
}

/** The CPUs this process may run on (its affinity mask), from `taskset -pc`; undefined when unknown. */
export function allowedCpus(): number[] | undefined {
  const r = spawnSync("taskset", ["-pc", String(process.pid)], { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  const list = /:\s*([\d,\-\s]+)$/.exec(r.stdout.trim())?.[1];
  return list ? parseCpuList(list) : undefined;
}

/** "0-2,5" -> [0, 1, 2, 5] */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`not a CPU list: "${list}" (expected e.g. 0,1 or 0-3)`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/**
 * The plan: `--pin TOOL:FAR` (CPU lists, e.g. "0:1") as asked, otherwise the first allowed CPU for the tool
 * and the rest for the far end. Unpinned when asked (`spec === "none"`), or when taskset or a second CPU is
 * missing (the reason is recorded).
 */
export function planPinning(spec: string | undefined): PinPlan {
  const unpinned = (why: string): PinPlan => ({ tool: "", farEnd: "", harness: "", method: "none", unpinned: why });
  if (spec === "none") return unpinned("--pin none");
  const cpus = allowedCpus();
  if (!cpus) return unpinned("taskset is not available (util-linux); tool and far end share every core");
  if (spec) {
    const m = /^([\d,\-]+):([\d,\-]+)$/.exec(spec);
    if (!m) throw new Error(`--pin: expected TOOL_CPUS:FAR_CPUS such as 0:1 (or "none"), got "${spec}"`);
    const tool = parseCpuList(m[1]!);
    const far = parseCpuList(m[2]!);
    for (const c of [...tool, ...far]) {
      if (!cpus.includes(c)) throw new Error(`--pin: CPU ${c} is not one this process may use (${cpus.join(",")})`);
    }
    if (tool.some((c) => far.includes(c))) throw new Error(`--pin: the tool's and the far end's CPUs overlap (${spec})`);
    return { tool: m[1]!, farEnd: m[2]!, harness: m[2]!, method: "taskset" };
  }
  if (cpus.length < 2) return unpinned(`only ${cpus.length} CPU available (nproc ${availableParallelism()}): nothing to separate`);
  const tool = String(cpus[0]);
  const far = cpus.slice(1).join(",");
  return { tool, farEnd: far, harness: far, method: "taskset" };
}

/** Command + args that start `cmd args` on the plan's tool CPUs (unchanged when unpinned). */
export function onToolCpus(plan: PinPlan, cmd: string, args: string[]): { cmd: string; args: string[] } {
  if (!plan.tool) return { cmd, args };
  return { cmd: "taskset", args: ["-c", plan.tool, cmd, ...args] };
}

/** Moves a running process (all its threads) onto `cpus`; throws with taskset's own words when it fails. */
export function pinProcess(pid: number, cpus: string): void {
  if (!cpus) return;
  const r = spawnSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(`taskset -a -p -c ${cpus} ${pid} failed: ${r.error?.message ?? r.stderr.trim()}`);
  }
}

/** The CPU list a process runs on now (for the record), or "?" when it cannot be read. */
export function affinityOf(pid: number): string {
  const r = spawnSync("taskset", ["-pc", String(pid)], { encoding: "utf8" });
  return r.status === 0 ? (/:\s*(.+)$/.exec(r.stdout.trim())?.[1] ?? "?") : "?";
}
