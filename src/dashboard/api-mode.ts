/**
 * API mode: each virtual user sends what Coder's frontend sends (src/dashboard/frontend-requests.ts), over its own
 * keep-alive pool (6 connections, a browser's per-host limit): first the global requests of a full page load
 * (once per session; the user then moves by client-side navigation), then each page's requests, concurrently
 * where the browser's react-query fetches are. While the user stays on a page (its think time) the page keeps
 * polling and holds its websockets; leaving it stops the polls and closes them. The session's own polls and the
 * inbox websocket last the whole session. No retries: a browser does not retry, and a retry would hide the
 * latency users feel. A page's time runs from its first call until every call it issued while loading has
 * settled (polls and websockets are counted per endpoint, not in the page time).
 */
import type WebSocket from "ws";
import { CoderApiError, CoderClient } from "../coder/index.ts";
import { CODER_INTERVALS, loadGlobal, PAGE_REQUESTS, type FrontendApi, type FrontendIntervals, type Query, type SiteSession } from "./frontend-requests.ts";
import type { Identity } from "./identities.ts";
import { newPageState, type PageDef, type PageName, type PageState, type PageTarget } from "./pages.ts";
import type { DashboardRecorder } from "./recorder.ts";
import { runVisitor } from "./visitor.ts";

export interface ApiVisitorOptions {
  url: string;
  identity: Identity;
  recorder: DashboardRecorder;
  deadline: number;
  signal: AbortSignal;
  thinkTimeMs: number;
  /** Limit for one API call or websocket handshake (default 30 s). */
  requestTimeoutMs: number;
  random: () => number;
  /** Only these pages (default: all the user may see). */
  pages?: readonly PageName[];
  userAgent?: string;
  /** The frontend's refetch intervals (default Coder's). */
  intervals?: Partial<FrontendIntervals>;
}

/** What a page (or the session) has running: its polls and its websockets, stopped when it is left. */
class Scope {
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #sockets = new Map<WebSocket, string>();
  /** Aborted when the page is left: a websocket still dialing then is given up, as the browser does. */
  readonly #leave = new AbortController();
  #closed = false;

  constructor(
    private readonly recorder: DashboardRecorder,
    /** A run being stopped tears sockets down itself: they were held, not ended by the server. */
    private readonly stopping: () => boolean,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  get signal(): AbortSignal {
    return this.#leave.signal;
  }

  timer(ms: number, fn: () => void): void {
    if (this.#closed) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#closed) fn();
    }, ms);
    this.#timers.add(t);
  }

  /** Holds an opened socket; one the server closes first counts as ended. */
  hold(sock: WebSocket, endpoint: string): void {
    if (this.#closed) {
      this.recorder.socket(endpoint, "held");
      sock.close(1000);
      return;
    }
    this.#sockets.set(sock, endpoint);
    sock.once("close", () => {
      if (this.#sockets.delete(sock)) this.recorder.socket(endpoint, this.stopping() ? "held" : "ended");
    });
  }

  /** Leaves the page: polls stop, sockets still open count as held and are closed normally. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leave.abort();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const [sock, endpoint] of [...this.#sockets]) {
      this.#sockets.delete(sock);
      this.recorder.socket(endpoint, "held");
      sock.close(1000);
    }
  }
}

interface ViewCollector {
  issued: Promise<unknown>[];
  /** Settled and recorded: later calls (polls) are not part of it. */
  done?: boolean;
  firstFailure?: { status: string; message: string };
}

export async function runApiVisitor(opts: ApiVisitorOptions): Promise<void> {
  const client = new CoderClient({
    url: opts.url,
    token: opts.identity.token,
    concurrency: 6,
    retry: { attempts: 1 },
    signal: opts.signal,
    timeoutMs: opts.requestTimeoutMs,
    userAgent: opts.userAgent ?? "coder-scaletest-runner/0.1 (dashboard)",
  });
  const iv: FrontendIntervals = { ...CODER_INTERVALS, ...opts.intervals };
  const state = newPageState(opts.identity);
  const stopping = (): boolean => opts.signal.aborted;
  const session = new Scope(opts.recorder, stopping);
  let page: Scope | undefined;
  let site: SiteSession | undefined;
  try {
    await runVisitor({
      owner: opts.identity.owner,
      ...(opts.pages ? { only: opts.pages } : {}),
      state,
      deadline: opts.deadline,
      signal: opts.signal,
      random: opts.random,
      pause: () => opts.random() * opts.thinkTimeMs,
      visit: async (def, target) => {
        // Navigating away leaves the previous page: its polls stop and its websockets close.
        page?.close();
        page = new Scope(opts.recorder, stopping);
        site = await visitPage(client, def, target, state, page, session, site, iv, opts);
      },
    });
  } finally {
    page?.close();
    session.close();
    await client.close();
    await deleteCreatedKeys(opts, site?.createdKeyIds ?? []);
  }
}

/** Deletes the session keys the visit created (SiteSession.createdKeyIds): best effort, not counted as load. */
async function deleteCreatedKeys(opts: ApiVisitorOptions, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  // Not the visit's client: that one is bound to the run's stop signal, which has fired by now.
  const client = new CoderClient({ url: opts.url, token: opts.identity.token, retry: { attempts: 2 }, timeoutMs: 10_000 });
  try {
    for (const id of ids) {
      if (id) await client.request("DELETE", `/users/me/keys/${encodeURIComponent(id)}`, { expect: [204] }).catch(() => {});
    }
  } finally {
    await client.close();
  }
}

function frontendApi(client: CoderClient, scope: Scope, pageName: string, view: ViewCollector, opts: ApiVisitorOptions): FrontendApi {
  const failed = (endpoint: string, err: unknown): void => {
    if (view.done) return; // a failed poll is counted by its endpoint, not against the view
    const status = err instanceof CoderApiError ? err.status : 0;
    const kind = status ? String(status) : err instanceof CoderApiError && err.code ? err.code : "error";
    view.firstFailure ??= { status: kind, message: `${endpoint}: ${(err as Error).message}` };
  };
  const call = <T>(method: string, endpoint: string, path: string, ro: { query?: Query; body?: unknown }): Promise<T> => {
    const t0 = performance.now();
    const p = client.request<T>(method, path, ro).then(
      (body) => {
        opts.recorder.request(endpoint, performance.now() - t0, 200, pageName);
        return body;
      },
      (err: unknown) => {
        if (!opts.signal.aborted) {
          opts.recorder.request(endpoint, performance.now() - t0, err instanceof CoderApiError ? err.status : 0, pageName);
          failed(endpoint, err);
        }
        throw err;
      },
    );
    // Recorded above; the caller may await p or not (a page's side requests): a failure must never become an
    // unhandled rejection, which would end the whole run.
    p.catch(() => {});
    if (!view.done) view.issued.push(p);
    return p;
  };
  return {
    get: (endpoint, path, query) => call("GET", endpoint, path, query ? { query } : {}),
    post: (endpoint, path, body) => call("POST", endpoint, path, { body }),
    every(ms, fn) {
      const tick = (): void => {
        void Promise.resolve()
          .then(fn)
          .catch(() => {})
          .then(() => scope.timer(ms, tick));
      };
      scope.timer(ms, tick);
    },
    after(ms, fn) {
      scope.timer(ms, () => void Promise.resolve().then(fn).catch(() => {}));
    },
    socket(endpoint, path, query) {
      const url = new URL(client.url);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      url.pathname = `${url.pathname.replace(/\/+$/, "")}/api/v2${path}`;
      url.search = "";
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
      if (scope.closed) return;
      const t0 = performance.now();
      client.openWebSocket(url, { signal: AbortSignal.any([opts.signal, scope.signal]) }).then(
        (sock) => {
          // The handshake is a call of the page like any other (101 when accepted), beside the socket counts.
          opts.recorder.request(endpoint, performance.now() - t0, 101, pageName);
          opts.recorder.socket(endpoint, "opened");
          sock.on("error", () => {});
          scope.hold(sock, endpoint);
        },
        (err: unknown) => {
          // A dial given up because the page was left (or the run stopped) is neither opened nor failed.
          if (opts.signal.aborted || scope.closed) return;
          opts.recorder.request(endpoint, performance.now() - t0, err instanceof CoderApiError ? err.status : 0, pageName);
          opts.recorder.socket(endpoint, "failed");
          opts.recorder.failure({
            at: new Date().toISOString(),
            user: opts.identity.username,
            page: pageName,
            url: path,
            error: `${endpoint}: ${(err as Error).message}`,
          });
        },
      );
    },
  };
}

/** Loads one page (after the session's global requests on the first view) and records it; returns the site. */
async function visitPage(
  client: CoderClient,
  def: PageDef,
  target: PageTarget,
  state: PageState,
  page: Scope,
  session: Scope,
  site: SiteSession | undefined,
  iv: FrontendIntervals,
  opts: ApiVisitorOptions,
): Promise<SiteSession | undefined> {
  const view: ViewCollector = { issued: [] };
  const t0 = performance.now();
  let loadError: unknown;
  try {
    if (!site) {
      // A full page load: the global requests first (the page renders once permissions and organizations are known).
      const g = await loadGlobal(frontendApi(client, session, def.name, view, opts), iv);
      site = g.site;
      // Its failures are recorded per request; the view awaits it below, after its own page requests, so it is
      // marked handled now (a 503 on one of the session's global requests crashed the run as an unhandled rejection).
      g.rest.catch(() => {});
      view.issued.push(g.rest);
    }
    await PAGE_REQUESTS[def.name](frontendApi(client, page, def.name, view, opts), target.url, state, site, iv);
  } catch (e) {
    loadError = e;
  }
  // The page is settled when every call it started has answered (a failed call does not cancel the others).
  for (let n = -1; n !== view.issued.length; ) {
    n = view.issued.length;
    await Promise.allSettled(view.issued);
  }
  const ms = performance.now() - t0;
  view.done = true;
  if (opts.signal.aborted) return site; // an interrupted view is neither a success nor a failure
  if (loadError === undefined && !view.firstFailure) {
    opts.recorder.page(def.name, ms, true, "ok");
    return site;
  }
  const status = view.firstFailure?.status ?? "error";
  opts.recorder.page(def.name, ms, false, status);
  opts.recorder.failure({
    at: new Date().toISOString(),
    user: opts.identity.username,
    page: def.name,
    url: target.url,
    error: view.firstFailure?.message ?? (loadError as Error).message,
  });
  return site;
}
