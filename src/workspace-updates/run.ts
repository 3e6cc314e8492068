// workspace-updates: Coder's load of Coder Desktop clients (scaletest/workspaceupdates). Every user opens
// the tailnet WorkspaceUpdates stream; once all streams are open (the dial barrier) each user creates its
// workspaces one after another, and the time from each build start to the update that names it is the
// measured latency. Users are created (or reused) and cleaned up the way create-workspaces does it.
import pLimit from "p-limit";
import { cleanupAfterLoad } from "../cleanup/cleanup.ts";
import { CoderClient } from "../coder/client.ts";
import { dialTailnet, type TailnetConnection, type WorkspaceUpdatesStream } from "../coder/tailnet/index.ts";
import type { User } from "../coder/types.ts";
import { createUser, createWorkspace } from "../create/unit.ts";
import { LatencyHistogram } from "../traffic/histogram.ts";
import { stopCauseOf } from "../util/signals.ts";
import { workspaceUpdatesMetrics, type WorkspaceUpdatesMetrics } from "./metrics.ts";
import { planWorkspaceUpdates, type WorkspaceUpdatesPlan } from "./plan.ts";
import type {
  LabelledHistogram,
  StopReason,
  UserUnitResult,
  WorkspaceUpdatesAction,
  WorkspaceUpdatesHooks,
  WorkspaceUpdatesOptions,
  WorkspaceUpdatesResult,
} from "./types.ts";
import { watchWorkspaceUpdates, type WatchResult } from "./watch.ts";

/** Name of the latency histograms in results (Coder's GetMetrics key). */
export const LATENCY_RESULT_METRIC = "workspace_updates_latency";

/** Validates (throwing WorkspaceUpdatesInputError before anything is created), runs, and cleans up unless noCleanup. */
export async function runWorkspaceUpdates(
  client: CoderClient,
  opts: WorkspaceUpdatesOptions,
  hooks: WorkspaceUpdatesHooks = {},
): Promise<WorkspaceUpdatesResult> {
  const plan = await planWorkspaceUpdates(client, opts);
  return executeWorkspaceUpdates(client, plan, opts, hooks);
}

interface Unit {
  rec: UserUnitResult;
  user: User | null;
  token: string | null;
  tokenKeyId: string | null;
  userClient: CoderClient | null;
  conn: TailnetConnection | null;
  stream: WorkspaceUpdatesStream | null;
  watch: Promise<WatchResult> | null;
  buildStarts: Map<string, number>;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs a validated plan (see planWorkspaceUpdates). */
export async function executeWorkspaceUpdates(
  client: CoderClient,
  plan: WorkspaceUpdatesPlan,
  opts: WorkspaceUpdatesOptions,
  hooks: WorkspaceUpdatesHooks = {},
): Promise<WorkspaceUpdatesResult> {
  const log = hooks.log ?? (() => {});
  const signal = hooks.signal;
  const startedAt = Date.now();
  const t0 = performance.now();
  const metrics = workspaceUpdatesMetrics();
  const d = plan.distribution;
  const { create } = plan;
  log(
    "info",
    `workspace-updates: ${d.total_workspaces} workspace(s); ${d.power_users} power user(s) with ${d.power_user_workspaces} each, ` +
      `${d.regular_users} regular user(s) with 1 each${d.dropped_by_rounding ? ` (${d.dropped_by_rounding} dropped by rounding, as Coder does)` : ""}`,
  );

  const units: Unit[] = plan.users.map((u) => ({
    rec: {
      index: u.index,
      username: u.username,
      user_id: u.reuse?.id ?? null,
      num_owned_workspaces: u.workspaces.length,
      kind: u.kind,
      reused: u.reuse !== null,
      ok: false,
      action: null,
      error: null,
      dial_ms: null,
      updates: 0,
      workspaces: u.workspaces.map((i) => ({ name: create.names[i]!, id: null, build_started_at: null, latency_ms: null, upserts: 0 })),
      logs: [],
    },
    user: u.reuse,
    token: null,
    tokenKeyId: null,
    userClient: null,
    conn: null,
    stream: null,
    watch: null,
    buildStarts: new Map(),
  }));
  const say = (u: Unit, msg: string): void => {
    u.rec.logs.push(`${new Date().toISOString()} ${msg}`);
  };
  const failUnit = (u: Unit, action: WorkspaceUpdatesAction, error: string): void => {
    if (u.rec.action) return;
    u.rec.ok = false;
    u.rec.action = action;
    u.rec.error = error;
    metrics.error(u.rec.username, u.rec.num_owned_workspaces, action);
    say(u, `FAILED (${action}): ${error}`);
    log("warn", `${u.rec.username} failed (${action}): ${error.split("\n")[0]}`);
  };
  const tokenLifetimeMs = opts.updatesTimeoutMs + opts.dialTimeoutMs + 60 * 60_000;

  // 1. Setup: user, its token, its stream. Every user reaches the barrier, set up or failed (Coder's
  //    runner calls DialBarrier.Done() on every path).
  const setupLimit = pLimit(opts.setupConcurrency ? opts.setupConcurrency : Number.POSITIVE_INFINITY);
  await Promise.all(
    units.map((u) =>
      setupLimit(async () => {
        if (signal?.aborted) return failUnit(u, "context_done", `not started: the run stopped first (${stopCauseOf(signal)})`);
        await setupUnit(u);
      }),
    ),
  );
  const barrierMs = performance.now() - t0;
  const ready = units.filter((u) => u.stream !== null && !u.rec.action);
  log("info", `barrier: ${ready.length}/${units.length} stream(s) open after ${Math.round(barrierMs)} ms; creating workspaces`);
  await hooks.onBarrier?.();

  // 2. Each user creates its workspaces one after another and waits for its stream to name them all.
  await Promise.all(ready.map((u) => runUnit(u)));
  const elapsed = performance.now() - t0;

  // 3. Streams closed; minted tokens revoked; users' clients closed.
  const tokens = { minted: 0, revoked: 0, failed: 0 };
  for (const u of units) {
    u.stream?.close();
    u.conn?.close();
    if (u.tokenKeyId && u.user) {
      tokens.minted++;
      try {
        await client.deleteToken(u.user.id, u.tokenKeyId);
        tokens.revoked++;
      } catch (e) {
        tokens.failed++;
        log("warn", `could not revoke the token minted for ${u.rec.username}: ${errText(e)}`);
      }
    }
    await u.userClient?.close();
  }

  const result = summarize(plan, units, metrics, startedAt, elapsed, barrierMs, stopCauseOf(signal), tokens);
  if (!opts.noCleanup) {
    log("info", `cleaning up run ${create.runId} (--no-cleanup keeps the users and workspaces)`);
    result.cleanup = await cleanupAfterLoad(client, create.runId, opts.cleanup, log);
    if (result.cleanup.exit_code !== 0) result.exit_code = 1;
  }
  return result;

  async function setupUnit(u: Unit): Promise<void> {
    // The user: created as create-workspaces creates it, or reused.
    if (!u.user) {
      try {
        u.user = await createUser(client, create, u.rec.index);
        u.rec.user_id = u.user.id;
        say(u, `created user ${u.user.username} (${u.user.id})`);
      } catch (e) {
        return failUnit(u, "create_user", `create user: ${errText(e)}`);
      }
    }
    // Its session: a token minted for it by the runner (Coder logs in with the password it chose, or
    // mints one in reuse mode), bounded to just past the run.
    try {
      const key = await client.createToken(u.user.id, {
        token_name: `${create.runId}-wu-${u.rec.index}-${Date.now().toString(36)}`,
        lifetime: tokenLifetimeMs * 1_000_000,
      });
      u.token = key.key;
      u.tokenKeyId = key.key.split("-")[0] ?? null;
    } catch (e) {
      return failUnit(u, "mint_token", `mint a token for ${u.rec.username}: ${errText(e)}`);
    }
    u.userClient = new CoderClient({ url: client.url, token: u.token, concurrency: 2, ...(signal ? { signal } : {}) });
    // The stream, before any workspace exists.
    const d0 = performance.now();
    try {
      u.conn = await dialTailnet({
        url: client.url,
        token: u.token,
        timeoutMs: opts.dialTimeoutMs,
        ...(signal ? { signal } : {}),
        ...(opts.keepAliveMs !== undefined ? { keepAliveMs: opts.keepAliveMs } : {}),
      });
      u.stream = u.conn.workspaceUpdates(u.user.id);
      u.rec.dial_ms = performance.now() - d0;
      say(u, `workspace updates stream open (dial ${Math.round(u.rec.dial_ms)} ms)`);
    } catch (e) {
      return failUnit(u, "dial", `dial workspace updates: ${errText(e)}`);
    }
    u.watch = watchWorkspaceUpdates(u.stream, u.rec.num_owned_workspaces, u.buildStarts);
  }

  async function runUnit(u: Unit): Promise<void> {
    const watch = u.watch!;
    // As Coder's runner: every workspace is created even if the stream already failed (the load on coderd
    // is the same); the stream's outcome is read afterwards.
    for (const w of u.rec.workspaces) {
      if (signal?.aborted) return failUnit(u, "context_done", `stopped (${stopCauseOf(signal)}) while creating workspaces`);
      // Coder records the build start just before the create call.
      u.buildStarts.set(w.name, performance.now());
      w.build_started_at = Date.now();
      try {
        const ws = await createWorkspace(u.userClient!, create, u.user!.id, w.name);
        w.id = ws.id;
        say(u, `created workspace ${w.name} (${ws.id})`);
      } catch (e) {
        u.buildStarts.delete(w.name);
        w.build_started_at = null;
        return failUnit(u, "create_workspace", `create workspace ${w.name}: ${errText(e)}`);
      }
    }
    // Then wait up to --workspace-updates-timeout for the stream to name them all.
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const outcome = await Promise.race([
      watch,
      new Promise<"timeout" | "stopped">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), opts.updatesTimeoutMs);
        onAbort = () => resolve("stopped");
        if (signal?.aborted) onAbort();
        else signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    if (outcome === "timeout" || outcome === "stopped") {
      u.rec.updates = u.stream?.received ?? 0;
      u.stream?.close();
      return failUnit(
        u,
        "context_done",
        outcome === "timeout"
          ? `timeout waiting for workspace updates after ${opts.updatesTimeoutMs} ms (${u.rec.num_owned_workspaces} workspace(s) expected)`
          : `stopped (${stopCauseOf(signal)}) while waiting for workspace updates`,
      );
    }
    u.rec.updates = outcome.updates;
    for (const w of u.rec.workspaces) w.upserts = outcome.upserts.get(w.name) ?? 0;
    if (!outcome.ok) return failUnit(u, outcome.action ?? "recv", outcome.error ?? "workspace updates failed");
    for (const w of u.rec.workspaces) {
      const ms = outcome.latencies.get(w.name);
      if (ms === undefined) continue;
      w.latency_ms = ms;
      metrics.latency(ms / 1000, u.rec.username, u.rec.num_owned_workspaces, w.name);
    }
    u.rec.ok = true;
    say(u, `updates received for all ${u.rec.num_owned_workspaces} workspace(s)`);
  }
}

function summarize(
  plan: WorkspaceUpdatesPlan,
  units: Unit[],
  _metrics: WorkspaceUpdatesMetrics,
  startedAt: number,
  elapsedMs: number,
  barrierMs: number,
  stopped: StopReason | null,
  tokens: WorkspaceUpdatesResult["tokens"],
): WorkspaceUpdatesResult {
  const all = new LatencyHistogram();
  const byOwned = new Map<number, LatencyHistogram>();
  const coderMap: Record<string, number> = {};
  for (const u of units) {
    for (const w of u.rec.workspaces) {
      coderMap[w.name] = w.latency_ms === null ? 0 : w.latency_ms / 1000;
      if (w.latency_ms === null) continue;
      all.record(w.latency_ms);
      let h = byOwned.get(u.rec.num_owned_workspaces);
      if (!h) byOwned.set(u.rec.num_owned_workspaces, (h = new LatencyHistogram()));
      h.record(w.latency_ms);
    }
  }
  const labelled = (labels: Record<string, string>, h: LatencyHistogram): LabelledHistogram => ({
    metric: LATENCY_RESULT_METRIC,
    unit: "ms",
    labels,
    summary: h.percentiles(),
    hdr: h.encode(),
  });
  const latency = [
    labelled({}, all),
    ...[...byOwned.entries()].sort(([a], [b]) => b - a).map(([n, h]) => labelled({ num_owned_workspaces: String(n) }, h)),
  ];
  const errors = units
    .filter((u) => u.rec.action !== null)
    .map((u) => ({ username: u.rec.username, num_owned_workspaces: u.rec.num_owned_workspaces, action: u.rec.action!, error: u.rec.error ?? "" }));
  const byAction: WorkspaceUpdatesResult["errors_by_action"] = {};
  for (const e of errors) byAction[e.action] = (byAction[e.action] ?? 0) + 1;
  const pass = units.filter((u) => u.rec.ok).length;
  const c = plan.create;
  return {
    run_id: c.runId,
    template: { name: c.template.name, id: c.template.id, version_id: c.templateVersionId },
    distribution: plan.distribution,
    started_at: startedAt,
    elapsed_ms: elapsedMs,
    barrier_ms: barrierMs,
    units: units.map((u) => u.rec),
    latency,
    workspace_updates_latency_seconds: coderMap,
    errors,
    errors_by_action: byAction,
    pass,
    fail: units.length - pass,
    stopped,
    cleanup: null,
    tokens,
    // As Coder's CLI: any failed user fails the run; a stopped run never passes.
    exit_code: pass === units.length && stopped === null ? 0 : 1,
  };
}
