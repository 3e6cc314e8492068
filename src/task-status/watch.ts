// The workspace watch Coder's task-status runner reads (GET /api/v2/workspaces/{id}/watch, server-sent
// events: `event: data` carrying the workspace JSON on every change). Each event's
// latest_app_status.message is matched against "scaletest status update:<n>"; the first time n shows is
// recorded. Bounded whatever the server sends: an event longer than MAX_EVENT_BYTES ends the watch.
import { request } from "undici";

export const MAX_EVENT_BYTES = 4 * 1024 * 1024;
const UPDATE_RE = /scaletest status update:(\d+)/;

export interface WorkspaceWatch {
  /** Update number -> performance.now() when the watch first showed it. */
  readonly seen: Map<number, number>;
  /** Resolves when the stream ends (closed by either side), with the reason when it failed. */
  readonly done: Promise<string | null>;
  close(): void;
}

export async function watchWorkspace(o: { url: URL; token: string; workspaceId: string; signal?: AbortSignal; headers?: Record<string, string> }): Promise<WorkspaceWatch> {
  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const target = new URL(`api/v2/workspaces/${encodeURIComponent(o.workspaceId)}/watch`, o.url.href.endsWith("/") ? o.url : new URL(o.url.href + "/"));
  const res = await request(target, {
    method: "GET",
    headers: { ...(o.headers ?? {}), accept: "text/event-stream", "coder-session-token": o.token },
    signal: ac.signal,
  });
  if (res.statusCode !== 200) {
    const text = (await res.body.text().catch(() => "")).slice(0, 300);
    o.signal?.removeEventListener("abort", onAbort);
    throw new Error(`GET ${target.pathname} answered ${res.statusCode}${text ? `: ${text}` : ""}`);
  }
  const seen = new Map<number, number>();
  const done = (async (): Promise<string | null> => {
    let buf = "";
    try {
      for await (const chunk of res.body) {
        buf += (chunk as Buffer).toString("utf8");
        for (let end = buf.indexOf("\n\n"); end >= 0; end = buf.indexOf("\n\n")) {
          handle(buf.slice(0, end));
          buf = buf.slice(end + 2);
        }
        if (buf.length > MAX_EVENT_BYTES) return `an event longer than ${MAX_EVENT_BYTES} bytes`;
      }
      return ac.signal.aborted ? null : "the deployment closed the watch";
    } catch (e) {
      return ac.signal.aborted ? null : (e as Error).message;
    } finally {
      o.signal?.removeEventListener("abort", onAbort);
    }
  })();
  function handle(event: string): void {
    let type = "message";
    const data: string[] = [];
    for (const line of event.split("\n")) {
      if (line.startsWith("event:")) type = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (type !== "data" || !data.length) return;
    const now = performance.now();
    let msg: unknown;
    try {
      msg = (JSON.parse(data.join("\n")) as { latest_app_status?: { message?: unknown } }).latest_app_status?.message;
    } catch {
      return;
    }
    const m = typeof msg === "string" ? UPDATE_RE.exec(msg) : null;
    if (!m) return;
    const n = Number(m[1]);
    if (!seen.has(n)) seen.set(n, now);
  }
  return { seen, done, close: () => ac.abort() };
}
