// One workspace of create-workspaces: its user, the workspace, its build(s) with retries, its agents
// and the optional command, timing each stage. Never throws: the outcome is the returned record.
import type { CoderClient } from "../coder/client.ts";
import { BuildFailedError, CoderApiError, WaitTimeoutError } from "../coder/errors.ts";
import type { User, Workspace, WorkspaceAgent, WorkspaceBuild } from "../coder/types.ts";
import { newFollowStats, waitForBuildFollowingLogs } from "../coder/build-logs.ts";
import { formatMs } from "../results/stats.ts";
import { runPtyCommand } from "./command.ts";
import type { BuildAttempt, CreateOptions, CreatePlan, CreateStage, StopReason, WorkspaceUnitResult } from "./types.ts";
import { secureRandomBytes } from "../util/random.ts";
import type { UnitHandle } from "../scenario/units.ts";
import type { LeasedUser } from "../users/pool.ts";

export interface UnitContext {
  client: CoderClient;
  plan: CreatePlan;
  opts: CreateOptions;
  /** Aborted when the run stops (signal or whole-run timeout). */
  stop: AbortSignal;
  stopReason: () => StopReason | null;
  onStage?: (stage: CreateStage, ms: number) => void;
  /** With --user-pool: the borrowed user of each unit (index order), acting through this run's token. */
  pool?: readonly LeasedUser[];
}

/** Why a unit ended early. */
class UnitStop extends Error {}

const ACTIVE = new Set(["pending", "running", "canceling"]);

function ms(from: string | undefined, to: string | undefined): number | null {
  if (!from || !to) return null;
  const a = Date.parse(from);
  const b = Date.parse(to);
  return Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, b - a) : null;
}

function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return i < 0 ? s : s.slice(0, i);
}

/** A record for a unit that never started because the run stopped first. */
export function notStartedUnit(plan: CreatePlan, index: number, reason: StopReason | null, useHostLogin: boolean): WorkspaceUnitResult {
  const name = plan.names[index]!;
  return {
    index,
    name,
    owner: useHostLogin ? plan.runner.username : (plan.poolUsers?.[index]?.username ?? name),
    user_id: null,
    workspace_id: null,
    started_at: Date.now(),
    ok: false,
    not_started: true,
    failed_stage: null,
    error: `not started: the run stopped first (${reason ?? "stopped"})`,
    log_tail: [],
    timings: emptyTimings(),
    attempts: [],
    command: null,
    logs: [],
  };
}

function emptyTimings(): Record<CreateStage, number | null> {
  // A literal (one object shape for every unit) rather than Object.fromEntries over CREATE_STAGES.
  return { user: null, login: null, create: null, queue: null, build: null, agent: null, command: null, total: null };
}

/** One workspace; `unit` is its signal from the shared unit runner (the stop bounded by --job-timeout). */
export async function runUnit(ctx: UnitContext, index: number, unit: UnitHandle): Promise<WorkspaceUnitResult> {
  const { client, plan, opts } = ctx;
  const name = plan.names[index]!;
  const startedAt = Date.now();
  const t0 = performance.now();
  const deadline = t0 + opts.jobTimeoutMs;
  const { signal: waitSignal, timer: jobTimer } = unit;
  const remaining = (): number => Math.max(1, deadline - performance.now());
  const pollMs = opts.pollMs ?? 1000;
  const borrowed = ctx.pool?.[index];
  const rec: WorkspaceUnitResult = {
    index,
    name,
    owner: opts.useHostLogin ? plan.runner.username : (borrowed?.user.username ?? name),
    user_id: opts.useHostLogin ? plan.runner.id : (borrowed?.user.id ?? null),
    workspace_id: null,
    started_at: startedAt,
    ok: false,
    not_started: false,
    failed_stage: null,
    error: null,
    log_tail: [],
    timings: emptyTimings(),
    attempts: [],
    command: null,
    logs: [],
  };
  const say = (msg: string): void => {
    rec.logs.push(`${new Date().toISOString()} ${msg}`);
  };
  const mark = (stage: CreateStage, value: number): void => {
    rec.timings[stage] = value;
    ctx.onStage?.(stage, value);
  };
  const checkStop = (): void => {
    if (ctx.stop.aborted || jobTimer?.aborted) throw new UnitStop();
  };
  let stage: CreateStage = "user";
  let activeBuild: WorkspaceBuild | null = null;
  // The client everything of this workspace goes through: the user's own session after its login (as Coder's
  // runner), the runner's with --use-host-login. The Owner's client only creates the user and cancels.
  let as: CoderClient = client;

  try {
    // 1. The user with a password, and its login (a pool user's own token, or the runner itself with --use-host-login).
    if (borrowed) {
      as = borrowed.client;
      say(`borrowed pool user ${borrowed.user.username} (${borrowed.user.id})`);
    } else if (!opts.useHostLogin) {
      const password = randomPassword();
      const s = performance.now();
      const user = await createUser(client, plan, index, password);
      mark("user", performance.now() - s);
      rec.user_id = user.id;
      say(`created user ${user.username} (${user.id}) in ${formatMs(rec.timings.user)}`);
      checkStop();
      stage = "login";
      const s1 = performance.now();
      as = await loginAsUser(client, userEmail(plan, index), password, waitSignal);
      mark("login", performance.now() - s1);
      say(`logged in as ${user.username} in ${formatMs(rec.timings.login)}`);
    }
    checkStop();

    // 2. The workspace, created by its user (its first start build is queued by the same call).
    stage = "create";
    const s = performance.now();
    // A pool user creates its workspace itself (Coder's reuse mode: the user's own token).
    const ws = await createWorkspace(as, plan, borrowed ? "me" : (rec.user_id ?? rec.owner), name);
    mark("create", performance.now() - s);
    rec.workspace_id = ws.id;
    say(`created workspace ${rec.owner}/${ws.name} (${ws.id}) in ${formatMs(rec.timings.create)}; build #${ws.latest_build.build_number} queued`);

    // 3. Builds: the first, then up to --retry new start builds after failures (as Coder's runner).
    let build = ws.latest_build;
    for (let attempt = 1; ; attempt++) {
      stage = "queue";
      activeBuild = build;
      const att: BuildAttempt = {
        attempt, build_id: build.id, build_number: build.build_number, status: build.job?.status ?? "pending",
        queue_ms: null, build_ms: null, error: null, log_tail: [],
      };
      rec.attempts.push(att);
      // Polled while queued, then its log followed over the websocket to the end, as Coder's runner waits.
      const follow = newFollowStats();
      try {
        const done = await waitForBuildFollowingLogs(as, build.id, {
          timeoutMs: remaining(),
          signal: waitSignal,
          pendingPollMs: Math.min(500, pollMs),
          logTailLines: opts.logTailLines ?? 20,
          stats: follow,
          onUpdate: (b) => {
            att.status = b.job?.status ?? att.status;
            if (b.job?.status === "running") stage = "build";
          },
          onLog: () => {
            stage = "build";
          },
        });
        activeBuild = null;
        att.status = "succeeded";
        att.queue_ms = ms(done.job.created_at, done.job.started_at);
        att.build_ms = ms(done.job.started_at, done.job.completed_at);
        if (att.queue_ms !== null) mark("queue", att.queue_ms);
        if (att.build_ms !== null) mark("build", att.build_ms);
        say(`build #${done.build_number} succeeded: queued ${formatMs(att.queue_ms)}, built ${formatMs(att.build_ms)}; ${followSummary(follow)}`);
        build = done;
        break;
      } catch (e) {
        if (!(e instanceof BuildFailedError)) throw e;
        activeBuild = null;
        stage = "build";
        att.status = e.jobStatus;
        att.queue_ms = ms(e.build.job?.created_at, e.build.job?.started_at);
        att.build_ms = ms(e.build.job?.started_at, e.build.job?.completed_at);
        att.error = e.jobError || firstLine(e.message);
        att.log_tail = e.logTail;
        say(`build #${e.build.build_number} ${e.jobStatus}: ${att.error}; ${followSummary(follow)}`);
        if (attempt > opts.retry) throw e;
        checkStop();
        say(`retrying build ${attempt}/${opts.retry}...`);
        build = await as.createBuild(ws.id, {
          transition: "start",
          template_version_id: plan.templateVersionId,
          ...(plan.parameters.length ? { rich_parameter_values: plan.parameters } : {}),
        });
      }
    }

    // 4. Agents connected and ready.
    let agents: WorkspaceAgent[] = [];
    if (!opts.noWaitForAgents) {
      stage = "agent";
      checkStop();
      const s2 = performance.now();
      agents = await as.waitForAgents(ws.id, { timeoutMs: remaining(), signal: waitSignal, pollMs });
      // Server clock on both ends when the agent reports ready_at; else what we saw.
      const readyAt = agents.map((a) => a.ready_at ?? a.first_connected_at).filter((t): t is string => Boolean(t));
      const last = readyAt.length === agents.length && readyAt.length ? readyAt.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b)) : undefined;
      const server = ms(build.job.completed_at, last);
      mark("agent", server ?? performance.now() - s2);
      say(`${agents.length} agent(s) ready ${formatMs(rec.timings.agent)} after the build`);
    }

    // 5. Optional command over the web terminal.
    if (opts.runCommand) {
      stage = "command";
      checkStop();
      const agent = agents[0] ?? (await firstAgent(as, ws.id));
      if (!agent) throw new Error("workspace has no agent to run --run-command in");
      const runLimit = opts.runTimeoutMs ?? 5000;
      const limit = Math.min(runLimit, remaining());
      const outcome = await runPtyCommand(as, agent.id, opts.runCommand, limit, waitSignal, {
        output: opts.runExpectOutput ?? "",
        ...(opts.runExpectOutputTimeoutMs ? { timeoutMs: opts.runExpectOutputTimeoutMs } : {}),
        // Only --run-timeout itself may be the expected timeout: a --job-timeout cut stays a failure.
        expectTimeout: (opts.runExpectTimeout ?? false) && limit === runLimit,
        keepOutput: opts.runLogOutput ?? false,
      });
      rec.command = outcome;
      mark("command", outcome.latency_ms);
      say(`--run-command finished in ${formatMs(outcome.latency_ms)} with ${outcome.output_bytes} bytes of output`);
    }

    rec.ok = true;
    mark("total", performance.now() - t0);
    say(`workspace ready in ${formatMs(rec.timings.total)}`);
  } catch (e) {
    rec.failed_stage = stage;
    if (ctx.stop.aborted) {
      rec.error = `interrupted (${ctx.stopReason() ?? "stopped"}) during ${stage}`;
    } else if (jobTimer?.aborted || e instanceof WaitTimeoutError || (e instanceof CoderApiError && e.code === "ABORTED")) {
      rec.error = `--job-timeout ${formatMs(opts.jobTimeoutMs)} exceeded during ${stage}` + (e instanceof WaitTimeoutError ? `: ${e.lastState}` : "");
    } else if (e instanceof BuildFailedError) {
      rec.error = e.message;
      rec.log_tail = e.logTail;
    } else {
      rec.error = e instanceof Error ? e.message : String(e);
    }
    say(`FAILED during ${stage}: ${firstLine(rec.error)}`);
    const last = rec.attempts[rec.attempts.length - 1];
    if (last && last.error === null && ACTIVE.has(last.status)) last.error = firstLine(rec.error);
    // Builds still queued or running when we gave up are canceled, so cleanup need not wait for them.
    if (activeBuild) await cancelQuietly(client, activeBuild.id, say);
  } finally {
    // The login session's client is this unit's to close; a borrowed pool user's belongs to the lease.
    if (as !== client && !borrowed) await as.close().catch(() => {});
  }
  return rec;
}

function followSummary(f: { lines: number; streams: number; reconnects: number; badFrames: number }): string {
  return `build log followed: ${f.lines} line(s) over ${f.streams} stream(s)` +
    (f.reconnects ? `, ${f.reconnects} redial(s)` : "") + (f.badFrames ? `, ${f.badFrames} unreadable frame(s)` : "");
}

async function cancelQuietly(client: CoderClient, buildId: string, say: (m: string) => void): Promise<void> {
  try {
    const b = await client.workspaceBuild(buildId, { signal: AbortSignal.timeout(10_000) });
    if (!ACTIVE.has(b.job?.status ?? "")) return;
    await client.cancelBuild(buildId);
    say(`canceled build ${buildId}`);
  } catch (e) {
    say(`could not cancel build ${buildId}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function firstAgent(client: CoderClient, workspaceId: string): Promise<WorkspaceAgent | undefined> {
  const ws = await client.workspace(workspaceId);
  return (ws.latest_build.resources ?? []).flatMap((r) => r.agents ?? [])[0];
}

/** The scale-test email of unit `index`'s user (`<run-id>-<n>@scaletest.local`, as Coder's). */
export function userEmail(plan: CreatePlan, index: number): string {
  return `${plan.names[index]!.slice("scaletest-".length)}@scaletest.local`;
}

/**
 * POST /users with `password` (the user logs in with it next); a lost answer followed by "already exists"
 * resolves to the existing user.
 */
export async function createUser(client: CoderClient, plan: CreatePlan, index: number, password: string = randomPassword()): Promise<User> {
  const username = plan.names[index]!;
  const email = userEmail(plan, index);
  try {
    return await client.request<User>("POST", "/users", {
      body: {
        username,
        email,
        name: "",
        password,
        login_type: "password",
        organization_ids: [plan.organization.id],
      },
      expect: [201, 200],
      // A retried POST after a lost answer meets a unique username: safe to retry.
      idempotent: true,
    });
  } catch (e) {
    if (e instanceof CoderApiError && (e.status === 409 || (e.status === 400 && e.attempts > 1))) {
      const u = await client.user(username).catch(() => null);
      if (u?.email === email) return u;
    }
    throw e;
  }
}

export async function createWorkspace(client: CoderClient, plan: CreatePlan, owner: string, name: string): Promise<Workspace> {
  const req = {
    name,
    template_version_id: plan.templateVersionId,
    ...(plan.parameters.length ? { rich_parameter_values: plan.parameters } : {}),
  };
  try {
    return await client.createWorkspace(owner, req, { idempotent: true });
  } catch (e) {
    // A retry after a lost answer meets the workspace the first attempt made.
    if (e instanceof CoderApiError && e.status === 409 && e.attempts > 1) {
      const ws = await client.workspaceByOwnerAndName(owner, name).catch(() => null);
      if (ws?.template_id === plan.template.id) return ws;
    }
    throw e;
  }
}

/**
 * The new user's own session: POST /users/login with its password from a fresh client (no session, no bypass
 * header), as Coder's createworkspaces runner. The returned client is closed by the caller.
 */
export function loginAsUser(client: CoderClient, email: string, password: string, signal?: AbortSignal): Promise<CoderClient> {
  return client.login(email, password, signal ? { signal } : {});
}

/** A throwaway password satisfying Coder's strength check; never stored or logged. */
function randomPassword(): string {
  return `St-${secureRandomBytes(18).toString("base64url")}-9a`;
}
