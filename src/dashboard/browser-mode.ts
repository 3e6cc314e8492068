/**
 * Browser mode: headless Chromium (playwright-core, the system's Chromium), one browser context per targeted
 * user authenticated by the `coder_session_token` cookie, driven as Coder's own `exp scaletest dashboard` drives
 * it: land on "/", then every `--interval` ± `--jitter` click a random target of Coder's default list and wait
 * for the element of Coder's real UI that shows the opened page (browser-targets.ts). Nothing here depends on a
 * marker only the simulator emits: a page without Coder's element is a failed view. Failed views keep a
 * screenshot (shared budget).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { browserTargets, LANDING_TARGET, type BrowserTarget } from "./browser-targets.ts";
import type { Identity } from "./identities.ts";
import { endpointOf } from "./pages.ts";
import type { DashboardRecorder } from "./recorder.ts";
import { BadInputError } from "../util/errors.ts";
import { envWithoutSecrets, redactAndTruncate } from "../util/redact.ts";
import { sleep } from "../util/sleep.ts";

/** Flags for a headless Chromium on a machine without network access or a GPU. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  try {
    return await chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS], env: envWithoutSecrets() });
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0] ?? "";
    throw new BadInputError(
      `could not start Chromium at ${executablePath} (${msg}). Install it with \`apt-get install -y chromium\` ` +
        "or point --chromium-path (SCALETEST_CHROMIUM_PATH) at a Chromium binary.",
    );
  }
}

export interface BrowserVisitorOptions {
  url: string;
  identity: Identity;
  recorder: DashboardRecorder;
  deadline: number;
  signal: AbortSignal;
  intervalMs: number;
  jitterMs: number;
  /** Limit for one page to settle (default 30 s). */
  pageTimeoutMs: number;
  /** Where failure screenshots go. */
  screenshotDir: string;
  /** Screenshots are taken while fewer than this many exist (shared budget). */
  screenshots: { taken: number; max: number };
  random: () => number;
  /** Only the targets opening these pages (browser-targets.ts names; default: every target). */
  pages?: readonly string[];
  /** Told of every page view as it is recorded. */
  onView?: (view: BrowserView) => void;
}

/** Exercises HTML parsing, layout and script once per context before anything is timed. */
const WARM_UP_HTML =
  "<!doctype html><html><head><style>td{padding:4px}</style></head><body><nav><a href=\"#\">warm-up</a></nav>" +
  "<main><table><tr><td>warm</td><td>up</td></tr></table></main>" +
  "<script>document.title = JSON.stringify({ ok: [1, 2, 3].map((x) => x * 2) });</script></body></html>";

/** Coder's ErrorAlert carries role="alert" (as do its info and warning alerts: see ALERT_GRACE_MS). */
const ERROR_ELEMENT = '[role="alert"]';

/** How long the page's element may follow an alert before the alert counts as the page's error. */
const ALERT_GRACE_MS = 1000;

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * One browser context for a user, its session cookie set and warmed up (not measured): the first navigation
 * to an origin starts its renderer process and compiles the page machinery, which on a busy runner takes
 * longer than the server does to answer. Sessions are opened before the clock of the run starts.
 */
export async function openBrowserSession(browser: Browser, url: string, identity: Identity, timeoutMs: number): Promise<BrowserSession> {
  const origin = new URL(url);
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  try {
    await context.addCookies([
      { name: "coder_session_token", value: identity.token, url: origin.origin, httpOnly: true, sameSite: "Lax" },
    ]);
    const page = await context.newPage();
    await page.goto(new URL("/api/v2/buildinfo", origin).toString(), { timeout: timeoutMs }).catch(() => null);
    await page.setContent(WARM_UP_HTML, { timeout: timeoutMs }).catch(() => null);
    return { context, page, close: () => context.close().catch(() => {}) };
  } catch (e) {
    await context.close().catch(() => {});
    throw e;
  }
}

/** One page view of browser mode, as it happened (for logs and tests: the clicks a seed makes). */
export interface BrowserView {
  user: string;
  /** Coder's action label. */
  action: string;
  page: string;
  /** The page's path once it had rendered (or when it failed). */
  url: string;
  ok: boolean;
  /** "ok", an HTTP status or a failure kind. */
  status: string;
}

/**
 * The loop of one browser user, as Coder's runner (scaletest/dashboard/run.go): land on "/" and wait for the
 * workspaces table, then at once and every `--interval` ± `--jitter` (counted from the previous tick) click a
 * random target of the current page and wait for the page it opens. Random draws in Coder's order: the jitter,
 * then one element per target found, then the target. A view may run to the page timeout; the next tick then
 * follows it at once (as Go's ticker does).
 */
export async function runBrowserVisitor(session: BrowserSession, opts: BrowserVisitorOptions): Promise<void> {
  const page = session.page;
  const targets = browserTargets(opts.pages);
  const randInt = (n: number): number => Math.min(n - 1, Math.floor(opts.random() * n));
  const timeout = opts.pageTimeoutMs;
  const landing = new URL("/", opts.url).toString();
  await act(page, LANDING_TARGET, () => page.goto(landing, { waitUntil: "commit", timeout }), opts);
  while (!opts.signal.aborted && Date.now() < opts.deadline) {
    const tick = Date.now();
    const wait = opts.intervalMs + (opts.jitterMs > 0 ? randInt(2 * opts.jitterMs) - opts.jitterMs : 0);
    const choice = await chooseTarget(page, targets, randInt);
    if (opts.signal.aborted) return;
    if (choice) {
      const { target, index } = choice;
      await act(page, target, () => page.locator(target.clickOn).nth(index).click({ timeout }), opts);
    } else {
      // Coder logs this and takes a screenshot; no action is counted. It is kept as a failure so it shows.
      const path = pathOf(page.url());
      await keepFailure(page, "no_target", path, `${path} shows none of the click targets of Coder's dashboard runner`, opts);
    }
    if (opts.signal.aborted) return;
    const pause = Math.min(tick + wait - Date.now(), opts.deadline - Date.now());
    if (pause > 0) await sleep(pause, opts.signal);
  }
}

/** Every target with a matching element on the page (one element drawn for each), then one of them drawn. */
async function chooseTarget(
  page: Page,
  targets: readonly BrowserTarget[],
  randInt: (n: number) => number,
): Promise<{ target: BrowserTarget; index: number } | undefined> {
  const found: { target: BrowserTarget; index: number }[] = [];
  for (const target of targets) {
    const n = await page.locator(target.clickOn).count().catch(() => 0);
    if (n > 0) found.push({ target, index: randInt(n) });
  }
  return found.length ? found[randInt(found.length)] : undefined;
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

/** Requests that stay open while the page does (watch streams, followed logs): not waited for. */
const STREAM_RE = /\/(watch|watch-ws|watch-metadata-ws|pty|logs|inbox\/watch)$/;

interface ApiObservation {
  endpoint: string;
  status: number;
  failure?: string;
}

/**
 * One page view: `start` (a click, or the landing navigation), then the target's element of Coder's UI (or an
 * error alert in its place). The time runs from the click to that element, as Coder's duration. Then the
 * page's API calls still under way are given until their answer (at most 5 s, not timed) so they are judged.
 * A view fails on a document answering 4xx/5xx, an API call answering 5xx or 429 or not at all, a click that
 * could not be made, or the element missing (then named by the page's error alert or a refused API call, if
 * any). Other 4xx answers are counted per endpoint but do not fail a page that rendered: Coder's frontend
 * probes permissions and optional data and renders without them.
 */
async function act(page: Page, target: BrowserTarget, start: () => Promise<unknown>, opts: BrowserVisitorOptions): Promise<void> {
  const base = new URL(opts.url);
  const seen: ApiObservation[] = [];
  const pending: Promise<void>[] = [];
  let docFailure: { status: string; message: string } | undefined;
  // API requests of this view still without an answer (long-lived streams left out: they never end).
  const inflight = new Set<Request>();
  const onRequest = (req: Request): void => {
    if (isApi(req) && !STREAM_RE.test(new URL(req.url()).pathname)) inflight.add(req);
  };
  const isApi = (r: Request): boolean => {
    const u = new URL(r.url());
    return u.origin === base.origin && u.pathname.startsWith("/api/");
  };
  const onFinished = (req: Request): void => {
    inflight.delete(req);
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
      pending.push(
        (async () => {
          const resp = await req.response().catch(() => null);
          const status = resp?.status() ?? 0;
          if (status >= 400) docFailure ??= { status: String(status), message: `${pathOf(req.url())} answered HTTP ${status}` };
        })(),
      );
      return;
    }
    if (!isApi(req)) return;
    pending.push(
      (async () => {
        const resp = await req.response().catch(() => null);
        const endpoint = endpointOf(req.method(), new URL(req.url()).pathname);
        const status = resp?.status() ?? 0;
        const timing = req.timing();
        opts.recorder.request(endpoint, timing.responseEnd >= 0 ? timing.responseEnd : 0, status, target.page);
        seen.push({ endpoint, status });
      })(),
    );
  };
  const onFailed = (req: Request): void => {
    inflight.delete(req);
    if (!isApi(req)) return;
    const endpoint = endpointOf(req.method(), new URL(req.url()).pathname);
    opts.recorder.request(endpoint, 0, 0, target.page);
    seen.push({ endpoint, status: 0, failure: req.failure()?.errorText ?? "request failed" });
  };
  page.on("request", onRequest);
  page.on("requestfinished", onFinished);
  page.on("requestfailed", onFailed);
  const cleanup = (): void => {
    page.off("request", onRequest);
    page.off("requestfinished", onFinished);
    page.off("requestfailed", onFailed);
  };

  const timeout = opts.pageTimeoutMs;
  const t0 = performance.now();
  let settledAt = 0;
  let failure: { status: string; message: string } | undefined;
  try {
    try {
      await start();
    } catch (e) {
      if (opts.signal.aborted) throw e;
      const why = (e as Error).message.split("\n")[0] ?? "";
      failure = target === LANDING_TARGET
        ? { status: (e as Error).name === "TimeoutError" ? "timeout" : "error", message: `${opts.url}: ${why}` }
        : { status: "click_failed", message: `could not click ${target.clickOn} on ${pathOf(page.url())}: ${why}` };
    }
    if (!failure) {
      try {
        await page.waitForSelector(`${target.waitFor}, ${ERROR_ELEMENT}`, { timeout, state: "attached" });
        settledAt = performance.now();
        if ((await page.locator(target.waitFor).count()) === 0) {
          // An alert came first. Coder's UI shows info and warning alerts (role=alert too) beside the content,
          // so the element gets a short grace before the alert counts as the page's error.
          const shown = await page
            .waitForSelector(target.waitFor, { timeout: Math.min(timeout, ALERT_GRACE_MS), state: "attached" })
            .then(() => true, () => false);
          if (shown) settledAt = performance.now();
        }
      } catch (e) {
        if ((e as Error).name !== "TimeoutError") throw e;
        failure = { status: "no_landmark", message: `${pathOf(page.url())} never showed Coder's UI element ${target.waitFor} (waited ${timeout} ms)` };
      }
      // The page's API calls still under way get until their answer (at most 5 s, not timed) to be judged.
      const until = Date.now() + Math.min(timeout, 5000);
      while (inflight.size > 0 && Date.now() < until && !opts.signal.aborted) await sleep(10, opts.signal);
    }
  } catch (e) {
    if (opts.signal.aborted) return cleanup();
    failure ??= { status: "error", message: `${pathOf(page.url())}: ${(e as Error).message.split("\n")[0]}` };
  }
  await Promise.allSettled(pending);
  cleanup();
  if (opts.signal.aborted) return;
  const ms = (settledAt || performance.now()) - t0;
  const url = pathOf(page.url());

  failure ??= docFailure;
  // A call with no answer, rate-limited or failing on the server fails the view even when the page rendered.
  failure ??= apiFailure(seen.find((s) => s.status === 0 || s.status === 429 || s.status >= 500));
  if (!failure && (await page.locator(target.waitFor).count().catch(() => 0)) === 0) {
    // No element of Coder's UI: say why as precisely as the page does (its error alert, a refused call).
    const errors = page.locator(ERROR_ELEMENT);
    const errText = (await errors.count().catch(() => 0)) > 0 ? await errors.first().textContent({ timeout: 1000 }).catch(() => "") : undefined;
    failure =
      errText !== undefined
        ? { status: "error_element", message: `${url} shows an error: ${redactAndTruncate((errText ?? "").trim(), 200)}` }
        : (apiFailure(seen.find((s) => s.status < 200 || s.status >= 300)) ??
          { status: "no_landmark", message: `${url} lacks Coder's UI element ${target.waitFor}` });
  }

  opts.recorder.page(target.page, ms, !failure, failure?.status ?? "ok");
  opts.onView?.({ user: opts.identity.username, action: target.action, page: target.page, url, ok: !failure, status: failure?.status ?? "ok" });
  if (failure) await keepFailure(page, target.page, url, failure.message, opts);
}

function apiFailure(bad: ApiObservation | undefined): { status: string; message: string } | undefined {
  if (!bad) return undefined;
  return bad.status
    ? { status: String(bad.status), message: `${bad.endpoint} answered HTTP ${bad.status}` }
    : { status: "network", message: `${bad.endpoint}: ${bad.failure ?? "no answer"}` };
}

/** A failure in the results, with a screenshot while the shared budget lasts. */
async function keepFailure(page: Page, pageName: string, url: string, error: string, opts: BrowserVisitorOptions): Promise<void> {
  let screenshot: string | undefined;
  if (opts.screenshots.taken < opts.screenshots.max) {
    opts.screenshots.taken++;
    mkdirSync(opts.screenshotDir, { recursive: true });
    const file = join(
      opts.screenshotDir,
      `dashboard-${pageName}-${opts.identity.username}-${new Date().toISOString().replace(/[:.]/g, "-")}.png`,
    );
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
      screenshot = file;
    } catch {
      opts.screenshots.taken--;
    }
  }
  opts.recorder.failure({
    at: new Date().toISOString(),
    user: opts.identity.username,
    page: pageName,
    url,
    error,
    ...(screenshot ? { screenshot } : {}),
  });
}
