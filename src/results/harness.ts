// Coder's scale-test harness results, in the exact JSON shape and text format of
// `coder exp scaletest` (scaletest/harness/results.go), so existing tooling that reads Coder's
// results can read ours. Our own additions live in `extra` fields merged into each run object and
// at the top level; Coder's fields are never renamed.

/** One run in Coder's results JSON (plus optional extension fields). */
export interface HarnessRunJSON {
  /** "<test_name>/<id>"; also the key in `runs`. */
  full_id: string;
  /** e.g. "workspacebuild", "workspace-traffic". */
  test_name: string;
  /** Run id within the test, e.g. "0". */
  id: string;
  /** The run's log text (may be empty). */
  logs: string;
  /** Error text (Go's "%+v"), literally "<nil>" on success. */
  error: string;
  /** RFC3339 start time (UTC, millisecond precision). */
  started_at: string;
  /** Go duration string, e.g. "1.5s". */
  duration: string;
  /** Duration in whole milliseconds (truncated, as Go's Duration.Milliseconds()). */
  duration_ms: number;
  /** Extension fields (e.g. per-stage timings) from `extra`. */
  [extra: string]: unknown;
}

/** Coder's harness results JSON (plus optional top-level extension fields). */
export interface HarnessResultsJSON {
  total_runs: number;
  total_pass: number;
  total_fail: number;
  /** Go duration string of the whole harness run. */
  elapsed: string;
  /** Whole milliseconds of the harness run. */
  elapsed_ms: number;
  /** Keyed by full_id. */
  runs: Record<string, HarnessRunJSON>;
  [extra: string]: unknown;
}

/** What Coder writes as the error of a successful run. */
export const NIL_ERROR = "<nil>";

export interface HarnessRunInput {
  testName: string;
  id: string | number;
  startedAt: Date | number | string;
  durationMs: number;
  /** Absent/null/undefined = success. Errors are rendered as their message. */
  error?: unknown;
  logs?: string;
  /** Merged into the run object (must not reuse Coder's field names). */
  extra?: Record<string, unknown>;
}

const CODER_RUN_FIELDS = new Set([
  "full_id",
  "test_name",
  "id",
  "logs",
  "error",
  "started_at",
  "duration",
  "duration_ms",
]);
const CODER_TOP_FIELDS = new Set(["total_runs", "total_pass", "total_fail", "elapsed", "elapsed_ms", "runs"]);

function errorText(err: unknown): string {
  if (err === undefined || err === null) return NIL_ERROR;
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === "string") return err === "" ? "error" : err;
  return String(err);
}

function isoTime(t: Date | number | string): string {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid run start time ${JSON.stringify(t)}`);
  return d.toISOString();
}

function checkExtra(extra: Record<string, unknown> | undefined, reserved: Set<string>, where: string): void {
  for (const k of Object.keys(extra ?? {})) {
    if (reserved.has(k)) throw new Error(`extra field "${k}" in ${where} would overwrite Coder's field of that name; rename it`);
  }
}

/** Collects run results and produces Coder's results JSON. */
export class HarnessResults {
  private readonly runs = new Map<string, HarnessRunJSON>();

  /** Adds one finished run. Throws if the same "<testName>/<id>" was added already. */
  add(run: HarnessRunInput): HarnessRunJSON {
    const id = String(run.id);
    const fullId = `${run.testName}/${id}`;
    if (this.runs.has(fullId)) throw new Error(`duplicate harness run "${fullId}"`);
    checkExtra(run.extra, CODER_RUN_FIELDS, `run "${fullId}"`);
    const durationMs = Math.max(0, run.durationMs);
    const out: HarnessRunJSON = {
      full_id: fullId,
      test_name: run.testName,
      id,
      logs: run.logs ?? "",
      error: errorText(run.error),
      started_at: isoTime(run.startedAt),
      duration: formatGoDuration(durationMs),
      duration_ms: Math.trunc(durationMs),
      ...run.extra,
    };
    this.runs.set(fullId, out);
    return out;
  }

  get size(): number {
    return this.runs.size;
  }

  /** Results JSON; `runs` keys sorted like Go's map marshalling. */
  toJSON(elapsedMs: number, extraTop?: Record<string, unknown>): HarnessResultsJSON {
    if (typeof elapsedMs !== "number" || !Number.isFinite(elapsedMs)) {
      // JSON.stringify(h) would call toJSON("") — make that mistake obvious.
      throw new Error("HarnessResults.toJSON(elapsedMs) needs the harness's elapsed milliseconds: call it explicitly instead of serialising the builder");
    }
    checkExtra(extraTop, CODER_TOP_FIELDS, "the results");
    const keys = [...this.runs.keys()].sort();
    const runs: Record<string, HarnessRunJSON> = {};
    let pass = 0;
    for (const k of keys) {
      const r = this.runs.get(k)!;
      runs[k] = r;
      if (r.error === NIL_ERROR) pass++;
    }
    const elapsed = Math.max(0, elapsedMs);
    return {
      total_runs: keys.length,
      total_pass: pass,
      total_fail: keys.length - pass,
      elapsed: formatGoDuration(elapsed),
      elapsed_ms: Math.trunc(elapsed),
      runs,
      ...extraTop,
    };
  }
}

// ---- Go time.Duration formatting -------------------------------------------------------------

const NS_PER_US = 1000n;
const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/** Prints the fraction of v/10^prec, without trailing zeros (Go's fmtFrac). Returns [text, v / 10^prec]. */
function fmtFrac(v: bigint, prec: number): [string, bigint] {
  let digits = "";
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) digits = digit.toString() + digits;
    v /= 10n;
  }
  return [print ? "." + digits : "", v];
}

/** Formats nanoseconds exactly like Go's time.Duration.String(). */
export function formatGoDurationNs(ns: bigint): string {
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < NS_PER_S) {
    if (u === 0n) return "0s";
    let prec: number;
    let unit: string;
    if (u < NS_PER_US) {
      prec = 0;
      unit = "ns";
    } else if (u < NS_PER_MS) {
      prec = 3;
      unit = "µs"; // U+00B5, as Go prints it
    } else {
      prec = 6;
      unit = "ms";
    }
    const [frac, rest] = fmtFrac(u, prec);
    out = rest.toString() + frac + unit;
  } else {
    const [frac, secs] = fmtFrac(u, 9);
    u = secs;
    out = (u % 60n).toString() + frac + "s";
    u /= 60n;
    if (u > 0n) {
      out = (u % 60n).toString() + "m" + out;
      u /= 60n;
      if (u > 0n) out = u.toString() + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

/** Formats milliseconds (fractions allowed, rounded to the nanosecond) like Go's time.Duration.String(). */
export function formatGoDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`cannot format duration ${ms}ms`);
  return formatGoDurationNs(BigInt(Math.round(ms * 1e6)));
}

const GO_UNITS_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parses a Go duration string (as printed by Duration.String() or accepted by time.ParseDuration) into nanoseconds; null if invalid. */
export function parseGoDurationNs(text: string): bigint | null {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(text);
  if (text === "0") return 0n;
  if (!m) return null;
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (GO_UNITS_NS[part[2] ?? ""] ?? NaN);
  }
  if (!Number.isFinite(total)) return null;
  const ns = BigInt(Math.round(total));
  return m[1] === "-" ? -ns : ns;
}

// ---- Coder's text format -----------------------------------------------------------------------

/** Coder's `--output text`: a block per failed run, then the totals (Results.PrintText). */
export function formatHarnessText(res: HarnessResultsJSON): string {
  let out = "";
  let totalNs = 0n;
  const keys = Object.keys(res.runs).sort();
  for (const key of keys) {
    const run = res.runs[key]!;
    totalNs += parseGoDurationNs(run.duration) ?? BigInt(run.duration_ms) * NS_PER_MS;
    if (run.error === NIL_ERROR) continue;
    out += `\n== FAIL: ${run.full_id}\n\n`;
    out += `\tError: ${run.error}\n\n`;
    out += "\tLog:\n";
    // Go drops a final line without "\n"; we keep it (it is usually the most useful one).
    const lines = run.logs.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    for (const line of lines) out += `\t\t${line}\n`;
  }
  out += "\n\nTest results:\n";
  if (res.total_runs === 0) return out + "\tNo tests run\n";
  out += `\tPass:  ${res.total_pass}\n`;
  out += `\tFail:  ${res.total_fail}\n`;
  out += `\tTotal: ${res.total_runs}\n`;
  out += "\n";
  const elapsedNs = parseGoDurationNs(res.elapsed) ?? BigInt(res.elapsed_ms) * NS_PER_MS;
  out += `\tTotal duration: ${formatGoDurationNs(elapsedNs)}\n`;
  out += `\tAvg. duration:  ${formatGoDurationNs(totalNs / BigInt(res.total_runs))}\n`;
  return out;
}
