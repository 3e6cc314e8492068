/**
 * Browser mode: headless Chromium (playwright-core, the system's Chromium) drives the dashboard pages, one
 * browser context per virtual user authenticated by the `coder_session_token` cookie (as Coder's own
 * `exp scaletest dashboard` does). Every `--interval` ± `--jitter` the user opens a page and waits until it
 * has rendered: the element of Coder's real UI that shows it (the page's landmark, e.g. the list pages' MUI table
 * body, or an error alert), then network idle. Nothing here depends on a marker only the simulator emits. The page
 * time runs from navigation start to the later of the load event, the last API answer and the landmark. A view
 * fails on a non-2xx document or API answer, a request that got no answer, an error alert (`[role=alert]`, as
 * Coder's ErrorAlert), a missing landmark or a timeout; a screenshot of each failure is kept.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import type { Identity } from "./identities.ts";
import { endpointOf, learnFrom, newPageState, type PageDef, type PageName, type PageState, type PageTarget } from "./pages.ts";
import type { DashboardRecorder } from "./recorder.ts";
import { runVisitor } from "./visitor.ts";
import { BadInputError } from "../util/errors.ts";
import { envWithoutSecrets, redactAndTruncate } from "../util/redact.ts";

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
  /** Only these pages (default: all the user may see). */
  pages?: readonly PageName[];
}

/** Exercises HTML parsing, layout and script once per context before anything is timed. */
const WARM_UP_HTML =
  "<!doctype html><html><head><style>td{padding:4px}</style></head><body><nav><a href=\"#\">warm-up</a></nav>" +
  "<main><table><tr><td>warm</td><td>up</td></tr></table></main>" +
  "<script>document.title = JSON.stringify({ ok: [1, 2, 3].map((x) => x * 2) });</script></body></html>";

/** Coder's ErrorAlert (an MUI Alert) carries role="alert". */
const ERROR_ELEMENT = '[role="alert"]';

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

export async function runBrowserVisitor(session: BrowserSession, opts: BrowserVisitorOptions): Promise<void> {
  const state = newPageState(opts.identity);
  await runVisitor({
    owner: opts.identity.owner,
    ...(opts.pages ? { only: opts.pages } : {}),
    state,
    deadline: opts.deadline,
    signal: opts.signal,
    random: opts.random,
    pause: () => opts.intervalMs + (opts.random() * 2 - 1) * opts.jitterMs,
    visit: (def, target) => visitPage(session.page, def, target, state, opts),
  });
}

interface ApiObservation {
  endpoint: string;
  status: number;
  failure?: string;
}

async function visitPage(
  page: Page,
  def: PageDef,
  target: PageTarget,
  state: PageState,
  opts: BrowserVisitorOptions,
): Promise<void> {
  const base = new URL(opts.url);
  const url = new URL(target.url, base).toString();
  const seen: ApiObservation[] = [];
  const pending: Promise<void>[] = [];
  let lastApiEnd = 0;
  const isApi = (r: Request): boolean => {
    const u = new URL(r.url());
    return u.origin === base.origin && u.pathname.startsWith("/api/");
  };
  const onFinished = (req: Request): void => {
    if (!isApi(req)) return;
    lastApiEnd = performance.now();
    pending.push(
      (async () => {
        const resp = await req.response().catch(() => null);
        const endpoint = endpointOf(req.method(), new URL(req.url()).pathname);
        const status = resp?.status() ?? 0;
        const timing = req.timing();
        const ms = timing.responseEnd >= 0 ? timing.responseEnd : 0;
        opts.recorder.request(endpoint, ms, status, def.name);
        seen.push({ endpoint, status });
        if (resp && status >= 200 && status < 300 && (endpoint === "GET /workspaces" || endpoint === "GET /templates")) {
          learnFrom(endpoint, await resp.json().catch(() => undefined), state);
        }
      })(),
    );
  };
  const onFailed = (req: Request): void => {
    if (!isApi(req)) return;
    lastApiEnd = performance.now();
    const endpoint = endpointOf(req.method(), new URL(req.url()).pathname);
    const failure = req.failure()?.errorText ?? "request failed";
    opts.recorder.request(endpoint, 0, 0, def.name);
    seen.push({ endpoint, status: 0, failure });
  };
  page.on("requestfinished", onFinished);
  page.on("requestfailed", onFailed);

  const t0 = performance.now();
  let settledAt = 0;
  let failure: { status: string; message: string } | undefined;
  try {
    const timeout = opts.pageTimeoutMs;
    const resp = await page.goto(url, { waitUntil: "load", timeout });
    settledAt = performance.now();
    const docStatus = resp?.status() ?? 0;
    if (resp && (docStatus < 200 || docStatus >= 300)) {
      failure = { status: String(docStatus), message: `${target.url} answered HTTP ${docStatus}` };
    }
    // The real UI's landmark of the page (or an error alert instead), then network idle (no request for 500 ms).
    if (def.landmark) {
      try {
        await page.waitForSelector(`${def.landmark}, ${ERROR_ELEMENT}`, { timeout, state: "attached" });
        settledAt = Math.max(settledAt, performance.now());
      } catch (e) {
        if ((e as Error).name !== "TimeoutError") throw e;
        failure ??= { status: "no_landmark", message: `${target.url} never showed Coder's UI element ${def.landmark} (waited ${timeout} ms)` };
      }
    }
    await page.waitForLoadState("networkidle", { timeout });
  } catch (e) {
    if (opts.signal.aborted) return cleanup();
    const timedOut = (e as Error).name === "TimeoutError";
    failure ??= { status: timedOut ? "timeout" : "error", message: `${target.url}: ${(e as Error).message.split("\n")[0]}` };
  }
  await Promise.allSettled(pending);
  if (opts.signal.aborted) return cleanup();
  const ms = Math.max(settledAt, lastApiEnd) - t0;

  if (!failure) {
    const bad = seen.find((s) => s.status < 200 || s.status >= 300);
    if (bad) {
      failure = bad.status
        ? { status: String(bad.status), message: `${bad.endpoint} answered HTTP ${bad.status}` }
        : { status: "network", message: `${bad.endpoint}: ${bad.failure ?? "no answer"}` };
    }
  }
  if (!failure) {
    const errors = page.locator(ERROR_ELEMENT);
    const errText = (await errors.count().catch(() => 0)) > 0 ? await errors.first().textContent({ timeout: 1000 }).catch(() => "") : undefined;
    if (errText !== undefined) failure = { status: "error_element", message: `${target.url} shows an error: ${redactAndTruncate((errText ?? "").trim(), 200)}` };
  }

  if (!failure && def.landmark && (await page.locator(def.landmark).count().catch(() => 0)) === 0) {
    failure = { status: "no_landmark", message: `${target.url} lacks Coder's UI element ${def.landmark}` };
  }

  if (!failure) {
    opts.recorder.page(def.name, ms, true, "ok");
    return cleanup();
  }
  opts.recorder.page(def.name, ms, false, failure.status);
  let screenshot: string | undefined;
  if (opts.screenshots.taken < opts.screenshots.max) {
    opts.screenshots.taken++;
    mkdirSync(opts.screenshotDir, { recursive: true });
    const file = join(
      opts.screenshotDir,
      `dashboard-${def.name}-${opts.identity.username}-${new Date().toISOString().replace(/[:.]/g, "-")}.png`,
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
    page: def.name,
    url: target.url,
    error: failure.message,
    ...(screenshot ? { screenshot } : {}),
  });
  return cleanup();

  function cleanup(): void {
    page.off("requestfinished", onFinished);
    page.off("requestfailed", onFailed);
  }
}
