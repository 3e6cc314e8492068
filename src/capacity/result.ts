// capacity.json and the one-line verdict: the knee (largest step that met every threshold), the threshold
// that broke at the first failing step and by how much.
import type { CapacityLoad } from "../config/settings/capacity.ts";
import { CAPACITY_SCHEMA, type CapacityBreak, type CapacityResult, type CapacityStep, type PhaseRecord, type ThresholdRow } from "../results/schema.ts";
import { formatQuantity } from "../results/units.ts";
import { parseThreshold } from "../thresholds/parse.ts";
import type { SearchSpec, StopReason } from "./schedule.ts";

export const CAPACITY_FILE = "capacity.json";

const NOUN: Record<CapacityLoad, [string, string]> = {
  builds: ["concurrent build", "concurrent builds"],
  workspaces: ["workspace", "workspaces"],
  "web-terminal": ["web-terminal connection", "web-terminal connections"],
  ssh: ["SSH connection", "SSH connections"],
  app: ["app connection", "app connections"],
  dashboard: ["dashboard user", "dashboard users"],
};

/** "1,400 web-terminal connections". */
export function loadText(load: CapacityLoad, n: number): string {
  const [one, many] = NOUN[load];
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

export function nounOf(load: CapacityLoad): string {
  return NOUN[load][1];
}

/** How far a failing row is past its limit, in percent of the limit (null: no data, or a limit of 0). */
export function excessPct(row: ThresholdRow): number | null {
  if (row.observed === null || row.limit === 0) return null;
  let op: string;
  try {
    op = parseThreshold(row.expression).op;
  } catch {
    op = "<";
  }
  const over = op.startsWith(">") ? (row.limit - row.observed) / Math.abs(row.limit) : (row.observed - row.limit) / Math.abs(row.limit);
  return Math.round(over * 10_000) / 100;
}

/**
 * The threshold that broke at a step: of the failing rows, the one furthest past its limit (all are judged at
 * the step's end, so "first" is the worst); a row with no data comes last.
 */
export function brokenThreshold(load: number, rows: readonly ThresholdRow[]): CapacityBreak | null {
  const failed = rows.filter((r) => !r.ok).map((r) => ({ r, x: excessPct(r) }));
  if (!failed.length) return null;
  failed.sort((a, b) => (b.x ?? -Infinity) - (a.x ?? -Infinity));
  const { r, x } = failed[0]!;
  return { load, expression: r.expression, metric: r.metric, observed: r.observed, limit: r.limit, unit: r.unit, excess_pct: x, failed_label: r.failed_label };
}

/** "web-terminal tick p99" from "web-terminal.tick.p99<100ms". */
function measureText(b: CapacityBreak): string {
  let stat: string | null = null;
  try {
    stat = parseThreshold(b.expression).stat;
  } catch {
    // the metric name alone
  }
  return `${b.metric.replace(/\./g, " ").replace(/_/g, " ")}${stat ? ` ${stat}` : ""}${b.failed_label ? ` (${b.failed_label})` : ""}`;
}

/** "web-terminal tick p99 was 142ms > 100ms". */
export function breakText(b: CapacityBreak): string {
  const what = measureText(b);
  if (b.observed === null) return `${what} had no data (limit ${formatQuantity(b.limit, b.unit)})`;
  const rel = b.observed > b.limit ? ">" : b.observed < b.limit ? "<" : "=";
  return `${what} was ${formatQuantity(b.observed, b.unit)} ${rel} ${formatQuantity(b.limit, b.unit)}`;
}

/** The console's one line: "holds 1,400 web-terminal connections; at 1,600 web-terminal tick p99 was 142ms > 100ms". */
export function summaryLine(load: CapacityLoad, knee: number | null, firstBad: number | null, broke: CapacityBreak | null, stoppedBy: StopReason, failedText: string | null): string {
  const holds = knee === null ? `holds no step: not even ${loadText(load, firstBad ?? 0)}` : `holds ${loadText(load, knee)}`;
  if (firstBad !== null) {
    const why = broke ? breakText(broke) : (failedText ?? "the step failed");
    return knee === null ? `${holds}; ${why}` : `${holds}; at ${firstBad.toLocaleString("en-US")} ${why}`;
  }
  if (knee === null) return `no step completed (${stoppedBy === "signal" ? "stopped by a signal" : (failedText ?? stoppedBy)})`;
  if (stoppedBy === "max") return `${holds}: every step up to the maximum met every threshold`;
  if (stoppedBy === "schedule-end") return `${holds}: every step of the schedule met every threshold`;
  return `${holds} (search ${stoppedBy === "signal" ? "stopped by a signal" : `ended: ${failedText ?? stoppedBy}`})`;
}

/** One step of capacity.json from its phase record. */
export function stepOf(step: number, load: number, rec: PhaseRecord, dir: string | null, ok: boolean): CapacityStep {
  return {
    step,
    load,
    phase: rec.phase,
    dir,
    status: rec.status,
    ok,
    started_at: rec.started_at,
    ended_at: rec.ended_at,
    thresholds: rec.thresholds,
    broke: ok ? null : brokenThreshold(load, rec.thresholds),
    error: rec.error ?? (rec.interrupted_by ? `interrupted by ${rec.interrupted_by}` : null),
  };
}

export function buildCapacityResult(o: {
  runId: string;
  load: CapacityLoad;
  spec: SearchSpec;
  holdMs: number;
  steps: CapacityStep[];
  knee: number | null;
  firstBad: number | null;
  stoppedBy: StopReason;
}): CapacityResult {
  const bad = o.firstBad === null ? undefined : o.steps.find((s) => s.load === o.firstBad && !s.ok);
  const broke = bad?.broke ?? null;
  const failedText = bad ? (bad.error ?? (bad.status === "fail" ? "units failed" : bad.status)) : (o.steps.find((s) => s.error)?.error ?? null);
  return {
    schema: CAPACITY_SCHEMA,
    run_id: o.runId,
    load: o.load,
    noun: nounOf(o.load),
    mode: o.spec.mode,
    spec: { steps: [...o.spec.steps], start: o.spec.start, step: o.spec.step, max: o.spec.max, resolution: o.spec.resolution, hold_ms: o.holdMs },
    steps: o.steps,
    knee: o.knee,
    first_bad: o.firstBad,
    broke,
    stopped_by: o.stoppedBy,
    summary: summaryLine(o.load, o.knee, o.firstBad, broke, o.stoppedBy, failedText),
  };
}
