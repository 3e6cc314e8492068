// run.json: what ran, when, against what, with which settings (secrets shown as [set]/[unset]). Rewritten
// at every phase boundary so a crash leaves an accurate record of the phases that did run. A rerun with
// the same run id (pipeline or scenario script) appends its phases to the existing record: nothing is lost.
import { readFileSync } from "node:fs";
import { flagFor, settingEntries, type Config, type ScriptName } from "../config/index.ts";
import { RUN_FILE, type ResultsDir } from "./dir.ts";
import { RUN_INFO_SCHEMA, RunInfo, readResultsFile, type PhaseStatus, type RunPhaseEntry } from "./schema.ts";

/** Every setting by flag name, as a user types it; secrets as [set]/[unset]. */
export function settingsByFlag(c: Config, script: ScriptName = "run", keys?: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, s] of settingEntries()) {
    if (keys && !keys.includes(k)) continue;
    const v = c[k] as unknown;
    const flag = `--${flagFor(s, script)}`;
    if (s.secret) out[flag] = v ? "[set]" : "[unset]";
    else if (v === undefined || v === null) out[flag] = "";
    else out[flag] = (s.show as (x: unknown) => string)(v);
  }
  return out;
}

export function runnerVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export class RunRecorder {
  readonly record: RunInfo;

  /** Opens run.json of `dir`, continuing an existing (valid) record or starting a new one. */
  constructor(
    private readonly dir: ResultsDir,
    init: { config: Config; origin: RunInfo["origin"]; script: ScriptName; plan?: unknown; startedAt: Date },
  ) {
    const c = init.config;
    const prev = dir.exists(RUN_FILE) ? readResultsFile(RunInfo, dir.resolve(RUN_FILE)) : null;
    this.record = {
      schema: RUN_INFO_SCHEMA,
      run_id: c.runId,
      // A pipeline run stays one when scenarios are rerun into it by hand.
      origin: prev?.origin === "pipeline" ? "pipeline" : init.origin,
      url: c.url,
      coder_version: prev?.coder_version ?? null,
      scenarios: init.origin === "pipeline" ? [...c.scenarios] : [...new Set([...(prev?.scenarios ?? []), init.script])],
      status: "running",
      started_at: prev?.started_at ?? init.startedAt.toISOString(),
      ended_at: null,
      comment: c.comment,
      dry_run: c.dryRun,
      coder: prev?.coder ?? { url: c.url, version: null, external_url: null, runner_user: null },
      versions: { runner: runnerVersion(), node: process.version },
      settings: settingsByFlag(c, init.script),
      plan: init.plan ?? prev?.plan ?? null,
      phases: prev?.phases ?? [],
      integration_failures: prev?.integration_failures ?? { grafana: 0, webhook: 0, banner: 0 },
      exit_code: null,
      ...(prev?.api !== undefined ? { api: prev.api } : {}),
    };
  }

  save(): void {
    this.dir.writeJSON(RUN_FILE, this.record);
  }

  startPhase(name: string, text: string, dir: string | null): RunPhaseEntry {
    const entry: RunPhaseEntry = { name, dir, text, started_at: new Date().toISOString(), ended_at: null, status: "running" };
    this.record.phases.push(entry);
    this.save();
    return entry;
  }

  endPhase(entry: RunPhaseEntry, status: PhaseStatus): void {
    entry.ended_at = new Date().toISOString();
    entry.status = status;
    this.save();
  }

  finish(status: RunInfo["status"], exitCode: number): void {
    this.record.status = status;
    this.record.exit_code = exitCode;
    this.record.ended_at = new Date().toISOString();
    this.save();
  }
}
