// Waiting for a workspace build the way Coder's scale test does (scaletest/workspacebuild waitForBuild): poll
// the build while its job is pending, then follow its log stream — the websocket
// GET /workspacebuilds/{id}/logs?follow — until the server closes it (the job ended), then read the build once
// more for its final status. The stream is a real part of coderd's load during mass creation, and its last lines
// are the failure's reason. Everything is bounded: frame size, lines kept, reconnects, the caller's deadline.
import type WebSocket from "ws";
import type { CoderClient } from "./client.ts";
import { BuildFailedError, WaitTimeoutError } from "./errors.ts";
import type { ProvisionerJobLog, WorkspaceBuild } from "./types.ts";
import { sleepOrThrow } from "../util/sleep.ts";

/** Largest log frame accepted; one ProvisionerJobLog is a line of output, never near this. */
const MAX_LOG_FRAME_BYTES = 256 * 1024;
/** Characters of one log line kept for the failure tail. */
const MAX_TAIL_LINE_CHARS = 2000;
/** Redials after the stream closed while the job was still active (a dropped connection). */
const MAX_STREAM_RECONNECTS = 5;
/** Dial attempts for one stream before the wait fails with the dial's error. */
const MAX_DIAL_ATTEMPTS = 3;

export interface FollowBuildOptions {
  /** Poll interval while the job is pending (ms; Coder's is 500). */
  pendingPollMs?: number;
  /** Whole wait (ms, default 10 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each polled build whose job status changed (the first included), and with the final one. */
  onUpdate?: (build: WorkspaceBuild) => void;
  /** Called with every log line as it arrives. */
  onLog?: (log: ProvisionerJobLog) => void;
  /** Log lines kept for a failed build's BuildFailedError (default 20). */
  logTailLines?: number;
  /** Counts of what the stream did, filled in as it happens. */
  stats?: FollowStats;
}

export interface FollowStats {
  /** Log lines received over the stream. */
  lines: number;
  /** Streams opened (the first and every redial). */
  streams: number;
  /** Redials after a stream closed with the job still active. */
  reconnects: number;
  /** Frames that were not a JSON log line (ignored, counted). */
  badFrames: number;
}

export function newFollowStats(): FollowStats {
  return { lines: 0, streams: 0, reconnects: 0, badFrames: 0 };
}

const ACTIVE = new Set(["pending", "running", "canceling"]);

/** ws(s):// URL of the build's log stream, exactly as codersdk builds it (`?follow`, `&after=` only when non-zero). */
export function buildLogsFollowUrl(base: URL, buildId: string, after = 0): URL {
  const u = new URL(base.href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  const prefix = u.pathname.replace(/\/+$/, "");
  return new URL(`${u.origin}${prefix}/api/v2/workspacebuilds/${encodeURIComponent(buildId)}/logs?follow${after ? `&after=${after}` : ""}`);
}

/**
 * Resolves with the build when its job succeeded; throws BuildFailedError (job error + the streamed log's last
 * lines) when it failed or was canceled, WaitTimeoutError after timeoutMs, and the client's error when the
 * deployment refuses the stream (after MAX_DIAL_ATTEMPTS) or an abort.
 */
export async function waitForBuildFollowingLogs(client: CoderClient, buildId: string, opts: FollowBuildOptions = {}): Promise<WorkspaceBuild> {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const deadline = Date.now() + timeoutMs;
  const pendingPoll = Math.max(10, opts.pendingPollMs ?? 500);
  const tailLines = opts.logTailLines ?? 20;
  const stats = opts.stats ?? newFollowStats();
  const tail: ProvisionerJobLog[] = [];
  let lastId = 0;
  let lastStatus = "";
  const get = async (): Promise<WorkspaceBuild> => {
    const b = await client.workspaceBuild(buildId, opts.signal ? { signal: opts.signal } : {});
    if (b.job?.status !== lastStatus) {
      lastStatus = b.job?.status ?? "";
      opts.onUpdate?.(b);
    }
    return b;
  };
  const timedOut = (b: WorkspaceBuild, doing: string): WaitTimeoutError =>
    new WaitTimeoutError(
      `workspace build ${buildId} (${b.transition} of ${b.workspace_owner_name}/${b.workspace_name})`,
      `build status ${b.status}, job ${b.job?.status}${b.job?.queue_position ? `, queue position ${b.job.queue_position}` : ""}; ${doing}`,
      timeoutMs,
    );

  // 1. While queued: poll.
  let build = await get();
  while (build.job?.status === "pending") {
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut(build, "queued");
    await sleepOrThrow(Math.min(left, pendingPoll), opts.signal);
    build = await get();
  }

  // 2. Follow the log until the server ends the stream with the job finished.
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut(build, `following its log (${stats.lines} lines so far)`);
    const ended = await followOnce(client, buildLogsFollowUrl(client.url, buildId, lastId), left, opts.signal, stats, (log) => {
      if (log.id > lastId) lastId = log.id;
      // Kept bounded whatever the server sends: a few lines, each cut to MAX_TAIL_LINE_CHARS.
      tail.push(log.output.length > MAX_TAIL_LINE_CHARS ? { ...log, output: `${log.output.slice(0, MAX_TAIL_LINE_CHARS)}…` } : log);
      if (tail.length > tailLines) tail.shift();
      opts.onLog?.(log);
    });
    if (ended === "timeout") throw timedOut(build, `following its log (${stats.lines} lines so far)`);
    build = await get();
    const status = build.job?.status ?? "";
    if (status === "succeeded") return build;
    if (status === "failed" || status === "canceled") throw new BuildFailedError(build, tail, tailLines);
    if (!ACTIVE.has(status) || stats.reconnects >= MAX_STREAM_RECONNECTS) {
      throw new Error(
        `build ${buildId}: its log stream closed ${stats.reconnects + 1} time(s) while the job was still ${status || "in an unknown state"}` +
          (build.job?.error ? ` (${build.job.error})` : ""),
      );
    }
    stats.reconnects++;
    await sleepOrThrow(Math.min(Math.max(1, deadline - Date.now()), 250 * stats.reconnects), opts.signal);
  }
}

/**
 * One log stream: resolves "closed" when the server closes it (or the connection drops), "timeout" when
 * `limitMs` passes first. Dial failures are retried up to MAX_DIAL_ATTEMPTS, then thrown.
 */
async function followOnce(
  client: CoderClient,
  url: URL,
  limitMs: number,
  signal: AbortSignal | undefined,
  stats: FollowStats,
  onLog: (log: ProvisionerJobLog) => void,
): Promise<"closed" | "timeout"> {
  // Attached at the dial: the first lines (even the whole log and its close) can come with the 101 answer itself.
  const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    // A text frame arrives as one Buffer (ws's default binaryType): decoded in place, not copied first.
    const text = isBinary ? null : (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString("utf8");
    const log = text === null ? null : parseLog(text);
    if (!log) {
      stats.badFrames++;
      return;
    }
    stats.lines++;
    onLog(log);
  };
  let ws: WebSocket | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      ws = await client.openWebSocket(url, {
        onMessage,
        maxPayload: MAX_LOG_FRAME_BYTES,
        handshakeTimeoutMs: Math.max(1, Math.min(limitMs, 30_000)),
        ...(signal ? { signal } : {}),
      });
      break;
    } catch (e) {
      if (signal?.aborted || attempt >= MAX_DIAL_ATTEMPTS) throw e;
      await sleepOrThrow(200 * attempt, signal);
    }
  }
  stats.streams++;
  const sock = ws;
  return new Promise<"closed" | "timeout">((resolve, reject) => {
    let done = false;
    const finish = (how: "closed" | "timeout" | Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (how !== "closed") sock.terminate();
      if (how instanceof Error) reject(how);
      else resolve(how);
    };
    const timer = setTimeout(() => finish("timeout"), Math.max(1, limitMs));
    const onAbort = (): void => finish(new Error(`aborted while following the log of ${url.pathname}`, { cause: signal?.reason }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    sock.once("close", () => finish("closed"));
    if (sock.readyState === sock.CLOSED) finish("closed");
    // An error is followed by close: the final build read decides what it meant.
    sock.on("error", () => {});
  });
}

function parseLog(text: string): ProvisionerJobLog | null {
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== "object") return null;
    const o = v as Record<string, unknown>;
    if (typeof o["id"] !== "number" || typeof o["output"] !== "string") return null;
    return v as ProvisionerJobLog;
  } catch {
    return null;
  }
}
