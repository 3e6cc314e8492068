// The results contract: run.json, every phase's result.json and summary.json, written with zod so the
// writers are typed from the same schema every reader (report, status, compare, shard merge) validates
// with. Fields are snake_case like Coder's harness JSON. Bump SCHEMA_VERSION when a field changes meaning.
import { readFileSync } from "node:fs";
import { z } from "zod";

export const SCHEMA_VERSION = 2;
export const PHASE_SCHEMA = "scaletest-phase/v2";
export const SUMMARY_SCHEMA = "scaletest-run/v2";
export const RUN_INFO_SCHEMA = "scaletest-runinfo/v2";

const iso = z.string().min(1);
const signalName = z.enum(["SIGINT", "SIGTERM"]);

/** The one latency summary (ms) everywhere: from an HDR histogram, exact max, nulls when empty. */
export const LatencySummary = z.object({
  count: z.number().int().nonnegative(),
  min: z.number().nullable(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
});
export type LatencySummary = z.infer<typeof LatencySummary>;

const Labels = z.record(z.string(), z.string());

/** A latency metric: labelled HDR histograms (microseconds, encoded), with exact figures when known. */
const LatencyMetric = z.object({
  type: z.literal("latency"),
  series: z.array(
    z.object({
      labels: Labels,
      histogram: z.string(),
      exact: z.object({ count: z.number(), sumMs: z.number(), minMs: z.number(), maxMs: z.number() }).optional(),
    }),
  ),
});

/** Counters (summed over labels), gauges (largest) and rates (numerator / denominator, summed parts). */
const ValueMetric = z.object({
  type: z.enum(["counter", "gauge", "rate"]),
  unit: z.enum(["count", "ratio", "bytes", "bytes/s", "ms"]),
  series: z.array(z.object({ labels: Labels, value: z.number(), numerator: z.number().optional(), denominator: z.number().optional() })),
});

export const Metric = z.discriminatedUnion("type", [LatencyMetric, ValueMetric]);
export type EncodedMetric = z.infer<typeof Metric>;
/** Metric name ("create.provision", "ssh.tick", "dashboard.page") -> metric, as results files carry it. */
export const MetricSetJSON = z.record(z.string(), Metric);
export type MetricSetJSON = z.infer<typeof MetricSetJSON>;

/** One evaluated threshold: the expression, what was observed and whether it held. */
export const ThresholdRow = z.object({
  /** The expression as given, e.g. "create.provision.p95<2m". */
  expression: z.string(),
  metric: z.string(),
  /** The value observed (ms for latencies, 0..1 for rates); null = no data. */
  observed: z.number().nullable(),
  /** The limit in the same unit. */
  limit: z.number(),
  unit: z.string(),
  ok: z.boolean(),
  /** Marked to stop the run when it fails. */
  abort: z.boolean(),
  /** The label value that failed (labelled metrics), e.g. "page=workspaces"; null when none did. */
  failed_label: z.string().nullable(),
  /** Where it came from: a preset setting, a --threshold flag, or report.ts overrides. */
  source: z.string(),
});
export type ThresholdRow = z.infer<typeof ThresholdRow>;

/** pass | fail (a threshold missed, units failed) | error (could not run) | interrupted | skipped. */
export const PhaseStatus = z.enum(["pass", "fail", "error", "interrupted", "skipped"]);
export type PhaseStatus = z.infer<typeof PhaseStatus>;

/** Coder's harness results JSON (scaletest/harness/results.go), extra fields kept. */
export const HarnessJSON = z.looseObject({
  total_runs: z.number(),
  total_pass: z.number(),
  total_fail: z.number(),
  elapsed: z.string(),
  elapsed_ms: z.number(),
  runs: z.record(z.string(), z.looseObject({ full_id: z.string(), error: z.string(), duration_ms: z.number() })),
});

/** A headline figure of a phase, shown in the end-of-run summary (e.g. "provisioning p95"). */
export const Headline = z.object({ label: z.string(), value: z.number().nullable(), unit: z.string() });
export type Headline = z.infer<typeof Headline>;

/** The engine's percentile summary (ms; zeros when count is 0). */
const PercentileSummaryJSON = z.object({ count: z.number(), min: z.number(), p50: z.number(), p95: z.number(), p99: z.number(), max: z.number(), mean: z.number() });
const TrafficCounters = {
  bytesWritten: z.number(),
  bytesRead: z.number(),
  readErrors: z.number(),
  writeErrors: z.number(),
  dialErrors: z.number(),
  drops: z.number(),
  reconnects: z.number(),
  ticksSent: z.number(),
  ticksCompleted: z.number(),
  ticksLost: z.number(),
};

/**
 * A traffic run's engine result (src/traffic/result.ts TrafficResult), as a traffic phase record carries it
 * in `extra.traffic` and a shard hands it to the merge. Fields this version does not know are kept.
 */
export const TrafficResultJSON = z.looseObject({
  kind: z.enum(["web-terminal", "ssh", "app", "mixed"]),
  mode: z.string(),
  shard: z.string().optional(),
  // jobConcurrency: absent in results written before it existed, which ran every connection at once (0).
  settings: z.looseObject({ bytesPerTick: z.number(), tickIntervalMs: z.number(), durationMs: z.number(), rampMs: z.number(), reconnect: z.boolean(), jobConcurrency: z.number().int().min(0).default(0) }),
  startedAt: iso,
  endedAt: iso,
  durationMs: z.number(),
  endReason: z.enum(["duration", "aborted"]),
  totals: z.looseObject({ connections: z.number(), ...TrafficCounters }),
  latency: z.object({ tick: PercentileSummaryJSON, dial: PercentileSummaryJSON }),
  histograms: z.object({ tick: z.string(), dial: z.string() }),
  perConnection: z.array(
    z.looseObject({
      ...TrafficCounters,
      target: z.looseObject({ workspaceId: z.string(), workspaceName: z.string(), ownerName: z.string(), agentId: z.string(), agentName: z.string(), index: z.number() }),
      shard: z.string().optional(),
      dialMs: z.number().nullable(),
      tickLatency: PercentileSummaryJSON,
      errors: z.array(z.string()),
      status: z.enum(["ok", "dropped", "error"]),
    }),
  ),
  errors: z.array(z.looseObject({ target: z.string(), message: z.string(), at: z.string(), shard: z.string().optional() })),
  errorsOmitted: z.number(),
  timeline: z.array(
    z.looseObject({ t: z.number(), bytesWritten: z.number(), bytesRead: z.number(), ticks: z.number(), p95: z.number(), max: z.number(), hist: z.string().optional() }),
  ),
});
export type TrafficResultJSON = z.infer<typeof TrafficResultJSON>;

/** extra.notifications of a notifications phase record (src/notifications/phase.ts). */
export const NotificationsExtraJSON = z.looseObject({
  users: z.number(),
  template_admins: z.number(),
  regular_users: z.number(),
  smtp: z.boolean(),
  setup_ms: z.number(),
  barrier_ms: z.number().nullable(),
  trigger: z.looseObject({
    template_name: z.string(),
    template_id: z.string().nullable(),
    triggered_at: z.number().nullable(),
    steps_ms: z.record(z.string(), z.number()),
    error: z.string().nullable(),
  }),
  receipts: z.record(z.enum(["websocket", "smtp"]), z.object({ expected: z.number(), received: z.number(), missing: z.number() })),
  errors_by_action: z.record(z.string(), z.number()),
});
export type NotificationsExtraJSON = z.infer<typeof NotificationsExtraJSON>;

/** The websocket counts in extra.dashboard of a dashboard phase record (api mode; src/dashboard/recorder.ts). */
export const DashboardSocketsJSON = z.record(
  z.string(),
  z.object({ opened: z.number(), failed: z.number(), held: z.number(), ended: z.number() }),
);
export type DashboardSocketsJSON = z.infer<typeof DashboardSocketsJSON>;

/** `<NN>-<phase>/result.json`. */
export const PhaseRecord = z.object({
  schema: z.literal(PHASE_SCHEMA),
  run_id: z.string(),
  /** Phase name, e.g. "create-workspaces", "ssh-traffic", "baseline". */
  phase: z.string(),
  /** The runner (load type) that produced it, or null for waits and pipeline steps. */
  runner: z.string().nullable(),
  /** 1 for the first run of this phase in this run id, 2 for a rerun, ... */
  attempt: z.number().int().positive(),
  status: PhaseStatus,
  started_at: iso,
  ended_at: iso,
  duration_ms: z.number(),
  /** Go duration string of duration_ms. */
  duration: z.string(),
  /** Time the load actually ran (ms): rates are over this, so an interrupted phase is not diluted. */
  active_ms: z.number(),
  interrupted_by: signalName.nullable(),
  /** The abort threshold that stopped the phase, or null. */
  aborted_by: z.string().nullable(),
  error: z.string().nullable(),
  totals: z.object({ runs: z.number(), pass: z.number(), fail: z.number() }),
  /** Latency summaries per stage/metric for tables and charts (ms). */
  stages: z.record(z.string(), LatencySummary),
  headline: z.array(Headline),
  metrics: MetricSetJSON,
  /** The threshold expressions the phase was judged with (report.ts re-evaluates them). */
  expressions: z.array(z.string()),
  thresholds: z.array(ThresholdRow),
  /** Settings the runner used, by flag name, as a user types them ("--duration": "5m"). */
  settings: z.record(z.string(), z.string()),
  /** First errors, capped. */
  errors: z.array(z.string()),
  harness: HarnessJSON.nullable(),
  /** Runner-specific data (traffic result, dashboard pages, create build times, cleanup lists). */
  extra: z.record(z.string(), z.unknown()),
});
export type PhaseRecord = z.infer<typeof PhaseRecord>;

/** One phase in summary.json: the record minus metrics, harness and extra. */
export const SummaryPhase = PhaseRecord.pick({
  phase: true,
  runner: true,
  attempt: true,
  status: true,
  started_at: true,
  ended_at: true,
  duration_ms: true,
  active_ms: true,
  interrupted_by: true,
  aborted_by: true,
  error: true,
  totals: true,
  stages: true,
  headline: true,
  thresholds: true,
}).extend({ dir: z.string().nullable() });
export type SummaryPhase = z.infer<typeof SummaryPhase>;

/** summary.json. */
export const RunSummary = z.object({
  schema: z.literal(SUMMARY_SCHEMA),
  run_id: z.string(),
  /** pass: every phase passed or was skipped; fail: some phase failed or errored; interrupted: a stop signal. */
  status: z.enum(["pass", "fail", "interrupted"]),
  started_at: iso,
  ended_at: iso,
  duration_ms: z.number(),
  duration: z.string(),
  interrupted_by: signalName.nullable(),
  phases: z.array(SummaryPhase),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunPhaseEntry = z.object({
  name: z.string(),
  /** Folder under the run folder (result.json, summary.txt, phase.log), or null (waits). */
  dir: z.string().nullable(),
  text: z.string(),
  started_at: iso,
  ended_at: iso.nullable(),
  status: z.union([PhaseStatus, z.literal("running")]),
});
export type RunPhaseEntry = z.infer<typeof RunPhaseEntry>;

/** run.json: what ran, when, against what, with which settings (secrets shown as [set]/[unset]). */
export const RunInfo = z.object({
  schema: z.literal(RUN_INFO_SCHEMA),
  run_id: z.string(),
  /** "pipeline" (scripts/run.ts) or "scenarios" (scenario scripts run by hand). */
  origin: z.enum(["pipeline", "scenarios"]),
  url: z.string(),
  coder_version: z.string().nullable(),
  scenarios: z.array(z.string()),
  status: z.enum(["running", "pass", "fail", "interrupted", "error"]),
  started_at: iso,
  ended_at: iso.nullable(),
  comment: z.string(),
  dry_run: z.boolean(),
  coder: z.object({ url: z.string(), version: z.string().nullable(), external_url: z.string().nullable(), runner_user: z.string().nullable() }),
  versions: z.object({ runner: z.string(), node: z.string() }),
  /** Every setting by flag name, as a user types it ("--duration": "5m"). */
  settings: z.record(z.string(), z.string()),
  plan: z.unknown(),
  phases: z.array(RunPhaseEntry),
  integration_failures: z.object({ grafana: z.number(), webhook: z.number(), banner: z.number() }),
  /** Results writes that failed (a full disk); absent when none did. */
  results_write_failures: z.number().optional(),
  exit_code: z.number().nullable(),
  api: z.unknown().optional(),
});
export type RunInfo = z.infer<typeof RunInfo>;

/** A results file that does not match the schema: says which file and which field. */
/** `capacity.json`: a capacity search's steps, its knee and what broke (src/capacity). */
export const CAPACITY_SCHEMA = "scaletest-capacity/v1";

/** The threshold that broke at a step: the failing one furthest past its limit. */
export const CapacityBreak = z.object({
  load: z.number(),
  expression: z.string(),
  metric: z.string(),
  /** null = no data. */
  observed: z.number().nullable(),
  limit: z.number(),
  unit: z.string(),
  /** How far past the limit, in percent of the limit (null when there is no data or the limit is 0). */
  excess_pct: z.number().nullable(),
  failed_label: z.string().nullable(),
});
export type CapacityBreak = z.infer<typeof CapacityBreak>;

export const CapacityStep = z.object({
  /** 1-based order in which the search ran it. */
  step: z.number().int().positive(),
  load: z.number(),
  phase: z.string(),
  /** The step's phase folder ("07-capacity-web-terminal-0016"). */
  dir: z.string().nullable(),
  status: PhaseStatus,
  ok: z.boolean(),
  started_at: iso,
  ended_at: iso,
  thresholds: z.array(ThresholdRow),
  broke: CapacityBreak.nullable(),
  /** The step could not run (or was interrupted): why. */
  error: z.string().nullable(),
});
export type CapacityStep = z.infer<typeof CapacityStep>;

export const CapacityResult = z.object({
  schema: z.literal(CAPACITY_SCHEMA),
  run_id: z.string(),
  /** builds, workspaces, web-terminal, ssh, app or dashboard. */
  load: z.string(),
  /** What one unit of load is, plural ("web-terminal connections"). */
  noun: z.string(),
  mode: z.enum(["schedule", "bisect"]),
  spec: z.object({ steps: z.array(z.number()), start: z.number(), step: z.number(), max: z.number(), resolution: z.number(), hold_ms: z.number() }),
  steps: z.array(CapacityStep),
  /** The largest load that met every threshold, or null (none did). */
  knee: z.number().nullable(),
  /** The smallest load that failed, or null (none did). */
  first_bad: z.number().nullable(),
  /** What broke at first_bad. */
  broke: CapacityBreak.nullable(),
  stopped_by: z.enum(["failed-step", "max", "resolution", "schedule-end", "signal", "error"]),
  /** The one-line verdict ("holds 1,400 web-terminal connections; at 1,600 web-terminal tick p99 was 142ms > 100ms"). */
  summary: z.string(),
});
export type CapacityResult = z.infer<typeof CapacityResult>;

export class ResultsFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    detail: string,
  ) {
    super(`${file}: ${field ? `field "${field}"` : "content"}: ${detail}`);
    this.name = "ResultsFileError";
  }
}

/** Validates parsed JSON against a schema, or throws a ResultsFileError naming `file` and the first bad field. */
export function parseResults<S extends z.ZodType>(schema: S, value: unknown, file: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.map(String).join(".");
  const hint =
    value && typeof value === "object" && "schema" in value && typeof (value as { schema: unknown }).schema === "string"
      ? ` (file schema ${(value as { schema: string }).schema}; this version reads ${SCHEMA_VERSION})`
      : "";
  throw new ResultsFileError(file, field, issue.message + hint);
}

/** Reads and validates a results file (see parseResults); a file that is not JSON gets the same error. */
export function readResultsFile<S extends z.ZodType>(schema: S, file: string): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ResultsFileError(file, "", `not valid JSON (${(e as Error).message})`);
  }
  return parseResults(schema, raw, file);
}
