/**
 * CPU and memory of a load process, read from /proc so every tool (ours, raw ws, Artillery's CLI) is measured
 * the same way from outside, without its cooperation.
 *
 * CPU = utime + stime of the process and all its descendants (Artillery runs its VUs in a worker thread, which
 * /proc/<pid>/stat already includes; tsx's esbuild service is a child process). Sampled every `everyMs` so the
 * harness can take the CPU spent inside the traffic window only (tool start-up and shutdown excluded) by
 * interpolating between samples. RSS is the root process's (VmRSS now, VmHWM = peak).
 */
import { readFileSync, readdirSync } from "node:fs";

/** Linux USER_HZ; 100 on every mainstream kernel (getconf CLK_TCK). */
const CLK_TCK = 100;

export interface ProcSample {
  /** epoch ms */
  at: number;
  /** user+sys seconds of the process tree so far */
  cpuS: number;
  rssBytes: number;
  peakRssBytes: number;
}

function statOf(pid: number): { ppid: number; ticks: number } | undefined {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces or parentheses: fields restart after the last ")".
  const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
  // rest[0] = state (field 3), so field n is rest[n - 3].
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return { ppid, ticks: utime + stime };
}

function memOf(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string): number => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(s);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** The pid and every live descendant. */
function treeOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = statOf(pid);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(pid);
    else children.set(st.ppid, [pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

export function sampleProcess(pid: number): ProcSample | undefined {
  const root = statOf(pid);
  if (!root) return undefined;
  let ticks = 0;
  for (const p of treeOf(pid)) ticks += statOf(p)?.ticks ?? 0;
  const mem = memOf(pid);
  return { at: Date.now(), cpuS: ticks / CLK_TCK, rssBytes: mem.rss, peakRssBytes: mem.hwm };
}

/** Samples `pid` every `everyMs` until `stop()`; the samples keep what was read while the process lived. */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.take();
    this.timer = setInterval(() => this.take(), everyMs);
  }

  private take(): void {
    const s = sampleProcess(this.pid);
    if (s) this.samples.push(s);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** CPU seconds at epoch ms `at`, linearly interpolated between the samples around it. */
  cpuAt(at: number): number {
    const s = this.samples;
    if (s.length === 0) return 0;
    if (at <= s[0]!.at) return s[0]!.cpuS;
    for (let i = 1; i < s.length; i++) {
      const b = s[i]!;
      if (b.at >= at) {
        const a = s[i - 1]!;
        const f = b.at === a.at ? 1 : (at - a.at) / (b.at - a.at);
        return a.cpuS + f * (b.cpuS - a.cpuS);
      }
    }
    return s[s.length - 1]!.cpuS;
  }

  /** Highest peak RSS seen (VmHWM of the last sample, which is monotonic). */
  peakRss(): number {
    let m = 0;
    for (const x of this.samples) m = Math.max(m, x.peakRssBytes, x.rssBytes);
    return m;
  }

  /** RSS of the last sample taken at or before `at` (the idle footprint before traffic). */
  rssBefore(at: number): number {
    let r = this.samples[0]?.rssBytes ?? 0;
    for (const x of this.samples) {
      if (x.at > at) break;
      r = x.rssBytes;
    }
    return r;
  }
}
