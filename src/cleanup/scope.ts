// What a cleanup may touch: what the strict ownership rule (src/util/ownership.ts) gives to one run,
// or to any run with --all — exact `scaletest-<run-id>-<digits>` names, users with the scale test's
// email, workspaces owned by such a user of the same run (or by the runner) — and never the runner's
// own user. The API's search filters only narrow the listing (Coder's name: filter is a substring match).
import type { CoderClient } from "../coder/client.ts";
import type { Template, User, Workspace } from "../coder/types.ts";
import { BadInputError } from "../util/errors.ts";
import { ALL_PREFIX, parseResourceName, runPrefix } from "../util/naming.ts";
import { listOwnedTemplates, listOwnedWorkspaces, loadOwnership, type Ownership, type RunSelector } from "../util/ownership.ts";

export interface CleanupScope {
  prefix: string;
  runId: string | null;
  all: boolean;
  /** --template: only workspaces of this template (and users left with no other workspace); null = any. */
  template: string | null;
  /** "run k3x9q2" or "every scale-test run". */
  describe: string;
}

/** Exactly one of runId / all; throws a clear error otherwise. */
export function cleanupScope(opts: { runId?: string | undefined; all?: boolean | undefined; template?: string | undefined }): CleanupScope {
  const template = opts.template?.trim() || null;
  const of = template ? `, template ${template}` : "";
  const runId = opts.runId?.trim() || undefined;
  if (opts.all && runId) {
    throw new BadInputError("give either --run-id (one run) or --all (every scaletest- resource), not both");
  }
  if (opts.all) return { prefix: ALL_PREFIX, runId: null, all: true, template, describe: `every scale-test run (prefix scaletest-${of})` };
  if (!runId) {
    throw new BadInputError("nothing to clean up: give --run-id <id> (one run's resources) or --all (every scaletest- resource)");
  }
  const prefix = runPrefix(runId); // validates the id
  return { prefix, runId, all: false, template, describe: `run ${runId} (prefix ${prefix}${of})` };
}

/** The name check every deletion passes: exactly `scaletest-<run-id>-<digits>`, of the scope's run (any run with --all). */
export function inScope(scope: CleanupScope, name: string): boolean {
  const parsed = parseResourceName(name);
  return parsed !== null && name.startsWith(ALL_PREFIX) && name.startsWith(scope.prefix) && (scope.all || parsed.runId === scope.runId);
}

export interface FoundResources {
  workspaces: Workspace[];
  users: User[];
  /** Templates the run created (name and marker, src/util/ownership.ts). */
  templates: Template[];
  /** The verified owners behind the lists: every later re-check asks it again. */
  ownership: Ownership;
}

/** The ownership selector of a scope: one run, or the union over every run (--all). */
export function scopeSelector(scope: CleanupScope): RunSelector {
  return scope.all || scope.runId === null ? { all: true } : { runId: scope.runId };
}

/**
 * The scope's workspaces and users under the strict ownership rule (src/util/ownership.ts), sorted by
 * name: a name match alone is never enough. The runner itself is never listed as a user to delete.
 */
export async function findResources(client: CoderClient, scope: CleanupScope, runner: User, signal?: AbortSignal): Promise<FoundResources> {
  const ownership = await loadOwnership(client, scopeSelector(scope), runner, signal);
  const owned = (await listOwnedWorkspaces(client, ownership, signal)).filter((ws) => inScope(scope, ws.name));
  // --template (Coder's cleanup flag): that template's workspaces; a user still owning another one stays.
  const workspaces = scope.template ? owned.filter((ws) => ofTemplate(ws, scope.template!)) : owned;
  const keepOwners = new Set(owned.filter((ws) => !workspaces.includes(ws)).map((ws) => ws.owner_id));
  const users = [...ownership.users.values()].filter((u) => inScope(scope, u.username) && u.id !== runner.id && !keepOwners.has(u.id));
  const templates = (await listOwnedTemplates(client, scopeSelector(scope), signal)).filter((t) => inScope(scope, t.name));
  const byName = (a: { name?: string; username?: string }, b: { name?: string; username?: string }) =>
    (a.name ?? a.username ?? "").localeCompare(b.name ?? b.username ?? "");
  // Listing while deleting shifts offsets; we list fully first, so duplicates cannot happen, but be safe.
  return {
    workspaces: dedupe(workspaces, (w) => w.id).sort(byName),
    users: dedupe(users, (u) => u.id).sort(byName),
    templates: dedupe(templates, (t) => t.id).sort(byName),
    ownership,
  };
}

/** A workspace of template `t` (its name, or its id). */
export function ofTemplate(ws: Workspace, t: string): boolean {
  return ws.template_name === t || ws.template_id === t;
}

function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => (seen.has(key(t)) ? false : (seen.add(key(t)), true)));
}
