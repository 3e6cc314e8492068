// The one rule for what belongs to the scale test (DESIGN.md "Ownership is strict"), used by cleanup,
// traffic targeting and the dashboard's identities alike:
//  - a user belongs to run R only if its username is exactly `scaletest-<R>-<digits>` and its email is
//    exactly the one the scale test gave it (`<R>-<digits>@scaletest.local`);
//  - a workspace belongs to run R only if its name is exactly `scaletest-<R>-<digits>` and its owner is
//    a scale-test user verified as above — of R, or of another run whose users R reused (--reuse-users, a
//    user pool) — or the runner itself (workspaces made with --use-host-login);
//  - a template belongs to run R only if its name is exactly `scaletest-<R>-<digits>` and its description
//    starts with R's marker (`scaletest run <R>:`), which the load types that create templates write;
//  - "every run" (--all) is the union of that rule over run ids, never a bare `scaletest-` prefix: a
//    look-alike (`alice/scaletest-h1-9999`, `bob/scaletest-prod`, user `scaletest-ops`) is never touched.
import type { CoderClient } from "../coder/client.ts";
import type { Template, User, Workspace } from "../coder/types.ts";
import { ALL_PREFIX, expectedScaletestEmail, parseResourceName, runPrefix } from "./naming.ts";

/** One run's resources, or every run's (--all). */
export type RunSelector = { runId: string } | { all: true };

/** The run id a resource name carries when it is within `sel`; null otherwise. */
export function runIdInSelector(name: string, sel: RunSelector): string | null {
  const parsed = parseResourceName(name);
  if (!parsed) return null;
  if ("runId" in sel && parsed.runId !== sel.runId) return null;
  return parsed.runId;
}

/** The search text that narrows a listing to `sel` (the server's match is loose; the rule is applied after). */
export function selectorQuery(sel: RunSelector): string {
  return "runId" in sel ? runPrefix(sel.runId) : ALL_PREFIX;
}

/** A runs's prefix (`scaletest-<R>-`) or ALL_PREFIX, as callers that still speak in prefixes pass it. */
export function selectorFromPrefix(prefix: string): RunSelector {
  if (prefix === ALL_PREFIX) return { all: true };
  const m = /^scaletest-([a-z0-9]{1,8})-$/.exec(prefix);
  if (!m?.[1]) throw new Error(`invalid scale-test prefix ${JSON.stringify(prefix)}: expected "scaletest-<run-id>-" or "scaletest-"`);
  return { runId: m[1] };
}

/** True when `u` is a scale-test user within `sel` (exact name pattern and exact scale-test email). */
export function isScaletestUser(u: Pick<User, "username" | "email">, sel: RunSelector): boolean {
  if (runIdInSelector(u.username, sel) === null) return false;
  return typeof u.email === "string" && u.email === expectedScaletestEmail(u.username);
}

/** Who owns what: the verified users of `sel` and the runner; answers for workspaces. */
export class Ownership {
  readonly selector: RunSelector;
  /** Verified scale-test users of the selector's run(s) by id: the users it may delete. */
  readonly users: ReadonlyMap<string, User>;
  /** Verified scale-test users of any run by id: who may own the selector's workspaces (reused users). */
  readonly owners: ReadonlyMap<string, User>;
  readonly runnerId: string | null;

  constructor(selector: RunSelector, users: Iterable<User>, runnerId: string | null) {
    this.selector = selector;
    const mine = new Map<string, User>();
    const any = new Map<string, User>();
    for (const u of users) {
      if (u.id === runnerId) continue;
      if (isScaletestUser(u, { all: true })) any.set(u.id, u);
      if (isScaletestUser(u, selector)) mine.set(u.id, u);
    }
    this.users = mine;
    this.owners = any;
    this.runnerId = runnerId;
  }

  /** A verified scale-test user (never the runner). */
  ownsUser(u: Pick<User, "id" | "username" | "email">): boolean {
    const known = this.users.get(u.id);
    return known !== undefined && known.username === u.username && isScaletestUser(u, this.selector);
  }

  /**
   * The workspace's name is exactly `scaletest-<R>-<digits>` within the selector and its owner is a
   * verified scale-test user (of R, or reused from another run), or the runner.
   */
  ownsWorkspace(ws: Pick<Workspace, "name" | "owner_id">): boolean {
    if (runIdInSelector(ws.name, this.selector) === null) return false;
    if (this.runnerId !== null && ws.owner_id === this.runnerId) return true;
    return this.owners.has(ws.owner_id);
  }
}

/** Lists the users that could match `sel` and verifies each; `runner` is the identity the run acts as. */
export async function loadOwnership(
  client: CoderClient,
  sel: RunSelector,
  runner: Pick<User, "id"> | null,
  signal?: AbortSignal,
): Promise<Ownership> {
  const users: User[] = [];
  // Every run's users: a run's workspaces may be owned by users it reused from another run.
  for await (const u of client.iterateUsers({ q: ALL_PREFIX, ...(signal ? { signal } : {}) })) {
    if (isScaletestUser(u, { all: true })) users.push(u);
  }
  return new Ownership(sel, users, runner?.id ?? null);
}

/** The workspaces that belong to `sel` under `own` (listing narrowed by name, then the strict rule). */
export async function listOwnedWorkspaces(client: CoderClient, own: Ownership, signal?: AbortSignal): Promise<Workspace[]> {
  const out: Workspace[] = [];
  for await (const ws of client.iterateWorkspaces({ q: `name:${selectorQuery(own.selector)}`, ...(signal ? { signal } : {}) })) {
    if (own.ownsWorkspace(ws)) out.push(ws);
  }
  return out;
}

/** The description prefix a run writes on every template it creates: the name alone never makes a template the run's. */
export function templateMarker(runId: string): string {
  return `scaletest run ${runId}:`;
}

/**
 * A template the run (or, with --all, some run) created: exact `scaletest-<R>-<digits>` name within the
 * selector and the run's marker in its description; given `runnerId`, also created by the runner.
 */
export function ownsTemplate(t: Pick<Template, "name" | "description"> & { created_by_id?: string }, sel: RunSelector, runnerId?: string): boolean {
  const runId = runIdInSelector(t.name, sel);
  if (runId === null) return false;
  if (runnerId !== undefined && t.created_by_id !== runnerId) return false;
  return typeof t.description === "string" && t.description.startsWith(templateMarker(runId));
}

/** The templates that belong to `sel` (every organization's listing, then the strict rule). */
export async function listOwnedTemplates(client: CoderClient, sel: RunSelector, signal?: AbortSignal): Promise<Template[]> {
  const all = await client.request<Template[]>("GET", "/templates", signal ? { signal } : {});
  return all.filter((t) => ownsTemplate(t, sel));
}
