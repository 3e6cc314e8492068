// What a cleanup may touch: names starting `scaletest-<runId>-` (one run) or `scaletest-` (--all),
// never anything else, and never the runner's own user. The API's search filters narrow the
// listing; the exact prefix is checked again here (Coder's name: filter is a substring match).
import type { CoderClient } from "../coder/client.ts";
import type { User, Workspace } from "../coder/types.ts";
import { ALL_PREFIX, runPrefix } from "../util/naming.ts";
import { BadInputError } from "../util/errors.ts";

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

/** The one check every deletion passes: the name starts with the scope's prefix (and so with scaletest-). */
export function inScope(scope: CleanupScope, name: string): boolean {
  return name.startsWith(ALL_PREFIX) && name.startsWith(scope.prefix) && name.length > scope.prefix.length;
}

export interface FoundResources {
  workspaces: Workspace[];
  users: User[];
}

/** Lists the scope's workspaces and users (excluding the runner), sorted by name. */
export async function findResources(client: CoderClient, scope: CleanupScope, runner: User, signal?: AbortSignal): Promise<FoundResources> {
  const workspaces: Workspace[] = [];
  for await (const ws of client.iterateWorkspaces({ q: `name:${scope.prefix}`, ...(signal ? { signal } : {}) })) {
    if (inScope(scope, ws.name)) workspaces.push(ws);
  }
  const users: User[] = [];
  for await (const u of client.iterateUsers({ q: scope.prefix, ...(signal ? { signal } : {}) })) {
    if (inScope(scope, u.username) && u.id !== runner.id) users.push(u);
  }
  const byName = (a: { name?: string; username?: string }, b: { name?: string; username?: string }) =>
    (a.name ?? a.username ?? "").localeCompare(b.name ?? b.username ?? "");
  // Listing while deleting shifts offsets; we list fully first, so duplicates cannot happen, but be safe.
  return {
    workspaces: dedupe(workspaces, (w) => w.id).sort(byName),
    users: dedupe(users, (u) => u.id).sort(byName),
  };
}

function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => (seen.has(key(t)) ? false : (seen.add(key(t)), true)));
}
