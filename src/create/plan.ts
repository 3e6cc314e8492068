// Everything create-workspaces checks before it creates anything: the options, the runner's
// identity, the template, the parameter values and that the run id is not in use. Problems are
// collected and thrown together as one CreateInputError.
import type { CoderClient } from "../coder/client.ts";
import { CoderApiError } from "../coder/errors.ts";
import type { Organization, Template } from "../coder/types.ts";
import { indexWidth, resourceName, runPrefix, validateRunId } from "../util/naming.ts";
import { BadInputError } from "../util/errors.ts";
import { parseParameterArgs, resolveParameters } from "./params.ts";
import { checkPoolId, selectPoolUsers, UserPoolError } from "../users/pool.ts";
import type { CreateOptions, CreatePlan } from "./types.ts";


/** Largest --count accepted (the config schema's bound). */
export const MAX_COUNT = 5000;

/** Bad input found before anything was created. */
export class CreateInputError extends BadInputError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `create-workspaces: ${problems[0]}`
        : `create-workspaces: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "CreateInputError";
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Problems with the options themselves (no API calls). */
export function checkCreateOptions(o: CreateOptions): string[] {
  const p: string[] = [];
  try {
    validateRunId(o.runId);
  } catch (e) {
    p.push((e as Error).message);
  }
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > MAX_COUNT) {
    p.push(`--count must be a whole number from 1 to ${MAX_COUNT}; got ${o.count}`);
  }
  if (!Number.isInteger(o.concurrency) || o.concurrency < 0) p.push(`--concurrency must be 0 (unlimited) or more; got ${o.concurrency}`);
  if (!Number.isInteger(o.retry) || o.retry < 0) p.push(`--retry must be 0 or more; got ${o.retry}`);
  if (!(o.jobTimeoutMs > 0)) p.push(`--job-timeout must be positive; got ${o.jobTimeoutMs} ms`);
  if (!(o.timeoutMs >= 0)) p.push(`--timeout must be 0 (none) or positive; got ${o.timeoutMs} ms`);
  if (!o.template.trim()) p.push("--template is required: the name of the template to create workspaces from");
  if (o.userPool) {
    p.push(...checkPoolId(o.userPool, o.runId));
    if (o.useHostLogin) p.push("--user-pool and --use-host-login exclude each other: the workspaces are owned either by the pool's users or by the runner");
  }
  const t = o.successThreshold ?? 100;
  if (!(t >= 0 && t <= 100)) p.push(`--success-threshold must be within 0..100; got ${t}`);
  if (o.runCommand && !(o.runTimeoutMs === undefined || o.runTimeoutMs > 0)) p.push("--run-timeout must be positive");
  if (!o.runCommand && (o.runExpectOutput || o.runLogOutput)) {
    p.push("--run-expect-output and --run-log-output need --run-command (the command whose output they check)");
  }
  return p;
}

function apiProblem(what: string, e: unknown): string {
  return `${what}: ${e instanceof Error ? e.message : String(e)}`;
}

async function findTemplate(client: CoderClient, org: Organization, name: string): Promise<Template | string> {
  try {
    return UUID_RE.test(name) ? await client.template(name) : await client.templateByName(org.id, name);
  } catch (e) {
    if (!(e instanceof CoderApiError) || (e.status !== 404 && e.status !== 400 && e.status !== 403)) throw e;
  }
  let known = "";
  try {
    const all = await client.listTemplates();
    known = all.map((t) => t.name).sort().join(", ");
  } catch {
    // the name is what matters
  }
  return (
    `--template ${JSON.stringify(name)} was not found in organization ${JSON.stringify(org.name)}` +
    (known ? `; templates there: ${known}` : "")
  );
}

/**
 * Validates everything and resolves the names, without creating anything. Throws CreateInputError
 * listing every problem; other errors (deployment unreachable, bad token) propagate as they are.
 */
export async function planCreate(client: CoderClient, o: CreateOptions): Promise<CreatePlan> {
  const problems = checkCreateOptions(o);
  const parsed = parseParameterArgs(o.parameters ?? []);
  problems.push(...parsed.problems);
  if (problems.length) throw new CreateInputError(problems);

  const runner = await client.me();
  const organization = await client.defaultOrganization();
  const found = await findTemplate(client, organization, o.template.trim());
  if (typeof found === "string") throw new CreateInputError([found]);
  const template = found;
  if (template.deprecated) {
    problems.push(`--template ${JSON.stringify(template.name)} is deprecated${template.deprecation_message ? ` (${template.deprecation_message})` : ""}: Coder refuses new workspaces from it`);
  }
  let rich;
  try {
    rich = await client.templateVersionRichParameters(template.active_version_id);
  } catch (e) {
    throw new CreateInputError([apiProblem(`reading the parameters of template ${JSON.stringify(template.name)}`, e)]);
  }
  const resolved = resolveParameters(rich, parsed.values, template.name);
  problems.push(...resolved.problems);

  const width = indexWidth(o.count);
  const names: string[] = [];
  try {
    for (let i = 0; i < o.count; i++) names.push(resourceName(o.runId, i, width));
  } catch (e) {
    problems.push((e as Error).message);
  }
  if (problems.length) throw new CreateInputError(problems);

  // A reused run id would collide on names (and mix two runs' results): refuse it.
  const prefix = runPrefix(o.runId);
  const clash: string[] = [];
  for await (const ws of client.iterateWorkspaces({ q: `name:${prefix}` })) {
    if (ws.name.startsWith(prefix)) clash.push(`workspace ${ws.owner_name}/${ws.name}`);
    if (clash.length >= 3) break;
  }
  // With a pool no user of this run is created: only the workspace names must be free.
  if (!o.useHostLogin && !o.userPool && clash.length < 3) {
    for await (const u of client.iterateUsers({ q: prefix })) {
      if (u.username.startsWith(prefix)) clash.push(`user ${u.username}`);
      if (clash.length >= 3) break;
    }
  }
  if (clash.length && !o.planOnly) {
    throw new CreateInputError([
      `run id ${JSON.stringify(o.runId)} is already in use (${clash.join(", ")}${clash.length >= 3 ? ", ..." : ""}): ` +
        `choose another --run-id, or remove that run first with: cleanup --run-id ${o.runId}`,
    ]);
  }
  let poolUsers: CreatePlan["poolUsers"];
  if (o.userPool) {
    try {
      poolUsers = await selectPoolUsers(client, { pool: o.userPool, runId: o.runId, count: o.count });
    } catch (e) {
      if (e instanceof UserPoolError) throw new CreateInputError([e.message]);
      throw e;
    }
  }
  return {
    runId: o.runId, runner, organization, template, templateVersionId: template.active_version_id, parameters: resolved.values, names,
    ...(poolUsers ? { poolUsers } : {}),
  };
}
