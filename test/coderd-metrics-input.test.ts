// coderd metrics sources as input: a coderd.* threshold without a readable source is one BadInputError
// before anything is created (the script exits 2 and writes nothing); without a threshold an unreachable
// source is a warning in the phase record and the run goes on; a coderd threshold marked ;abort stops the
// phase while it runs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, describe, test } from "node:test";
import { loadConfig } from "../src/config/index.ts";
import { activateCoderdMetrics, deactivateCoderdMetrics } from "../src/metrics/coderd/index.ts";
import { BadInputError } from "../src/util/errors.ts";
import { withSim } from "./helpers/sim.ts";

const run = promisify(execFile);
after(() => deactivateCoderdMetrics());

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const env = { CODER_URL: "http://127.0.0.1:1", CODER_SESSION_TOKEN: "abcdefghij-abcdefghijabcdefghijab" };

async function script(name: string, args: string[], simEnv: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return run("node", ["--import", "tsx", `scenarios/${name}.ts`, ...args], { cwd: process.cwd(), env: { ...process.env, ...simEnv }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" }),
  );
}

// Side by side: the first case is in-process, the other two run the script against simulators of their own.
describe("coderd metrics input", { concurrency: 3 }, () => {
  test("a coderd threshold without a source, or with an unreachable one, is bad input; without a threshold it is not", async () => {
    const none = loadConfig("dashboard-traffic", ["--threshold", "coderd.api.p95<500ms"], { env, envFile: false }).config;
    await assert.rejects(activateCoderdMetrics(none), (e: Error) => e instanceof BadInputError && /--prometheus-url/.test(e.message) && /--coderd-metrics-url/.test(e.message));
    const port = await closedPort();
    const dead = loadConfig("dashboard-traffic", ["--threshold", "coderd.cpu.max<3", "--prometheus-url", `http://127.0.0.1:${port}`], { env, envFile: false }).config;
    await assert.rejects(activateCoderdMetrics(dead), (e: Error) => e instanceof BadInputError && /cannot be read/.test(e.message) && e.message.includes(`127.0.0.1:${port}`));
    const quiet = loadConfig("dashboard-traffic", ["--coderd-metrics-url", `http://127.0.0.1:${port}/`], { env, envFile: false }).config;
    const m = await activateCoderdMetrics(quiet);
    assert.equal(m.source?.kind, "scrape");
    assert.throws(() => loadConfig("dashboard-traffic", ["--coderd-metrics-url", "ftp://x"], { env, envFile: false }), /must be an http\(s\) URL/);
    assert.throws(() => loadConfig("dashboard-traffic", ["--threshold", "coderd.cpu.p95<3"], { env, envFile: false }), /does not apply/);
    deactivateCoderdMetrics();
  });

  test("the script refuses a coderd threshold it cannot read before anything is created; an unreachable source without one is a warning", async () => {
    const results = mkdtempSync(join(tmpdir(), "coderd-in-"));
    try {
      await withSim({}, async (sim) => {
        const simEnv = { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken };
        const base = ["--mode", "api", "--concurrency", "1", "--duration", "1s", "--think-time", "50ms", "--use-host-login", "--results-dir", results, "--metrics-address", ""];
        const tokens = sim.counts().tokens;
        const port = await closedPort();
        // The refused run and the warned one side by side (run ids of their own).
        const [refused, warned] = await Promise.all([
          script("dashboard-traffic", [...base, "--run-id", "cdin1", "--threshold", "coderd.api.p95<500ms"], simEnv),
          script("dashboard-traffic", [...base, "--run-id", "cdin2", "--coderd-metrics-url", `http://127.0.0.1:${port}/`], simEnv),
        ]);
        assert.equal(refused.code, 2, refused.stderr);
        assert.match(refused.stderr, /coderd\.api\.p95<500ms needs coderd's metrics/);
        assert.equal(existsSync(join(results, "cdin1")), false, "no results folder");
        assert.equal(sim.counts().tokens, tokens, "nothing created on the deployment (nor left by the warned run)");
        assert.equal(warned.code, 0, warned.stderr);
        const dir = readdirSync(join(results, "cdin2")).find((d) => d.endsWith("dashboard-traffic"))!;
        const rec = JSON.parse(readFileSync(join(results, "cdin2", dir, "result.json"), "utf8"));
        assert.equal(rec.status, "pass");
        assert.ok(rec.extra.coderd.warnings.some((w: string) => w.includes(`127.0.0.1:${port}`)), JSON.stringify(rec.extra.coderd.warnings));
        assert.equal(rec.metrics["coderd.api"], undefined, "no made-up figures");
      });
    } finally {
      rmSync(results, { recursive: true, force: true });
    }
  });

  test("a coderd threshold marked ;abort stops the phase while it runs", async () => {
    const results = mkdtempSync(join(tmpdir(), "coderd-ab-"));
    try {
      await withSim({}, async (sim) => {
        sim.faults.set({ latency: [{ method: "GET", path: "/api/v2/workspaces", latencyMs: 300 }] });
        const out = await script(
          "dashboard-traffic",
          [
            "--mode", "api", "--concurrency", "2", "--duration", "10m", "--think-time", "50ms", "--use-host-login", "--results-dir", results,
            "--metrics-address", "", "--run-id", "cdab", "--coderd-metrics-url", sim.metricsUrl, "--coderd-metrics-interval", "500ms",
            "--threshold", "coderd.api.p95<200ms;abort",
          ],
          { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken },
        );
        assert.equal(out.code, 1, out.stderr);
        const dir = readdirSync(join(results, "cdab")).find((d) => d.endsWith("dashboard-traffic"))!;
        const rec = JSON.parse(readFileSync(join(results, "cdab", dir, "result.json"), "utf8"));
        assert.equal(rec.aborted_by, "coderd.api.p95<200ms;abort");
        assert.ok(rec.extra.aborted_at, "when the abort happened");
        const row = rec.thresholds.find((t: { expression: string }) => t.expression === "coderd.api.p95<200ms;abort");
        assert.equal(row.ok, false);
        assert.match(row.failed_label, /route=\/api\/v2\/workspaces/);
      });
    } finally {
      rmSync(results, { recursive: true, force: true });
    }
  });
});
