// A real Prometheus (Debian's `prometheus` package) for tests: loopback only, a temp config scraping one
// target every second, a temp TSDB, and a query helper. CI (CI=true) must have it (.ci/run installs it);
// elsewhere tests skip with a message saying how to install it.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export const PROMETHEUS_INSTALL_HINT = "apt-get install -y prometheus";

/** The prometheus binary: $PROMETHEUS_BIN, else `prometheus` on PATH, else /usr/bin/prometheus; undefined if none. */
export function findPrometheus(): string | undefined {
  const candidates = [
    process.env.PROMETHEUS_BIN,
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, "prometheus")),
    "/usr/bin/prometheus",
  ].filter((p): p is string => !!p);
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * For `test(name, { skip: prometheusSkip() }, ...)`: false when available; a skip message when not; throws
 * under CI=true, where a missing Prometheus is a broken environment, not a reason to skip.
 */
export function prometheusSkip(): false | string {
  if (findPrometheus()) return false;
  const msg = `prometheus not found (install it: ${PROMETHEUS_INSTALL_HINT})`;
  if (process.env.CI === "true") throw new Error(`${msg}; CI must run the Prometheus scrape test`);
  return msg;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  /** Instant query; returns the vector's samples. */
  query(q: string): Promise<PromSample[]>;
  /** Scrape targets' health as Prometheus sees it. */
  targets(): Promise<{ health: string; scrapeUrl: string; lastError: string }[]>;
  /** Resolves once the target has been scraped successfully (discovery applies targets only every 5 s). */
  waitForScrape(timeoutMs: number): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: { target: string; metricsPath?: string; scrapeIntervalS?: number }): Promise<RunningPrometheus> {
  const bin = findPrometheus();
  if (!bin) throw new Error(`prometheus not found (install it: ${PROMETHEUS_INSTALL_HINT})`);
  const dir = mkdtempSync(join(tmpdir(), "prom-test-"));
  const every = opts.scrapeIntervalS ?? 1;
  writeFileSync(
    join(dir, "prometheus.yml"),
    [
      "global:",
      `  scrape_interval: ${every}s`,
      `  scrape_timeout: ${every}s`,
      "scrape_configs:",
      "  - job_name: scaletest",
      `    metrics_path: ${opts.metricsPath ?? "/metrics"}`,
      "    static_configs:",
      `      - targets: ["${opts.target}"]`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1h",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  let exited = false;
  const exitP = new Promise<void>((r) => child.once("exit", () => ((exited = true), r())));
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exitP;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when /-/ready answers 200.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`prometheus exited during startup:\n${out.slice(-2000)}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready after 20 s:\n${out.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const api: RunningPrometheus = {
    url,
    output: () => out,
    async waitForScrape(timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const up = await api.query("up");
        if (up.some((s) => s.value[1] === "1")) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`prometheus did not scrape ${opts.target} within ${timeoutMs} ms:\n${out.slice(-1000)}`);
    },
    async query(q) {
      const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
      if (body.status !== "success" || !body.data) throw new Error(`prometheus query ${q} failed: ${body.error ?? r.status}`);
      return body.data.result;
    },
    async targets() {
      const r = await fetch(`${url}/api/v1/targets`);
      const body = (await r.json()) as { data: { activeTargets: { health: string; scrapeUrl: string; lastError: string }[] } };
      return body.data.activeTargets;
    },
    stop,
  };
  return api;
}
