/**
 * API mode: each virtual user issues the API calls each dashboard page makes (src/dashboard/pages.ts),
 * concurrently within a page as the browser does, over its own keep-alive pool (6 connections, a browser's
 * per-host limit). No retries: a browser does not retry, and a retry would hide the latency users feel.
 * A page's time runs from its first call until every call it issued has settled.
 */
import { CoderApiError, CoderClient } from "../coder/index.ts";
import type { Identity } from "./identities.ts";
import { newPageState, type PageApi, type PageDef, type PageName, type PageState, type PageTarget, type Query } from "./pages.ts";
import type { DashboardRecorder } from "./recorder.ts";
import { runVisitor } from "./visitor.ts";

export interface ApiVisitorOptions {
  url: string;
  identity: Identity;
  recorder: DashboardRecorder;
  deadline: number;
  signal: AbortSignal;
  thinkTimeMs: number;
  /** Limit for one API call (default 30 s). */
  requestTimeoutMs: number;
  random: () => number;
  /** Only these pages (default: all the user may see). */
  pages?: readonly PageName[];
  userAgent?: string;
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
  const state = newPageState(opts.identity);
  try {
    await runVisitor({
      owner: opts.identity.owner,
      ...(opts.pages ? { only: opts.pages } : {}),
      state,
      deadline: opts.deadline,
      signal: opts.signal,
      random: opts.random,
      pause: () => opts.random() * opts.thinkTimeMs,
      visit: (page, target) => visitPage(client, page, target, state, opts),
    });
  } finally {
    await client.close();
  }
}

async function visitPage(
  client: CoderClient,
  page: PageDef,
  target: PageTarget,
  state: PageState,
  opts: ApiVisitorOptions,
): Promise<void> {
  const issued: Promise<unknown>[] = [];
  let firstFailure: { status: string; message: string } | undefined;
  const api: PageApi = {
    get<T>(endpoint: string, path: string, query?: Query): Promise<T> {
      const t0 = performance.now();
      const p = client.request<T>("GET", path, query ? { query } : {}).then(
        (body) => {
          opts.recorder.request(endpoint, performance.now() - t0, 200, page.name);
          return body;
        },
        (err: unknown) => {
          const aborted = opts.signal.aborted;
          const status = err instanceof CoderApiError ? err.status : 0;
          if (!aborted) {
            opts.recorder.request(endpoint, performance.now() - t0, status, page.name);
            const kind = status ? String(status) : err instanceof CoderApiError && err.code ? err.code : "error";
            firstFailure ??= { status: kind, message: `${endpoint}: ${(err as Error).message}` };
          }
          throw err;
        },
      );
      issued.push(p);
      return p;
    },
  };
  const t0 = performance.now();
  let loadError: unknown;
  try {
    await target.load(api, state);
  } catch (e) {
    loadError = e;
  }
  // The page is settled when every call it started has answered (a failed call does not cancel the others).
  await Promise.allSettled(issued);
  const ms = performance.now() - t0;
  if (opts.signal.aborted) return; // an interrupted view is neither a success nor a failure
  if (loadError === undefined && !firstFailure) {
    opts.recorder.page(page.name, ms, true, "ok");
    return;
  }
  const status = firstFailure?.status ?? "error";
  opts.recorder.page(page.name, ms, false, status);
  opts.recorder.failure({
    at: new Date().toISOString(),
    user: opts.identity.username,
    page: page.name,
    url: target.url,
    error: firstFailure?.message ?? (loadError as Error).message,
  });
}
