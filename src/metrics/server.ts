/**
 * The Prometheus endpoint: GET /metrics on `--metrics-address` (default 0.0.0.0:21112, like Coder's
 * `--scaletest-prometheus-address`). One endpoint per process serves every scenario of a run, so
 * `startMetricsServer` is idempotent: later calls share the running server (whatever address they ask for)
 * and the server closes when every caller has called `close()`.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { getRegistry } from "./registry.ts";

export const DEFAULT_METRICS_ADDRESS = "0.0.0.0:21112";

export interface MetricsServerHandle {
  /** e.g. http://127.0.0.1:21112/metrics (a wildcard host is shown as 127.0.0.1). */
  url: string;
  host: string;
  port: number;
  /** True when this call joined a server started earlier in the process. */
  shared: boolean;
  /** Releases this caller's share; the last one closes the server. Safe to call twice. */
  close(): Promise<void>;
}

/** Parses "host:port", ":port", "port" or "[v6]:port". Port 0 picks a free port. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const s = address.trim();
  let host = "0.0.0.0";
  let portStr = s;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (v6) {
    host = v6[1]!;
    portStr = v6[2]!;
  } else if (s.includes(":")) {
    const i = s.lastIndexOf(":");
    host = s.slice(0, i) || "0.0.0.0";
    portStr = s.slice(i + 1);
  }
  const port = Number(portStr);
  if (!/^\d+$/.test(portStr) || port > 65535) {
    throw new Error(`invalid metrics address "${address}": expected host:port such as 0.0.0.0:21112 (port 0-65535)`);
  }
  return { host, port };
}

interface Running {
  server: http.Server;
  host: string;
  port: number;
  refs: number;
}

let running: Promise<Running> | undefined;

function serve(registry: Registry): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: metrics are served at /metrics\n");
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" }).end(`collecting metrics failed: ${String(err)}\n`);
      },
    );
  });
}

export async function startMetricsServer(
  address: string = DEFAULT_METRICS_ADDRESS,
  registry: Registry = getRegistry(),
): Promise<MetricsServerHandle> {
  const shared = running !== undefined;
  if (!running) {
    const { host, port } = parseListenAddress(address);
    const server = serve(registry);
    running = new Promise<Running>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => {
        running = undefined;
        const hint = err.code === "EADDRINUSE" ? " (port in use: pick another --metrics-address, or port 0)" : "";
        reject(new Error(`metrics server could not listen on ${host}:${port}: ${err.message}${hint}`));
      });
      server.listen(port, host, () => {
        const a = server.address() as AddressInfo;
        resolve({ server, host, port: a.port, refs: 0 });
      });
    });
  }
  const r = await running;
  r.refs++;
  let released = false;
  const shownHost = r.host === "0.0.0.0" || r.host === "::" ? "127.0.0.1" : r.host.includes(":") ? `[${r.host}]` : r.host;
  return {
    url: `http://${shownHost}:${r.port}/metrics`,
    host: r.host,
    port: r.port,
    shared,
    close: async () => {
      if (released) return;
      released = true;
      r.refs--;
      if (r.refs > 0) return;
      running = undefined;
      r.server.closeAllConnections();
      await new Promise<void>((resolve) => r.server.close(() => resolve()));
    },
  };
}
