// One dynamic-parameters session, as Coder's runner (scaletest/dynamicparameters/run.go): open the
// template version's dynamic-parameters websocket, take the initial evaluation (id -1; it must list the
// `zero` parameter and carry no diagnostic), send one change ({"id":1,"inputs":{"zero":"B"}}), take its
// response (id 1, no diagnostic), close normally. Initial latency: start -> initial evaluation (dial
// included); change latency: initial evaluation -> change response, both as Coder measures them.
// Never throws: the outcome is the returned record. A diagnostic fails the session with its text.
import type WebSocket from "ws";
import type { CoderClient } from "../coder/client.ts";
import { redactAndTruncate } from "../util/redact.ts";
import { CHANGED_VALUE, EXPECTED_PARAMETER } from "./template.ts";
import type { Diagnostic, DynamicParametersResponse, SessionResult, SessionStage } from "./types.ts";

/** Largest frame accepted: an evaluation of the scale-test template is a few KiB. */
export const MAX_FRAME_BYTES = 1 << 20;
/** Longest diagnostic text kept in an error. */
const MAX_DIAG_TEXT = 300;
/** Frames held unread; a server that floods beyond this fails the session. */
const MAX_QUEUED = 16;

export function dynamicParametersUrl(base: URL, versionId: string): URL {
  const u = new URL(base.href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/api/v2/templateversions/${encodeURIComponent(versionId)}/dynamic-parameters`;
  u.search = "";
  u.hash = "";
  return u;
}

function diagText(d: Diagnostic): string {
  const parts = [d.severity, d.summary, d.detail].filter((s): s is string => typeof s === "string" && s !== "");
  return redactAndTruncate(parts.join(": "), MAX_DIAG_TEXT);
}

/** Coder's checkNoDiagnostics: the response's own diagnostics, then each parameter's. */
export function diagnosticsError(resp: DynamicParametersResponse): string | null {
  const top = resp.diagnostics ?? [];
  if (top.length) return `unexpected response diagnostics: ${top.slice(0, 3).map(diagText).join("; ")}${top.length > 3 ? ` (+${top.length - 3} more)` : ""}`;
  for (const p of resp.parameters ?? []) {
    const d = p.diagnostics ?? [];
    if (d.length) return `unexpected parameter diagnostics for '${redactAndTruncate(String(p.name), 64)}': ${d.slice(0, 3).map(diagText).join("; ")}`;
  }
  return null;
}

class FrameQueue {
  private readonly frames: (DynamicParametersResponse | Error)[] = [];
  private waiter: ((f: DynamicParametersResponse | Error) => void) | null = null;
  private ended: Error | null = null;

  push(f: DynamicParametersResponse | Error): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(f);
      return;
    }
    if (this.frames.length >= MAX_QUEUED) {
      this.end(new Error(`the server sent more than ${MAX_QUEUED} unrequested frames`));
      return;
    }
    this.frames.push(f);
  }

  end(e: Error): void {
    if (this.ended) return;
    this.ended = e;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(e);
    }
  }

  next(signal: AbortSignal): Promise<DynamicParametersResponse | Error> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (this.ended) return Promise.resolve(this.ended);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiter = null;
        resolve(new Error("stopped"));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiter = (x) => {
        signal.removeEventListener("abort", onAbort);
        resolve(x);
      };
    });
  }
}

function parseFrame(data: WebSocket.RawData, isBinary: boolean): DynamicParametersResponse | Error {
  if (isBinary) return new Error("the server sent a binary frame (Coder sends text JSON)");
  const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return new Error(`the server sent a frame that is not JSON (it starts ${JSON.stringify(redactAndTruncate(text, 40))})`);
  }
  if (!v || typeof v !== "object" || typeof (v as { id?: unknown }).id !== "number") {
    return new Error("the server sent a frame without a numeric id (not a DynamicParametersResponse)");
  }
  return v as DynamicParametersResponse;
}

export interface SessionSpec {
  id: string;
  partition: number;
  concurrentEvaluations: number;
  versionId: string;
}

/**
 * Runs one session. `signal` ends it (the unit's timeout or the run's stop); `stopText` says which, for
 * the error. `now` is injectable for tests.
 */
export async function runSession(
  client: CoderClient,
  spec: SessionSpec,
  signal: AbortSignal,
  stopText: () => string,
  now: () => number = () => performance.now(),
): Promise<SessionResult> {
  const rec: SessionResult = {
    id: spec.id,
    partition: spec.partition,
    concurrent_evaluations: spec.concurrentEvaluations,
    version_id: spec.versionId,
    started_at: Date.now(),
    ok: false,
    not_started: false,
    initial_ms: null,
    change_ms: null,
    failed_stage: null,
    error: null,
    logs: [],
  };
  const say = (m: string): void => void rec.logs.push(`${new Date().toISOString()} ${m}`);
  const fail = (stage: SessionStage, error: string): SessionResult => {
    rec.failed_stage = stage;
    rec.error = error;
    say(`FAILED (${stage}): ${error}`);
    return rec;
  };
  const queue = new FrameQueue();
  const start = now();
  let ws: WebSocket;
  try {
    ws = await client.openWebSocket(dynamicParametersUrl(client.url, spec.versionId), {
      signal,
      maxPayload: MAX_FRAME_BYTES,
      onMessage: (data, isBinary) => queue.push(parseFrame(data, isBinary)),
    });
  } catch (e) {
    return fail("connect", signal.aborted ? stopText() : `connect to dynamic parameters stream: ${(e as Error).message}`);
  }
  ws.on("close", (code, reason) => queue.end(new Error(`the stream closed (${code}${reason.length ? ` ${redactAndTruncate(reason.toString("utf8"), 80)}` : ""})`)));
  ws.on("error", (e) => queue.end(new Error(`stream error: ${e.message}`)));
  try {
    const first = await queue.next(signal);
    if (first instanceof Error) return fail("initial", signal.aborted ? stopText() : `dynamic parameters stream: no initial response: ${first.message}`);
    const initAt = now();
    rec.initial_ms = initAt - start;
    say(`initial response id ${first.id} with ${(first.parameters ?? []).length} parameter(s) after ${Math.round(rec.initial_ms)} ms`);
    if (!(first.parameters ?? []).some((p) => p.name === EXPECTED_PARAMETER)) {
      return fail("initial", `missing expected parameter: '${EXPECTED_PARAMETER}'`);
    }
    const d0 = diagnosticsError(first);
    if (d0) return fail("initial", `unexpected initial response diagnostics: ${d0}`);

    ws.send(JSON.stringify({ id: 1, inputs: { [EXPECTED_PARAMETER]: CHANGED_VALUE } }));
    const second = await queue.next(signal);
    if (second instanceof Error) return fail("change", signal.aborted ? stopText() : `dynamic parameters stream: no change response: ${second.message}`);
    rec.change_ms = now() - initAt;
    say(`change response id ${second.id} after ${Math.round(rec.change_ms)} ms`);
    if (second.id !== 1) return fail("change", `unexpected response ID: ${second.id}`);
    const d1 = diagnosticsError(second);
    if (d1) return fail("change", `unexpected change response diagnostics: ${d1}`);
    rec.ok = true;
    return rec;
  } finally {
    if (ws.readyState === ws.OPEN) ws.close(1000);
    else ws.terminate();
  }
}
