// Everything autostart checks and decides before it creates anything: the options (Coder's 2-minute
// minimum delay, the count's bounds), then the template and parameters through create-workspaces'
// planCreate (which also refuses a run id already in use).
import type { CoderClient } from "../coder/client.ts";
import { CreateInputError, MAX_COUNT, planCreate } from "../create/plan.ts";
import type { CreatePlan } from "../create/types.ts";
import { formatDuration } from "../config/duration.ts";
import { indexWidth, resourceName, validateRunId } from "../util/naming.ts";
import { BadInputError } from "../util/errors.ts";
import { MIN_AUTOSTART_DELAY_MS } from "./schedule.ts";
import type { AutostartOptions } from "./types.ts";

/** Bad input found before anything was created. */
export class AutostartInputError extends BadInputError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1 ? `autostart: ${problems[0]}` : `autostart: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "AutostartInputError";
  }
}

export function checkOptions(o: AutostartOptions): string[] {
  const p: string[] = [];
  try {
    validateRunId(o.runId);
  } catch (e) {
    p.push((e as Error).message);
  }
  if (!Number.isInteger(o.workspaceCount) || o.workspaceCount < 1 || o.workspaceCount > MAX_COUNT) {
    p.push(`--workspace-count must be a whole number from 1 to ${MAX_COUNT}; got ${o.workspaceCount}`);
  }
  if (!(o.autostartDelayMs >= MIN_AUTOSTART_DELAY_MS)) {
    p.push(
      `--autostart-delay must be at least ${formatDuration(MIN_AUTOSTART_DELAY_MS)} (Coder's minimum: schedules are minute-granular); ` +
        `got ${Number.isFinite(o.autostartDelayMs) ? formatDuration(o.autostartDelayMs) : String(o.autostartDelayMs)}`,
    );
  }
  if (!(o.autostartTimeoutMs > 0)) p.push("--autostart-timeout must be positive");
  if (!(o.workspaceJobTimeoutMs > 0)) p.push("--workspace-job-timeout must be positive");
  if (!o.template.trim()) p.push("--template is required: the template (name or id) to create the workspaces from");
  return p;
}

export interface AutostartPlan {
  create: CreatePlan;
}

/** Validates everything without creating anything; throws AutostartInputError listing the problems. */
export async function planAutostart(client: CoderClient, o: AutostartOptions): Promise<AutostartPlan> {
  const problems = checkOptions(o);
  if (problems.length) throw new AutostartInputError(problems);
  let create: CreatePlan;
  try {
    create = await planCreate(client, {
      runId: o.runId,
      count: o.workspaceCount,
      template: o.template,
      parameters: o.parameters ?? [],
      concurrency: 0,
      timeoutMs: 0,
      jobTimeoutMs: o.workspaceJobTimeoutMs,
      retry: 0,
      ...(o.userPool ? { userPool: o.userPool } : {}),
    });
  } catch (e) {
    if (e instanceof CreateInputError) throw new AutostartInputError(e.problems);
    throw e;
  }
  if (o.indexOffset) {
    const offset = o.indexOffset;
    const width = indexWidth(offset + o.workspaceCount);
    create = { ...create, names: create.names.map((_, i) => resourceName(o.runId, offset + i, width)) };
  }
  return { create };
}
