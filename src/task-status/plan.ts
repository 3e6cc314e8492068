// Everything task-status checks before it creates anything: the options, the template (through
// create-workspaces' planCreate, which also refuses a run id in use) and, where the deployment says so,
// that the template's active version has a coder_external_agent.
import type { CoderClient } from "../coder/client.ts";
import type { TemplateVersion } from "../coder/types.ts";
import { CreateInputError, planCreate } from "../create/plan.ts";
import type { CreatePlan } from "../create/types.ts";
import { BadInputError } from "../util/errors.ts";
import { indexWidth, resourceName, validateRunId } from "../util/naming.ts";
import type { TaskStatusOptions } from "./types.ts";

export class TaskStatusInputError extends BadInputError {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? `task-status: ${problems[0]}` : `task-status: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "TaskStatusInputError";
  }
}

export function checkOptions(o: TaskStatusOptions): string[] {
  const p: string[] = [];
  try {
    validateRunId(o.runId);
  } catch (e) {
    p.push((e as Error).message);
  }
  if (!Number.isInteger(o.count) || o.count <= 0) p.push(`--count must be greater than 0; got ${o.count}`);
  if (!o.template.trim()) p.push("--template is required: a template with a coder_external_agent and a coder_app");
  if (!/^[a-z0-9](-?[a-z0-9])*$/.test(o.appSlug)) p.push(`--app-slug ${JSON.stringify(o.appSlug)} is not a valid app slug`);
  if (!(o.reportPeriodMs > 0)) p.push("--report-status-period must be positive");
  if (!(o.reportDurationMs >= o.reportPeriodMs)) p.push("--report-status-duration must be at least one --report-status-period (no update would be sent)");
  if (!(o.baselineMs >= 0)) p.push("--baseline-duration must not be negative");
  if (!(o.workspaceTimeoutMs > 0)) p.push("--workspace-timeout must be positive");
  return p;
}

/** Status updates each workspace sends: one per period within the report duration. */
export function updatesPerWorkspace(o: Pick<TaskStatusOptions, "reportPeriodMs" | "reportDurationMs">): number {
  return Math.floor(o.reportDurationMs / o.reportPeriodMs);
}

export async function planTaskStatus(client: CoderClient, o: TaskStatusOptions): Promise<CreatePlan> {
  const problems = checkOptions(o);
  if (problems.length) throw new TaskStatusInputError(problems);
  let create: CreatePlan;
  try {
    create = await planCreate(client, {
      runId: o.runId, count: o.count, template: o.template, parameters: [], concurrency: 0, timeoutMs: 0, jobTimeoutMs: o.workspaceTimeoutMs, retry: 0,
      // Coder's runner creates the workspaces as the caller (POST /users/me/workspaces): no users.
      useHostLogin: true,
    });
  } catch (e) {
    if (e instanceof CreateInputError) throw new TaskStatusInputError(e.problems);
    throw e;
  }
  const version = await client.request<TemplateVersion>("GET", `/templateversions/${encodeURIComponent(create.templateVersionId)}`);
  if (version.has_external_agent === false) {
    throw new TaskStatusInputError([`template ${JSON.stringify(create.template.name)} has no coder_external_agent in its active version: task-status reports status as an external agent`]);
  }
  if (o.indexOffset) {
    const offset = o.indexOffset;
    const width = indexWidth(offset + o.count);
    create = { ...create, names: create.names.map((_, i) => resourceName(o.runId, offset + i, width)) };
  }
  return create;
}
