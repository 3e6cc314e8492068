// The headline figures a reader looks for first — workspaces ready, provisioning p95, tick p99 per traffic
// kind, dashboard page p95, errors — each with the threshold it was judged by and how close it came
// ("provisioning p95 4.2s of 2m"). Taken from the phase records' headline figures and threshold rows; every
// threshold row no figure covers gets its own card, so a failed threshold always shows at the top.
// Failed cards come first. Shared by report.html and report.md.
import { formatLimit, formatValue } from "./format.ts";
import type { ReportModel, ReportPhase, ReportThreshold } from "./model.ts";

export interface HeadlineCard {
  /** Stable id, e.g. "create-workspaces:provisioning-p95". */
  id: string;
  phase: string;
  label: string;
  /** The figure as shown, e.g. "4.2s" or "4 of 4". */
  value: string;
  /** The threshold expression judging it, or null when none did. */
  expression: string | null;
  /** The limit as the user wrote it, e.g. "2m"; null without a threshold. */
  limit: string | null;
  /** "4.2s of 2m (3% of the limit)"; "no threshold" without one. */
  closeness: string;
  /** null when no threshold judged it. */
  ok: boolean | null;
  /** Observed / limit for "<" limits, limit / observed for ">" limits (1 = at the limit); null when unknown. */
  usage: number | null;
  /** The label value that failed (labelled metrics). */
  failedLabel: string | null;
}

function headValue(p: ReportPhase, label: string): number | null {
  return p.headline.find((h) => h.label === label)?.value ?? null;
}

function usageOf(t: ReportThreshold): number | null {
  if (t.observed === null) return null;
  if (t.direction === "lower") return t.limit > 0 ? t.observed / t.limit : t.observed > 0 ? Infinity : 0;
  return t.observed > 0 ? t.limit / t.observed : t.limit > 0 ? Infinity : 1;
}

function closeness(t: ReportThreshold): string {
  const obs = formatValue(t.unit, t.observed);
  const lim = formatLimit(t.unit, t.limit);
  if (t.observed === null) return `no data (limit ${lim})`;
  const u = usageOf(t);
  const pct = u !== null && Number.isFinite(u) && t.limit !== 0 ? ` (${Math.round(u * 100)}% of the limit)` : "";
  const op = /(<=|>=|==|<|>)/.exec(t.expression)?.[1] ?? "";
  return t.direction === "lower" ? `${obs} of ${op}${lim}${pct}` : `${obs}, limit ${op}${lim}`;
}

function card(p: ReportPhase, key: string, label: string, value: string, t: ReportThreshold | undefined): HeadlineCard {
  return {
    id: `${p.name}:${key}`,
    phase: p.name,
    label,
    value,
    expression: t?.expression ?? null,
    limit: t ? formatLimit(t.unit, t.limit) : null,
    closeness: t ? closeness(t) : "no threshold",
    ok: t ? t.ok : null,
    usage: t ? usageOf(t) : null,
    failedLabel: t?.failed_label ?? null,
  };
}

const TRAFFIC_PREFIX = /^(.*)-traffic$/;

/** The run's headline cards, failed thresholds first, then in phase order. */
export function headlineCards(model: ReportModel): HeadlineCard[] {
  const cards: HeadlineCard[] = [];
  const used = new Set<ReportThreshold>();
  const take = (p: ReportPhase, test: (t: ReportThreshold) => boolean) => {
    const t = p.thresholds.find((x) => !used.has(x) && test(x));
    if (t) used.add(t);
    return t;
  };
  let errors = 0;
  let errorsKnown = false;
  const errorThresholds: ReportThreshold[] = [];
  for (const p of model.phases) {
    if (p.kind === "create") {
      const ready = headValue(p, "ready") ?? p.totals.pass;
      const of = headValue(p, "of") ?? p.totals.runs;
      const success = take(p, (t) => t.metric === "create.success_rate");
      cards.push(card(p, "ready", "workspaces ready", `${ready} of ${of}`, success));
      const prov = take(p, (t) => t.metric === "create.provision" && /\.p95/.test(t.expression));
      const v = prov?.observed ?? headValue(p, "p95");
      cards.push(card(p, "provisioning-p95", "provisioning p95", formatValue("ms", v), prov));
      const e = headValue(p, "errors");
      if (e !== null) (errors += e), (errorsKnown = true);
    } else if (p.kind === "traffic") {
      const kind = TRAFFIC_PREFIX.exec(p.runner ?? p.name)?.[1] ?? p.name;
      const tick = take(p, (t) => t.metric === `${kind}.tick` && /\.p99/.test(t.expression));
      const v = tick?.observed ?? headValue(p, "p99");
      cards.push(card(p, "tick-p99", `${kind} tick p99`, formatValue("ms", v), tick));
      const e = headValue(p, "failed connections");
      if (e !== null) (errors += e), (errorsKnown = true);
      const et = take(p, (t) => /error_rate/.test(t.metric));
      if (et) errorThresholds.push(et);
    } else if (p.kind === "dashboard") {
      const page = take(p, (t) => t.metric === "dashboard.page" && /\.p95/.test(t.expression));
      const v = page?.observed ?? headValue(p, "page p95");
      cards.push(card(p, "page-p95", "dashboard page p95", formatValue("ms", v), page));
      const e = headValue(p, "failed views");
      if (e !== null) (errors += e), (errorsKnown = true);
      const et = take(p, (t) => /error_rate/.test(t.metric));
      if (et) errorThresholds.push(et);
    }
  }
  if (errorsKnown || errorThresholds.length) {
    // One errors card: failed creates + failed connections + failed page views, judged by every error-rate
    // threshold (it fails when any of them does; the closest one is shown).
    const worst = [...errorThresholds].sort((a, b) => Number(a.ok) - Number(b.ok) || (usageOf(b) ?? 0) - (usageOf(a) ?? 0))[0];
    const c: HeadlineCard = {
      id: "run:errors",
      phase: "run",
      label: "errors",
      value: errorsKnown ? String(errors) : "-",
      expression: worst?.expression ?? null,
      limit: worst ? formatLimit(worst.unit, worst.limit) : null,
      closeness: worst
        ? `${errorThresholds.length > 1 ? `${errorThresholds.length} error-rate limits; ` : ""}${worst.phase}: ${closeness(worst)}`
        : "no threshold",
      ok: errorThresholds.length ? errorThresholds.every((t) => t.ok) : null,
      usage: worst ? usageOf(worst) : null,
      failedLabel: worst?.failed_label ?? null,
    };
    cards.push(c);
  }
  // Every other threshold row gets its own card (a failed one must never hide in the table below).
  for (const p of model.phases) {
    for (const t of p.thresholds) {
      if (used.has(t) || errorThresholds.includes(t)) continue;
      used.add(t);
      cards.push(card(p, t.expression, t.expression.replace(/(<=|>=|==|<|>).*$/, ""), formatValue(t.unit, t.observed), t));
    }
  }
  // Failed first (stable otherwise).
  return cards.map((c, i) => ({ c, i })).sort((a, b) => Number(a.c.ok !== false) - Number(b.c.ok !== false) || a.i - b.i).map(({ c }) => c);
}

/** Threshold rows, failed first (then in phase order). */
export function thresholdsFailedFirst(model: ReportModel): ReportThreshold[] {
  return model.thresholds.map((t, i) => ({ t, i })).sort((a, b) => Number(a.t.ok) - Number(b.t.ok) || a.i - b.i).map(({ t }) => t);
}
