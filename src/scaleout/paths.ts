// Where shard results live and how a run's scale-out objects are named and labelled.
import { join } from "node:path";

/** `<resultsDir>/<runId>/<phase>/shards` */
export function shardsDir(resultsDir: string, runId: string, phase: string): string {
  return join(resultsDir, runId, phase, "shards");
}

/** `<resultsDir>/<runId>/<phase>/shards/<i>.json`: the shard's JSON output (same layout locally and in pods). */
export function shardResultPath(resultsDir: string, runId: string, phase: string, index: number | string): string {
  return join(shardsDir(resultsDir, runId, phase), `${index}.json`);
}

/** `--results-dir` of shard i: its own folder, so N shards never overwrite each other's result.json/phase.log. */
export function shardWorkDir(resultsDir: string, runId: string, phase: string, index: number | string): string {
  return join(shardsDir(resultsDir, runId, phase), String(index));
}

export const LABEL_RUN_ID = "scaletest.coder.com/run-id";
export const LABEL_PHASE = "scaletest.coder.com/phase";
export const LABEL_JOB = "scaletest.coder.com/job";
export const LABEL_APP = "app.kubernetes.io/name";
/** `app.kubernetes.io/name` of shard pods (the template's PodMonitor for shards selects it). */
export const SHARD_APP = "coder-scaletest-shard";
/** Set by the Job controller on each pod of an Indexed Job. */
export const COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";

/** DNS-1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric, at most `max` chars. */
export function dnsLabel(s: string, max = 63): string {
  const out = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, max)
    .replace(/-+$/, "");
  if (!out) throw new Error(`cannot make a Kubernetes name from "${s}"`);
  return out;
}

/**
 * The Job of one phase of one run: `scaletest-<runId>-<phase>`. Kept to 52 characters: pods of an Indexed Job
 * are named `<job>-<index>-<suffix>` and their hostname `<job>-<index>` must stay a valid 63-char label.
 */
export function jobName(runId: string, phase: string): string {
  return dnsLabel(`scaletest-${runId}-${phase}`, 52);
}

/** The Secret that carries a phase's secret settings (owned by the Job, deleted with it). */
export function secretName(runId: string, phase: string): string {
  return `${jobName(runId, phase)}-env`;
}

/** Label selector of everything a run created (`scaletest.coder.com/run-id=<runId>`). */
export function runSelector(runId: string): string {
  return `${LABEL_RUN_ID}=${runId}`;
}

/** `<dir>/<i>.json` -> `<dir>/<i>.status.json`: the shard's exit status, written next to its result. */
export function shardStatusPath(resultFile: string): string {
  return resultFile.replace(/\.json$/, "") + ".status.json";
}
