// task-status: Coder's load of AI-task status reporting (scaletest/taskstatus). Each workspace is created
// from a template with a coder_external_agent; its agent token is fetched from the external-agent
// credentials endpoint and the workspace watch (server-sent events) is opened. Once every workspace is set
// up and the baseline has passed, each reports "scaletest status update:<n>" every period with its agent
// token; the time from sending update n to the watch first showing it as latest_app_status is the latency,
// and updates never shown are missing.
//
// Transport: the app-status REST endpoint Coder documents (PATCH /api/v2/workspaceagents/me/app-status with
// the agent token), which Coder's older runner used. Coder's newest runner sends the same update over the
// agent's dRPC connection (UpdateAppStatus on /api/v2/workspaceagents/me/rpc, yamux) and randomises each
// period by ±50%; both land in the same coderd handler and the same workspace publish, so what is timed (the
// watch showing the update) is the same, but the request path differs (one HTTP request per update here).
import type { LogFn } from "../util/log.ts";
import pLimit from "p-limit";
import { CoderClient } from "../coder/client.ts";
import type { CreatePlan } from "../create/types.ts";
import { createWorkspace } from "../create/unit.ts";
import { LatencyHistogram } from "../traffic/histogram.ts";
import { StopSignalError } from "../util/signals.ts";
import { sleep } from "../util/sleep.ts";
import { taskStatusMetrics } from "./metrics.ts";
import { updatesPerWorkspace } from "./plan.ts";
import type { TaskStatusAction, TaskStatusOptions, TaskStatusResult, WorkspaceUnit } from "./types.ts";
import { watchWorkspace, type WorkspaceWatch } from "./watch.ts";

export const TRANSPORT = "PATCH /api/v2/workspaceagents/me/app-status (agent token), watched over GET /api/v2/workspaces/{id}/watch (SSE)";

export interface TaskStatusHooks {
  signal?: AbortSignal;
  log?: LogFn;
  /** The session token of `client` (the watch is opened with it, to the deployment's origin only). */
  token: string;
}

interface Unit {
  rec: WorkspaceUnit;
  agentToken: string | null;
  agentClient: CoderClient | null;
  watch: WorkspaceWatch | null;
  /** Update number -> performance.now() just before it was sent. */
  sentAt: Map<number, number>;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function executeTaskStatus(client: CoderClient, plan: CreatePlan, o: TaskStatusOptions, hooks: TaskStatusHooks): Promise<TaskStatusResult> {
  const log = hooks.log ?? (() => {});
  const signal = hooks.signal;
  const startedAt = Date.now();
  const t0 = performance.now();
  const metrics = taskStatusMetrics();
  const perWorkspace = updatesPerWorkspace(o);
  const errorsByAction: TaskStatusResult["errors_by_action"] = {};
  const units: Unit[] = plan.names.map((name, index) => ({
    rec: { index, name, id: null, ok: false, action: null, error: null, setup_ms: null, sent: 0, observed: 0, missing: 0, report_errors: 0, latencies_ms: [], logs: [] },
    agentToken: null,
    agentClient: null,
    watch: null,
    sentAt: new Map(),
  }));
  const say = (u: Unit, m: string): void => void u.rec.logs.push(`${new Date().toISOString()} ${m}`);
  const fail = (u: Unit, action: TaskStatusAction, e: unknown): void => {
    if (u.rec.action) return;
    u.rec.action = action;
    u.rec.error = errText(e);
    errorsByAction[action] = (errorsByAction[action] ?? 0) + 1;
    say(u, `FAILED (${action}): ${u.rec.error}`);
    log("warn", `task-status ${u.rec.name} failed (${action}): ${u.rec.error.split("\n")[0]}`);
  };
  log("info", `task-status: ${units.length} workspace(s) of ${plan.template.name}; ${perWorkspace} update(s) each every ${o.reportPeriodMs} ms after a ${o.baselineMs} ms baseline; transport ${TRANSPORT}`);

  // 1. Setup (all at once, as Coder's runners): workspace, build, external agent token, watch.
  await Promise.all(units.map((u) => setup(u)));
  const barrierMs = performance.now() - t0;
  const ready = units.filter((u) => u.watch && !u.rec.action);
  log("info", `task-status: ${ready.length}/${units.length} workspace(s) ready after ${Math.round(barrierMs)} ms; baseline ${o.baselineMs} ms`);

  // 2. Baseline, then every workspace reports on its period (scheduled from one start: no drift).
  if (ready.length && (await sleep(o.baselineMs, signal))) {
    const start = performance.now();
    await Promise.all(ready.map((u) => report(u, start)));
    // 3. The last updates get a grace period to show.
    const grace = o.graceMs ?? Math.max(o.reportPeriodMs, 2000);
    const until = performance.now() + grace;
    for (;;) {
      const waiting = ready.some((u) => [...u.sentAt.keys()].some((n) => !u.watch!.seen.has(n)));
      if (!waiting || performance.now() >= until || signal?.aborted) break;
      await sleep(Math.min(50, Math.max(1, until - performance.now())), signal);
    }
  }
  const elapsed = performance.now() - t0;

  // 4. Tally: latency per update shown; missing = sent but never shown.
  const all = new LatencyHistogram();
  for (const u of units) {
    u.watch?.close();
    const watchEnd = u.watch ? await u.watch.done : null;
    for (let n = 1; n <= perWorkspace; n++) {
      const sent = u.sentAt.get(n);
      if (sent === undefined) continue;
      const seen = u.watch?.seen.get(n);
      const ms = seen === undefined ? null : Math.max(0, seen - sent);
      u.rec.latencies_ms[n - 1] = ms;
      if (ms === null) u.rec.missing++;
      else {
        u.rec.observed++;
        all.record(ms);
        metrics.latency(ms / 1000);
      }
    }
    metrics.missing(u.rec.missing);
    if (watchEnd && u.rec.missing) say(u, `watch ended early: ${watchEnd}`);
    if (!u.rec.action && u.watch) u.rec.ok = u.rec.missing === 0 && u.rec.report_errors === 0;
    await u.agentClient?.close();
  }

  let cleanup: TaskStatusResult["cleanup"] = null;
  if (!o.noCleanup) cleanup = await deleteWorkspaces(client, units, log);

  const stopped = signal?.aborted ? (signal.reason instanceof StopSignalError ? signal.reason.signal : "aborted") : null;
  const sum = (k: "sent" | "observed" | "missing" | "report_errors"): number => units.reduce((n, u) => n + u.rec[k], 0);
  const failed = units.filter((u) => !u.rec.ok).length;
  return {
    run_id: o.runId,
    template: { name: plan.template.name, id: plan.template.id },
    transport: TRANSPORT,
    started_at: startedAt,
    elapsed_ms: elapsed,
    barrier_ms: barrierMs,
    updates_per_workspace: perWorkspace,
    units: units.map((u) => u.rec),
    latency: { summary: all.percentiles(), hdr: all.encode() },
    sent: sum("sent"),
    observed: sum("observed"),
    missing: sum("missing"),
    report_errors: sum("report_errors"),
    errors_by_action: errorsByAction,
    stopped,
    cleanup,
    exit_code: failed === 0 && stopped === null && (cleanup === null || cleanup.failed.length === 0) ? 0 : 1,
  };

  async function setup(u: Unit): Promise<void> {
    const s0 = performance.now();
    const deadline = s0 + o.workspaceTimeoutMs;
    let wsId: string;
    let buildId: string;
    try {
      const ws = await createWorkspace(client, plan, "me", u.rec.name);
      wsId = ws.id;
      u.rec.id = ws.id;
      buildId = ws.latest_build.id;
      say(u, `created workspace ${ws.name} (${ws.id})`);
    } catch (e) {
      return fail(u, "create_workspace", e);
    }
    try {
      await client.waitForBuild(buildId, { timeoutMs: Math.max(1, deadline - performance.now()), ...(signal ? { signal } : {}) });
    } catch (e) {
      return fail(u, "wait_build", e);
    }
    let agentName: string;
    try {
      const ws = await client.workspace(wsId);
      const res = (ws.latest_build.resources ?? []).find((r) => r.type === "coder_external_agent");
      const agent = res?.agents?.[0];
      if (!agent) throw new Error(`workspace ${u.rec.name} has no coder_external_agent resource with an agent (is ${plan.template.name} an external-agent template?)`);
      agentName = agent.name;
      if (!(agent.apps ?? []).some((a) => a.slug === o.appSlug)) throw new Error(`the external agent has no app with slug ${JSON.stringify(o.appSlug)} (--app-slug)`);
    } catch (e) {
      return fail(u, "external_agent", e);
    }
    try {
      const cred = await client.request<{ agent_token?: string }>("GET", `/workspaces/${encodeURIComponent(wsId)}/external-agent/${encodeURIComponent(agentName)}/credentials`);
      if (!cred?.agent_token) throw new Error("the credentials carry no agent_token");
      u.agentToken = cred.agent_token;
      u.agentClient = new CoderClient({ url: client.url, token: cred.agent_token, concurrency: 1, ...(signal ? { signal } : {}) });
    } catch (e) {
      return fail(u, "credentials", e);
    }
    try {
      u.watch = await watchWorkspace({ url: client.url, token: hooks.token, workspaceId: wsId, headers: { "X-Coder-Bypass-Ratelimit": "true" }, ...(signal ? { signal } : {}) });
      u.rec.setup_ms = performance.now() - s0;
      say(u, `external agent ${agentName} credentials fetched; watch open`);
    } catch (e) {
      return fail(u, "watch", e);
    }
  }

  async function report(u: Unit, start: number): Promise<void> {
    for (let n = 1; n <= perWorkspace; n++) {
      const due = start + n * o.reportPeriodMs;
      const wait = due - performance.now();
      if (wait > 0 && !(await sleep(wait, signal))) return;
      if (signal?.aborted) return;
      u.sentAt.set(n, performance.now());
      u.rec.sent++;
      try {
        await u.agentClient!.request("PATCH", "/workspaceagents/me/app-status", {
          body: { app_slug: o.appSlug, state: "working", message: `scaletest status update:${n}`, uri: "https://example.com/example-status/" },
        });
      } catch (e) {
        u.sentAt.delete(n);
        u.rec.sent--;
        u.rec.report_errors++;
        metrics.reportError();
        say(u, `update ${n} not reported: ${errText(e)}`);
      }
    }
  }
}

async function deleteWorkspaces(client: CoderClient, units: Unit[], log: NonNullable<TaskStatusHooks["log"]>): Promise<{ deleted: number; failed: string[] }> {
  const out = { deleted: 0, failed: [] as string[] };
  const limit = pLimit(10);
  await Promise.all(
    units
      .filter((u) => u.rec.id)
      .map((u) =>
        limit(async () => {
          try {
            const ws = await client.workspace(u.rec.id!);
            const active = ["pending", "running", "canceling"].includes(ws.latest_build?.job?.status ?? "");
            if (active) await client.waitForBuild(ws.latest_build.id, { timeoutMs: 5 * 60_000 }).catch(() => undefined);
            const b = await client.deleteWorkspace(u.rec.id!);
            await client.waitForBuild(b.id, { timeoutMs: 5 * 60_000 });
            out.deleted++;
          } catch (e) {
            out.failed.push(`workspace ${u.rec.name}: ${errText(e).split("\n")[0]}`);
            log("warn", `task-status cleanup: ${u.rec.name}: ${errText(e).split("\n")[0]}`);
          }
        }),
      ),
  );
  return out;
}
