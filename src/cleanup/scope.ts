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
  /** "run k3x9q2" or "every scale-test run". */
  describe: string;
}

/** Exactly one of runId / all; throws a clear error otherwise. */
export function cleanupScope(opts: { runId?: string | undefined; all?: boolean | undefined }): CleanupScope {
  const runId = opts.runId?.trim() || undefined;
  if (opts.all && runId) {
    throw new BadInputError("give either --run-id (one run) or --all (every scaletest- resource), not both");
  }
  if (opts.all) return { prefix: ALL_PREFIX, runId: null, all: true, describe: "every scale-test run (prefix scaletest-)" };
  if (!runId) {
    throw new BadInputError("nothing to clean up: give --run-id <id> (one run's resources) or --all (every scaletest- resource)");
  }
  const prefix = runPrefix(runId); // validates the id
  return { prefix, runId, all: false, describe: `run ${runId} (prefix ${prefix})` };
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
  const workspaces = (await listOwnedWorkspaces(client, ownership, signal)).filter((ws) => inScope(scope, ws.name));
  const users = [...ownership.users.values()].filter((u) => inScope(scope, u.username) && u.id !== runner.id);
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

function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => (seen.has(key(t)) ? false : (seen.add(key(t)), true)));
}
