// run.json: what ran, when, against what, with which settings (secrets removed). Rewritten at every phase
// boundary so a crash leaves an accurate record of the phases that did run.
import { publicConfig, type Config } from "../config/index.ts";
import type { ResultsDir } from "../results/dir.ts";
import type { ApiBlock } from "../coder/stats.ts";
import { RUN_FILE } from "../results/dir.ts";
import type { PhaseStatus } from "../results/summary.ts";
import type { Plan } from "./plan.ts";

export const RUN_RECORD_SCHEMA = "scaletest-runinfo/v1";

export interface PhaseEntry {
  /** Phase name, e.g. "create-workspaces", "baseline", "ssh-traffic". */
  name: string;
  /** Folder under the run folder holding result.json/summary.txt/phase.log, or null (waits). */
  dir: string | null;
  text: string;
  started_at: string;
  ended_at: string | null;
  status: PhaseStatus | "running";
}

export interface RunRecord {
  schema: typeof RUN_RECORD_SCHEMA;
  run_id: string;
  /** Deployment URL, Coder version and scenarios again at the top level, where the report reads them. */
  url: string;
  coder_version: string | null;
  scenarios: string[];
  /** "running" until the pipeline ends; then pass | fail | interrupted | error. */
  status: "running" | "pass" | "fail" | "interrupted" | "error";
  started_at: string;
  ended_at: string | null;
  comment: string;
  dry_run: boolean;
  coder: { url: string; version: string | null; external_url: string | null; runner_user: string | null };
  versions: { runner: string; node: string };
  /** Every setting as resolved; secrets shown as "[set]" / "[unset]". */
  config: Record<string, unknown>;
  plan: Plan;
  phases: PhaseEntry[];
  /** Faults outside the deployment that never stop the run (Grafana, webhook), counted. */
  integration_failures: { grafana: number; webhook: number; banner: number };
  exit_code: number | null;
  /** Every API call the run made (all phases, preflight and token handling), with retries by cause. */
  api?: ApiBlock;
}

export class RunRecorder {
  readonly record: RunRecord;

  constructor(
    private readonly dir: ResultsDir,
    init: { config: Config; plan: Plan; runnerVersion: string; startedAt: Date },
  ) {
    const c = init.config;
    this.record = {
      schema: RUN_RECORD_SCHEMA,
      run_id: c.runId,
      url: c.url,
      coder_version: null,
      scenarios: [...c.scenarios],
      status: "running",
      started_at: init.startedAt.toISOString(),
      ended_at: null,
      comment: c.comment,
      dry_run: c.dryRun,
      coder: { url: c.url, version: null, external_url: null, runner_user: null },
      versions: { runner: init.runnerVersion, node: process.version },
      config: publicConfig(c),
      plan: init.plan,
      phases: [],
      integration_failures: { grafana: 0, webhook: 0, banner: 0 },
      exit_code: null,
    };
  }

  save(): void {
    this.dir.writeJSON(RUN_FILE, this.record);
  }

  startPhase(name: string, text: string, dir: string | null): PhaseEntry {
    const entry: PhaseEntry = { name, dir, text, started_at: new Date().toISOString(), ended_at: null, status: "running" };
    this.record.phases.push(entry);
    this.save();
    return entry;
  }

  endPhase(entry: PhaseEntry, status: PhaseStatus): void {
    entry.ended_at = new Date().toISOString();
    entry.status = status;
    this.save();
  }

  finish(status: RunRecord["status"], exitCode: number): void {
    this.record.status = status;
    this.record.exit_code = exitCode;
    this.record.ended_at = new Date().toISOString();
    this.save();
  }
}
