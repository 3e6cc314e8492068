// The live report: while a run goes, a small HTTP server serves the same report page, regenerated from the
// run folder on every request (phases, headline figures, charts growing along the time axis). The page
// re-fetches itself every few seconds (html.ts's live mode); once the run has written summary.json the page
// it gets is the final report and it stops polling. Read-only: GET / and GET /healthz, nothing else.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { latestRunDir } from "../results/dir.ts";
import { redact } from "../util/redact.ts";
import { escapeHtml } from "./format.ts";
import { renderHtml } from "./html.ts";
import { loadReportModel } from "./model.ts";

export const LIVE_REFRESH_MS = 3000;

export interface LiveServerOptions {
  /** host:port; port 0 picks a free one. */
  address: string;
  /** A fixed run folder, or... */
  runDir?: string;
  /** ...the results folder, whose latest run (LATEST) is served: the page follows a new run as it starts. */
  resultsDir?: string;
  refreshMs?: number;
}

export interface LiveServer {
  url: string;
  close(): Promise<void>;
}

function waitingPage(text: string, refreshMs: number): string {
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${Math.max(1, Math.round(refreshMs / 1000))}">` +
    `<title>Scale test: waiting</title></head><body style="font:14px system-ui,sans-serif;margin:24px"><main><h1>Scale test report</h1>` +
    `<p id="live-waiting">${escapeHtml(text)}</p></main></body></html>`
  );
}

/** The page for the run as it stands now. */
export function livePage(opts: Omit<LiveServerOptions, "address">, now = new Date()): string {
  const refreshMs = opts.refreshMs ?? LIVE_REFRESH_MS;
  const dir = opts.runDir ?? (opts.resultsDir ? latestRunDir(opts.resultsDir) : null);
  if (!dir) return waitingPage("No run has started yet; this page refreshes until one does.", refreshMs);
  let model;
  try {
    model = loadReportModel(dir, { now });
  } catch (e) {
    // A run folder half-written at the instant of the read (run.json being created) heals on the next poll.
    return waitingPage(`The run folder cannot be read yet (${(e as Error).message}); retrying.`, refreshMs);
  }
  // Still going while run.json says "running" and there is no summary.json (model.now is set just then); a
  // failed phase mid-run does not end the live view.
  const finished = model.now === null;
  return renderHtml(model, { generatedAt: now, ...(finished ? {} : { live: { intervalMs: refreshMs } }) });
}

function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`live report address must be host:port (e.g. 0.0.0.0:21113, 127.0.0.1:0); got "${address}"`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

export async function startLiveServer(opts: LiveServerOptions): Promise<LiveServer> {
  if (!opts.runDir && !opts.resultsDir) throw new Error("startLiveServer needs a run folder or a results folder");
  const { host, port } = parseAddress(opts.address);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (path !== "/" && path !== "/report.html") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: the live report is at /\n");
      return;
    }
    let body: string;
    try {
      body = redact(livePage(opts));
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" }).end(`live report failed: ${redact((e as Error).message).slice(0, 500)}\n`);
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => ok());
  });
  const a = server.address() as AddressInfo;
  const shownHost = a.family === "IPv6" ? `[${a.address === "::" ? "::1" : a.address}]` : a.address === "0.0.0.0" ? "127.0.0.1" : a.address;
  return {
    url: `http://${shownHost}:${a.port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
