// Deletes a run's (or every run's) scaletest- workspaces, waits for their delete builds, then
// deletes their users (Coder refuses to delete a user who still owns workspaces). Everything is
// found from the deployment alone, so it works after a crash; running it twice is harmless.
import pLimit from "p-limit";
import type { CoderClient } from "../coder/client.ts";
import { BuildFailedError, CoderApiError } from "../coder/errors.ts";
import type { Template, User, Workspace } from "../coder/types.ts";
import { sleep } from "../util/sleep.ts";
import { boundedSignal, withTimeout } from "../util/abort.ts";
import { formatMs } from "../results/stats.ts";
import { startProgress } from "../util/progress.ts";
import { ownsTemplate, type Ownership } from "../util/ownership.ts";
import { cleanupScope, findResources, inScope, scopeSelector, type CleanupScope } from "./scope.ts";
import { revokeRunTokens } from "../users/pool.ts";
import type { CleanupHooks, CleanupItem, CleanupOptions, CleanupResult } from "./types.ts";

const ACTIVE = new Set(["pending", "running", "canceling"]);

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isGone(e: unknown): boolean {
  return e instanceof CoderApiError && (e.status === 404 || e.status === 410);
}

interface Ctx {
  client: CoderClient;
  opts: CleanupOptions;
  scope: CleanupScope;
  stop: AbortSignal;
  log: NonNullable<CleanupHooks["log"]>;
  /** Set once the resources are listed: every deletion re-checks ownership against it. */
  ownership?: Ownership;
}

function newItem(kind: CleanupItem["kind"], name: string, id: string, owner: string | null): CleanupItem {
  return { kind, name, id, owner, ok: false, already_gone: false, attempts: 0, started_at: Date.now(), duration_ms: 0, error: null, logs: [] };
}

/**
 * One item's job: `attempt` up to 1+retries times with a growing pause, all under --cleanup-job-timeout;
 * records the outcome on `item`. The job's signal is disposed when the item is done: a cleanup of thousands
 * of items leaves no timer or listener per item.
 */
async function runItemJob(ctx: Ctx, item: CleanupItem, attempt: (jobSignal: AbortSignal) => Promise<"deleted" | "gone">): Promise<CleanupItem> {
  const job = boundedSignal(ctx.stop, ctx.opts.jobTimeoutMs);
  try {
    await withRetries(ctx, item, job.signal, attempt);
  } finally {
    job.dispose();
  }
  return item;
}

/** Runs `attempt` up to 1+retries times with a growing pause; records the outcome on `item`. */
async function withRetries(ctx: Ctx, item: CleanupItem, jobSignal: AbortSignal, attempt: (jobSignal: AbortSignal) => Promise<"deleted" | "gone">): Promise<void> {
  const tries = 1 + Math.max(0, ctx.opts.retries ?? 2);
  const t0 = performance.now();
  const say = (m: string) => item.logs.push(`${new Date().toISOString()} ${m}`);
  for (let i = 1; i <= tries; i++) {
    item.attempts = i;
    try {
      const outcome = await attempt(jobSignal);
      item.ok = true;
      item.error = null;
      item.already_gone = outcome === "gone" && i === 1;
      say(outcome === "gone" ? "already gone" : `deleted (attempt ${i})`);
      break;
    } catch (e) {
      item.error = jobSignal.aborted && !ctx.stop.aborted ? `--cleanup-job-timeout ${formatMs(ctx.opts.jobTimeoutMs)} exceeded: ${errText(e)}` : errText(e);
      say(`attempt ${i}/${tries} failed: ${item.error}`);
      if (jobSignal.aborted || i === tries) break;
      if (!(await sleep((ctx.opts.retryDelayMs ?? 500) * i, jobSignal))) break;
    }
  }
  item.duration_ms = performance.now() - t0;
}

async function deleteOneWorkspace(ctx: Ctx, ws: Workspace): Promise<CleanupItem> {
  const { client } = ctx;
  const item = newItem("workspace", ws.name, ws.id, ws.owner_name);
  const deadline = performance.now() + ctx.opts.jobTimeoutMs;
  const remaining = () => Math.max(1, deadline - performance.now());
  const pollMs = ctx.opts.pollMs ?? 1000;
  const say = (m: string) => item.logs.push(`${new Date().toISOString()} ${m}`);
  return runItemJob(ctx, item, async (jobSignal) => {
    let cur: Workspace;
    try {
      cur = await client.workspace(ws.id, { signal: jobSignal });
    } catch (e) {
      if (isGone(e)) return "gone";
      throw e;
    }
    // Renamed or given away since the listing: no longer ours, so not touched.
    if (!inScope(ctx.scope, cur.name) || !ctx.ownership?.ownsWorkspace(cur)) {
      say(`now ${cur.owner_name}/${cur.name}, which is not the run's: left alone`);
      return "gone";
    }
    const latest = cur.latest_build;
    if (ACTIVE.has(latest.job?.status ?? "")) {
      if (latest.transition === "delete") {
        say(`delete build ${latest.id} already in progress: waiting for it`);
        await client.waitForBuild(latest.id, { timeoutMs: remaining(), signal: jobSignal, pollMs });
        return "deleted";
      }
      // A start (or stop) build still running, e.g. left by a killed create: cancel it first, as
      // Coder's cleanup runner does, or the delete is refused.
      say(`canceling active ${latest.transition} build ${latest.id} (${latest.job.status})`);
      try {
        await client.cancelBuild(latest.id);
      } catch (e) {
        say(`cancel failed (continuing): ${errText(e)}`);
      }
      try {
        await client.waitForBuild(latest.id, { timeoutMs: remaining(), signal: jobSignal, pollMs });
      } catch (e) {
        if (!(e instanceof BuildFailedError)) throw e; // canceled/failed is what we want
      }
    }
    const build = await client.createBuild(ws.id, { transition: "delete" }, { signal: jobSignal });
    say(`delete build ${build.id} queued`);
    await client.waitForBuild(build.id, { timeoutMs: remaining(), signal: jobSignal, pollMs });
    return "deleted";
  });
}

async function deleteOneUser(ctx: Ctx, u: User): Promise<CleanupItem> {
  const item = newItem("user", u.username, u.id, null);
  return runItemJob(ctx, item, async (jobSignal) =>
    // Renamed or no longer the run's since the listing: not touched.
    !inScope(ctx.scope, u.username) || !ctx.ownership?.ownsUser(u) ? "gone" : deleteOrGone(ctx, `/users/${encodeURIComponent(u.id)}`, jobSignal),
  );
}

async function deleteOneTemplate(ctx: Ctx, t: Template): Promise<CleanupItem> {
  const item = newItem("template", t.name, t.id, null);
  return runItemJob(ctx, item, async (jobSignal) =>
    !inScope(ctx.scope, t.name) || !ownsTemplate(t, scopeSelector(ctx.scope)) ? "gone" : deleteOrGone(ctx, `/templates/${encodeURIComponent(t.id)}`, jobSignal),
  );
}

/** DELETE `path`; "gone" when the deployment says it no longer exists. */
async function deleteOrGone(ctx: Ctx, path: string, signal: AbortSignal): Promise<"deleted" | "gone"> {
  try {
    await ctx.client.request("DELETE", path, { signal });
  } catch (e) {
    if (isGone(e)) return "gone";
    throw e;
  }
  return "deleted";
}

/** The run token a pipeline mints in prepare (src/pipeline/token.ts); a crash leaves it behind. */
const RUN_TOKEN_PREFIX = "scaletest-runner-";

/**
 * Deletes the runner's tokens named scaletest-runner-<run-id> (every run's with --all): a pipeline
 * killed before its own cleanup leaves its Owner token behind otherwise. The token this cleanup runs
 * with (opts.ownTokenId) is left to its holder. Failures are reported, never thrown.
 */
async function deleteRunTokens(ctx: Ctx, runnerId: string, log: Ctx["log"]): Promise<{ deleted: string[]; failed: string[] }> {
  const want = (name: string): boolean =>
    ctx.scope.all ? name.startsWith(RUN_TOKEN_PREFIX) : name === `${RUN_TOKEN_PREFIX}${ctx.scope.runId ?? ""}`;
  const deleted: string[] = [];
  const failed: string[] = [];
  let tokens;
  try {
    tokens = (await ctx.client.listTokens(runnerId)).filter((t) => want(t.token_name) && t.id !== ctx.opts.ownTokenId);
  } catch (e) {
    log("warn", `could not list the runner's API tokens: ${errText(e)}`);
    return { deleted, failed: [`(could not list tokens: ${errText(e)})`] };
  }
  for (const t of tokens) {
    try {
      await ctx.client.deleteToken(runnerId, t.id);
      deleted.push(t.token_name);
    } catch (e) {
      if (isGone(e)) continue;
      failed.push(t.token_name);
      log("warn", `could not delete API token ${t.token_name}: ${errText(e)}`);
    }
  }
  if (deleted.length) log("info", `cleanup: deleted API token(s) ${deleted.join(", ")}`);
  return { deleted, failed };
}

/**
 * Deletes what the scope names (runId or all). Throws only on bad options or when the deployment
 * cannot be listed; failed deletions are retried, then reported by name in the result.
 */
export async function cleanupRun(client: CoderClient, opts: CleanupOptions, hooks: CleanupHooks = {}): Promise<CleanupResult> {
  const scope = cleanupScope(opts);
  const log = hooks.log ?? (() => {});
  const startedAt = Date.now();
  const t0 = performance.now();
  const { signal: stop, timer } = withTimeout(hooks.signal, opts.timeoutMs);
  const ctx: Ctx = { client, opts, scope, stop, log };

  const runner = await client.me();
  const found = await findResources(client, scope, runner);
  ctx.ownership = found.ownership;
  log("info", `cleanup of ${scope.describe}: ${found.workspaces.length} workspace(s), ${found.templates.length} template(s), ${found.users.length} user(s)`);

  const workspaces: CleanupItem[] = [];
  const users: CleanupItem[] = [];
  const templates: CleanupItem[] = [];
  const progress =
    hooks.progress === false || found.workspaces.length + found.users.length === 0
      ? null
      : startProgress({
          label: hooks.progress?.label ?? "cleanup",
          ...(hooks.progress?.tty !== undefined ? { tty: hooks.progress.tty } : {}),
          ...(hooks.progress?.intervalMs !== undefined ? { intervalMs: hooks.progress.intervalMs } : {}),
        });
  const render = () => {
    const failed = [...workspaces, ...users].filter((i) => !i.ok).length;
    return `workspaces ${workspaces.filter((i) => i.ok).length}/${found.workspaces.length} deleted, users ${users.filter((i) => i.ok).length}/${found.users.length} deleted, ${failed} failed`;
  };
  progress?.update(render);

  const limit = pLimit(opts.concurrency === 0 ? Number.POSITIVE_INFINITY : opts.concurrency);
  const skipped = (kind: CleanupItem["kind"], name: string, id: string, owner: string | null): CleanupItem => {
    const it = newItem(kind, name, id, owner);
    it.error = `not attempted: cleanup stopped (${timer?.aborted && !hooks.signal?.aborted ? "--cleanup-timeout" : "signal"})`;
    return it;
  };
  await Promise.all(
    found.workspaces.map((ws) =>
      limit(async () => {
        const it = stop.aborted ? skipped("workspace", ws.name, ws.id, ws.owner_name) : await deleteOneWorkspace(ctx, ws);
        if (!it.ok && !stop.aborted) log("warn", `could not delete workspace ${ws.owner_name}/${ws.name}: ${it.error}`);
        workspaces.push(it);
      }),
    ),
  );
  // Templates after the workspaces (coderd refuses to delete a template that still has some).
  await Promise.all(
    found.templates.map((t) =>
      limit(async () => {
        const it = stop.aborted ? skipped("template", t.name, t.id, null) : await deleteOneTemplate(ctx, t);
        if (!it.ok && !stop.aborted) log("warn", `could not delete template ${t.name}: ${it.error}`);
        templates.push(it);
      }),
    ),
  );
  await Promise.all(
    found.users.map((u) =>
      limit(async () => {
        const it = stop.aborted ? skipped("user", u.username, u.id, null) : await deleteOneUser(ctx, u);
        if (!it.ok && !stop.aborted) log("warn", `could not delete user ${u.username}: ${it.error}`);
        users.push(it);
      }),
    ),
  );
  workspaces.sort((a, b) => a.name.localeCompare(b.name));
  users.sort((a, b) => a.name.localeCompare(b.name));

  // List again: whatever is still there (failed, or created meanwhile) is reported by name.
  let remaining: string[] = [];
  try {
    const again = await findResources(client, scope, runner);
    remaining = [
      ...again.workspaces.map((w) => `workspace ${w.owner_name}/${w.name}`),
      ...again.templates.map((t) => `template ${t.name}`),
      ...again.users.map((u) => `user ${u.username}`),
    ];
  } catch (e) {
    remaining = [`(could not list again: ${errText(e)})`];
  }
  progress?.done(render());
  const tokens = await deleteRunTokens(ctx, runner.id, log);
  templates.sort((a, b) => a.name.localeCompare(b.name));
  // Borrowed (pool) users keep their accounts; the tokens this run minted for them go (after a crash too).
  if (scope.runId !== null) {
    const deletedUsers = new Set(found.users.map((u) => u.id));
    const borrowed = new Map<string, { id: string; username: string }>();
    for (const ws of found.workspaces) {
      if (ws.owner_id !== runner.id && !deletedUsers.has(ws.owner_id)) borrowed.set(ws.owner_id, { id: ws.owner_id, username: ws.owner_name });
    }
    const revoked = await revokeRunTokens(client, scope.runId, [...borrowed.values()], log);
    tokens.deleted.push(...revoked.deleted);
    tokens.failed.push(...revoked.failed);
  }
  const failed = [...workspaces, ...templates, ...users].filter((i) => !i.ok).map((i) => (i.kind === "workspace" ? `workspace ${i.owner}/${i.name}` : `${i.kind} ${i.name}`));
  failed.push(...tokens.failed.map((t) => `token ${t}`));
  const stopped = hooks.signal?.aborted ? "signal" : timer?.aborted ? "timeout" : null;
  if (failed.length) log("warn", `cleanup left ${failed.length} resource(s): ${failed.slice(0, 20).join(", ")}${failed.length > 20 ? ", ..." : ""}`);
  return {
    prefix: scope.prefix,
    run_id: scope.runId,
    all: scope.all,
    started_at: startedAt,
    elapsed_ms: performance.now() - t0,
    workspaces,
    users,
    ...(templates.length ? { templates } : {}),
    remaining,
    failed,
    tokens_deleted: tokens.deleted,
    stopped,
    exit_code: failed.length || remaining.length || stopped ? 1 : 0,
  };
}

/**
 * A load type's own cleanup at the end of its run (unless --no-cleanup): the run's resources with the given
 * settings (Coder's defaults otherwise), no progress line, and not the stop signal — after an interruption,
 * cleanup is exactly what should still run.
 */
export function cleanupAfterLoad(
  client: CoderClient,
  runId: string,
  settings: Omit<CleanupOptions, "runId" | "all"> | undefined,
  log: NonNullable<CleanupHooks["log"]>,
): Promise<CleanupResult> {
  return cleanupRun(
    client,
    {
      runId,
      concurrency: settings?.concurrency ?? 10,
      timeoutMs: settings?.timeoutMs ?? 30 * 60_000,
      jobTimeoutMs: settings?.jobTimeoutMs ?? 5 * 60_000,
      ...(settings?.retries !== undefined ? { retries: settings.retries } : {}),
      ...(settings?.pollMs !== undefined ? { pollMs: settings.pollMs } : {}),
    },
    { progress: false, log },
  );
}
