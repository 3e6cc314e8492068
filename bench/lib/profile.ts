/**
 * Top self-time functions of a V8 .cpuprofile (as written by `node --cpu-prof`), grouped by function and
 * source location, so a profile can be read (and recorded in bench/README.md) without DevTools.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  pct: number;
}

/**
 * `trim`: leave out the first `startMs` and the last `endMs` of the profile (process start-up and module
 * loading, dials; the drain and closes), so what remains is steady traffic.
 */
export function topSelfTime(
  file: string,
  top = 20,
  root = process.cwd(),
  trim: { startMs: number; endMs: number } = { startMs: 0, endMs: 0 },
): { totalMs: number; busyMs: number; rows: SelfTime[] } {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const from = p.startTime + trim.startMs * 1000;
  const to = p.endTime - trim.endMs * 1000;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    t += p.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample (V8's convention).
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const groups = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const cf = n.callFrame;
    let url = cf.url.replace(/^file:\/\//, "");
    if (url.startsWith("/")) url = relative(root, url);
    const fn = cf.functionName || "(anonymous)";
    if (fn === "(idle)") idle += us;
    const where = url ? `${url}:${cf.lineNumber + 1}` : "";
    const key = `${fn}@${where}`;
    const g = groups.get(key);
    if (g) g.us += us;
    else groups.set(key, { fn, where, us });
  }
  const rows = [...groups.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((g) => ({ fn: g.fn, where: g.where, ms: Math.round(g.us / 1000), pct: Math.round((g.us / total) * 1000) / 10 }));
  return { totalMs: Math.round(total / 1000), busyMs: Math.round((total - idle) / 1000), rows };
}

/** Share of self time in (idle), (garbage collector) and (program), plus the rest, in percent. */
export function formatTopSelfTime(t: { totalMs: number; busyMs?: number; rows: SelfTime[] }): string {
  const lines = [`total sampled ${t.totalMs} ms${t.busyMs !== undefined ? `, busy (not idle) ${t.busyMs} ms` : ""}`, `${"self %".padStart(7)} ${"ms".padStart(7)}  function  (location)`];
  for (const r of t.rows) lines.push(`${r.pct.toFixed(1).padStart(7)} ${String(r.ms).padStart(7)}  ${r.fn}  ${r.where ? `(${r.where})` : ""}`);
  return lines.join("\n");
}
