/**
 * Threshold expressions, as k6 users know them:
 *
 *   <metric>[{<label>:<value>[,<label>:<value>...]} | {*}][.<stat>] <op> <limit>[;abort[=<delay>]][;nodata=pass]
 *
 *   create.provision.p95<2m                     provisioning p95 under two minutes
 *   dashboard.page.p95<500ms                    EVERY page's p95 (fails naming the page)
 *   dashboard.page{page:workspaces}.p95<500ms   one page
 *   dashboard.page{*}.p95<500ms                 all pages together (merged histogram)
 *   ssh.connection_error_rate<=1%               a rate metric: no stat needed
 *   web-terminal.tick.p99<100ms;abort=30s       stop the run when it fails, but not in its first 30 s
 *
 * Metric names contain dots; the last segment is the stat only when it is a known stat (p1..p99, p100, min,
 * max, mean/avg, med, count, rate, value). Operators: < <= > >= ==. Limits: Go durations, percentages,
 * byte sizes (B, kB, KiB, MB, MiB, GB, GiB, optionally /s) or plain numbers.
 * `;abort` marks a threshold that stops the run when it fails during it (k6's abortOnFail); `=<delay>` is
 * k6's delayAbortEval. `;nodata=pass` lets a threshold pass when its metric recorded nothing (default: fail).
 */
import { formatDuration, parseDuration } from "../config/duration.ts";
import { BadInputError } from "../util/errors.ts";
import { parseLimit, type Limit } from "./units.ts";

export type Op = "<" | "<=" | ">" | ">=" | "==";
export const OPS: readonly Op[] = ["<=", ">=", "==", "<", ">"];

/** Which series a threshold looks at. */
export type Selector =
  /** Every label value on its own: the threshold must hold for each. */
  | { kind: "each" }
  /** The series whose labels include all of these (merged when several match). */
  | { kind: "labels"; labels: Readonly<Record<string, string>> }
  /** All series merged into one (histograms merged, counters summed, rates recomputed). */
  | { kind: "all" };

export interface ThresholdSpec {
  /** The expression in canonical form (no spaces, aliases resolved); also how it is shown. */
  expression: string;
  metric: string;
  selector: Selector;
  /** Canonical stat ("p95", "mean", "count", ...), or null for the metric's default (rates, counters, gauges). */
  stat: string | null;
  op: Op;
  limit: Limit;
  /** Stop the run when this fails during it, once `delayMs` of the phase have passed. */
  abort: { delayMs: number } | null;
  /** What a threshold whose metric recorded nothing counts as. */
  noData: "fail" | "pass";
}

/** A threshold expression that cannot be read; names the expression and what is wrong. */
export class ThresholdSyntaxError extends BadInputError {
  constructor(
    readonly expression: string,
    readonly problem: string,
  ) {
    super(`threshold "${expression}": ${problem}`);
    this.name = "ThresholdSyntaxError";
  }
}

const STAT_ALIASES: Record<string, string> = { avg: "mean", med: "p50" };
const NAMED_STATS = new Set(["min", "max", "mean", "count", "rate", "value", "avg", "med"]);
const PERCENTILE = /^p([1-9]\d?|100)$/;

/** True for a known stat name (canonical or alias). */
export function isStat(s: string): boolean {
  return NAMED_STATS.has(s) || PERCENTILE.test(s);
}

/** The percentile of a pN stat, or null. */
export function percentileOf(stat: string): number | null {
  const m = PERCENTILE.exec(stat);
  return m ? Number(m[1]) : null;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const METRIC_HINT = "a metric name is dot-separated words of letters, digits, _ and -, e.g. create.provision";
const LABEL = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const LABEL_VALUE = /^[^\s{}:,;<>=]+$/;

function parseSelector(expr: string, body: string): Selector {
  const t = body.trim();
  if (t === "*") return { kind: "all" };
  if (t === "") throw new ThresholdSyntaxError(expr, "empty {}: write {label:value} for one label value or {*} for all together");
  const labels: Record<string, string> = {};
  for (const part of t.split(",")) {
    const i = part.indexOf(":");
    if (i < 0) throw new ThresholdSyntaxError(expr, `"{${t}}" needs label:value pairs, e.g. {page:workspaces}, or {*}`);
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (!LABEL.test(k)) throw new ThresholdSyntaxError(expr, `"${k}" is not a label name (letters, digits, _ and -)`);
    if (!LABEL_VALUE.test(v)) throw new ThresholdSyntaxError(expr, `label ${k} needs a value without spaces or {}:,;<>=, e.g. {${k}:workspaces}`);
    if (k in labels) throw new ThresholdSyntaxError(expr, `label ${k} is given twice`);
    labels[k] = v;
  }
  return { kind: "labels", labels };
}

function checkMetric(expr: string, metric: string): void {
  if (metric === "") throw new ThresholdSyntaxError(expr, `the metric name is missing: ${METRIC_HINT}`);
  for (const seg of metric.split(".")) {
    if (!SEGMENT.test(seg)) throw new ThresholdSyntaxError(expr, `"${metric}" is not a metric name: ${METRIC_HINT}`);
  }
}

function parseLeft(expr: string, left: string): { metric: string; selector: Selector; stat: string | null } {
  const open = left.indexOf("{");
  let metric: string;
  let selector: Selector = { kind: "each" };
  let stat: string | null = null;
  if (open >= 0) {
    const close = left.indexOf("}", open);
    if (close < 0) throw new ThresholdSyntaxError(expr, `"{" is not closed: write {label:value} or {*}`);
    metric = left.slice(0, open);
    selector = parseSelector(expr, left.slice(open + 1, close));
    const rest = left.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(".") || !isStat(rest.slice(1))) {
        throw new ThresholdSyntaxError(expr, `after the {selector} only .<stat> may follow (p95, p99, max, mean, count, ...), got "${rest}"`);
      }
      stat = rest.slice(1);
    }
  } else {
    if (left.includes("}")) throw new ThresholdSyntaxError(expr, `"}" without "{"`);
    const dot = left.lastIndexOf(".");
    const last = left.slice(dot + 1);
    if (dot > 0 && isStat(last)) {
      metric = left.slice(0, dot);
      stat = last;
    } else metric = left;
  }
  checkMetric(expr, metric);
  if (stat !== null) stat = STAT_ALIASES[stat] ?? stat;
  return { metric, selector, stat };
}

function parseOptions(expr: string, options: string[]): Pick<ThresholdSpec, "abort" | "noData"> {
  let abort: ThresholdSpec["abort"] = null;
  let noData: ThresholdSpec["noData"] = "fail";
  for (const raw of options) {
    const o = raw.trim();
    const [name, value] = o.includes("=") ? [o.slice(0, o.indexOf("=")).trim(), o.slice(o.indexOf("=") + 1).trim()] : [o, undefined];
    if (name === "abort") {
      if (abort) throw new ThresholdSyntaxError(expr, ";abort is given twice");
      let delayMs = 0;
      if (value !== undefined) {
        try {
          delayMs = parseDuration(value);
        } catch {
          throw new ThresholdSyntaxError(expr, `;abort=${value}: the delay must be a duration, e.g. ;abort=30s`);
        }
      }
      abort = { delayMs };
    } else if (name === "nodata") {
      if (value !== "pass" && value !== "fail") throw new ThresholdSyntaxError(expr, `;nodata must be pass or fail, got "${value ?? ""}"`);
      noData = value;
    } else {
      throw new ThresholdSyntaxError(expr, `unknown option ";${o}": use ;abort, ;abort=<delay> or ;nodata=pass`);
    }
  }
  return { abort, noData };
}

function selectorText(s: Selector): string {
  if (s.kind === "each") return "";
  if (s.kind === "all") return "{*}";
  return `{${Object.keys(s.labels)
    .sort()
    .map((k) => `${k}:${s.labels[k]}`)
    .join(",")}}`;
}

/** The canonical expression: no spaces, labels sorted, stat aliases resolved, options in a fixed order. */
export function formatSpec(s: Omit<ThresholdSpec, "expression">): string {
  const opts = [
    ...(s.abort ? [s.abort.delayMs ? `abort=${formatDuration(s.abort.delayMs)}` : "abort"] : []),
    ...(s.noData === "pass" ? ["nodata=pass"] : []),
  ];
  return `${s.metric}${selectorText(s.selector)}${s.stat ? `.${s.stat}` : ""}${s.op}${s.limit.text}${opts.map((o) => `;${o}`).join("")}`;
}

/**
 * What identifies a threshold (metric, selector, and the stat, or `defaultStat` when none is written): a later
 * threshold with the same key replaces it.
 */
export function specKey(s: Pick<ThresholdSpec, "metric" | "selector" | "stat">, defaultStat?: string | null): string {
  return `${s.metric}${selectorText(s.selector)}.${s.stat ?? defaultStat ?? ""}`;
}

/** Parses one expression; throws ThresholdSyntaxError (a BadInputError) naming it and what is wrong. */
export function parseThreshold(text: string): ThresholdSpec {
  const expr = text.trim();
  if (expr === "") throw new ThresholdSyntaxError(text, "empty expression: write e.g. create.provision.p95<2m");
  const [head, ...options] = expr.split(";");
  const h = (head as string).trim();
  // The first operator character splits the metric side from the limit.
  const at = h.search(/[<>=!]/);
  if (at < 0) throw new ThresholdSyntaxError(expr, "no comparison: write <metric>[.<stat>] <op> <limit> with op one of < <= > >= ==, e.g. create.provision.p95<2m");
  const op = OPS.find((o) => h.startsWith(o, at));
  if (!op) {
    throw new ThresholdSyntaxError(expr, `"${h.slice(at, at + 2)}" is not an operator: use one of < <= > >= ==`);
  }
  const right = h.slice(at + op.length);
  if (/[<>=!]/.test(right)) throw new ThresholdSyntaxError(expr, "more than one comparison: write one threshold per expression");
  const left = h.slice(0, at).trim();
  if (/\s/.test(left.replace(/\{[^}]*\}/g, "{}"))) throw new ThresholdSyntaxError(expr, `"${left}" contains spaces: a metric name has none`);
  const { metric, selector, stat } = parseLeft(expr, left);
  let limit: Limit;
  try {
    limit = parseLimit(right);
  } catch (e) {
    throw new ThresholdSyntaxError(expr, (e as Error).message);
  }
  const spec = { metric, selector, stat, op, limit, ...parseOptions(expr, options) };
  return { ...spec, expression: formatSpec(spec) };
}

/**
 * Parses several, each also checked by `check` (null = fine, else what is wrong with it); every bad one is
 * reported in one BadInputError naming the expression.
 */
export function parseThresholds(texts: readonly string[], check: (spec: ThresholdSpec) => string | null = () => null): ThresholdSpec[] {
  const out: ThresholdSpec[] = [];
  const problems: string[] = [];
  for (const t of texts) {
    try {
      const s = parseThreshold(t);
      const p = check(s);
      if (p) problems.push(`threshold "${s.expression}": ${p}`);
      else out.push(s);
    } catch (e) {
      if (!(e instanceof ThresholdSyntaxError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length === 1) throw new BadInputError(problems[0] as string);
  if (problems.length) throw new BadInputError(`${problems.length} bad thresholds:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return out;
}

/**
 * Splits a list of expressions given in one string (an env var): a JSON array of strings (how the template
 * passes list(string)), or expressions separated by newlines or by commas outside {...}.
 */
export function splitThresholdList(raw: string | readonly string[]): string[] {
  if (Array.isArray(raw)) return raw.flatMap((r) => splitThresholdList(r as string));
  const t = (raw as string).trim();
  if (t.startsWith("[")) {
    let arr: unknown;
    try {
      arr = JSON.parse(t);
    } catch {
      throw new BadInputError(`thresholds: not a valid JSON array: ${t}`);
    }
    if (!Array.isArray(arr) || arr.some((x) => typeof x !== "string")) throw new BadInputError("thresholds: must be a JSON array of strings");
    return (arr as string[]).map((s) => s.trim()).filter((s) => s !== "");
  }
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of t) {
    if (ch === "{") depth++;
    else if (ch === "}") depth = Math.max(0, depth - 1);
    if ((ch === "," && depth === 0) || ch === "\n") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== "");
}
