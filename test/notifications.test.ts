// Acceptance tests of the notifications load type against the simulator and the SMTP sink: 50 users,
// 20% template admins, every admin's "template deleted" notification received over the inbox websocket and
// by email through the sink, latency distributions in the results; a stopped notifier fails the run with
// the missing receipts counted; bad input refused before anything is created; cleanup (also the cleanup
// script after a killed run) leaves no user, template or token of the run.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { cleanupRun } from "../src/cleanup/cleanup.ts";
import { CoderClient } from "../src/coder/index.ts";
import { getRegistry } from "../src/metrics/registry.ts";
import {
  ERRORS_METRIC,
  LATENCY_METRIC,
  NotificationsInputError,
  runNotifications,
  splitUsers,
  TEMPLATE_DELETED_ID,
  type NotificationsOptions,
  type NotificationsResult,
} from "../src/notifications/index.ts";
import { PhaseRecord } from "../src/results/schema.ts";
import { loadReportModel, renderHtml, renderMarkdown } from "../src/report/index.ts";
import { startSmtpSink, type SmtpSink } from "../src/smtp-sink/server.ts";
import { LatencyHistogram } from "../src/traffic/histogram.ts";
import { withSim, type Sim } from "./helpers/sim.ts";

const BASE: Omit<NotificationsOptions, "runId"> = {
  userCount: 50,
  templateAdminPercentage: 20,
  timeoutMs: 60_000,
  dialTimeoutMs: 30_000,
  setupTimeoutMs: 60_000,
  setupConcurrency: 10,
  smtpApiUrl: "",
  smtpRequestTimeoutMs: 10_000,
  smtpPollMs: 100,
  cleanup: { concurrency: 10, timeoutMs: 60_000, jobTimeoutMs: 30_000, pollMs: 50 },
};

async function run(sim: Sim, o: Partial<NotificationsOptions> & { runId: string }): Promise<NotificationsResult> {
  const client = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 16 });
  try {
    return await runNotifications(client, { ...BASE, ...o });
  } finally {
    await client.close();
  }
}

function metricCount(name: string, label: Record<string, string>): number {
  const m = getRegistry().getSingleMetric(name) as unknown as { hashMap?: Record<string, { labels: Record<string, string>; value?: number; count?: number }> };
  let n = 0;
  for (const v of Object.values(m?.hashMap ?? {})) if (Object.entries(label).every(([k, x]) => v.labels[k] === x)) n += v.count ?? v.value ?? 0;
  return n;
}

/** Live templates and the run's users (what cleanup must leave as it found). */
function leftovers(sim: Sim): { templates: number; users: number; tokens: number } {
  const c = sim.counts();
  return { templates: sim.state.templates.size, users: c.users, tokens: c.tokens };
}

describe("Coder's split of users", () => {
  test("20% of 50 is 10 admins; a share below one user still makes 1 admin", () => {
    assert.deepEqual(splitUsers(50, 20), { admins: 10, regular: 40 });
    assert.deepEqual(splitUsers(3, 10), { admins: 1, regular: 2 });
    assert.deepEqual(splitUsers(4, 100), { admins: 4, regular: 0 });
  });
});

describe("notifications against the simulator and the SMTP sink", () => {
  let sink: SmtpSink;
  before(async () => {
    sink = await startSmtpSink({ host: "127.0.0.1" });
  });
  after(async () => {
    await sink.close();
  });

  test("50 users, 20% admins: every admin is notified by websocket and by email; latency per type; cleanup leaves nothing", async () => {
    await withSim({ preexisting: false, notifications: { fetchIntervalMs: 100, smtpSmarthost: sink.smtpAddress } }, async (sim) => {
      const before = leftovers(sim);
      const wsBefore = metricCount(LATENCY_METRIC, { notification_type: "websocket" });
      const r = await run(sim, { runId: "ntok", smtpApiUrl: sink.apiUrl });
      assert.equal(r.exit_code, 0, JSON.stringify(r.errors.slice(0, 5)));
      assert.equal(r.template_admins, 10);
      assert.equal(r.regular_users, 40);
      assert.equal(r.trigger.error, null);
      assert.ok(r.trigger.triggered_at !== null);
      assert.deepEqual(r.receipts, { websocket: { expected: 10, received: 10, missing: 0 }, smtp: { expected: 10, received: 10, missing: 0 } });
      const admins = r.units.filter((u) => u.role === "template-admin");
      for (const u of admins) {
        assert.ok(u.ok, `${u.username}: ${u.error}`);
        // Receipt after the trigger began; latency as receipt - trigger.
        assert.ok(u.websocket_receipt_at! >= r.trigger.triggered_at! - 1000);
        assert.equal(u.websocket_latency_ms, Math.max(0, u.websocket_receipt_at! - r.trigger.triggered_at!));
        assert.ok(u.smtp_latency_ms !== null && u.smtp_polls >= 1);
      }
      // Regular users held their sockets and received nothing they had to.
      for (const u of r.units.filter((x) => x.role === "member")) {
        assert.ok(u.ok);
        assert.equal(u.websocket_receipt_at, null);
        assert.ok(u.dial_ms !== null);
      }
      // The distributions: one sample per admin and type, decodable for merging.
      for (const type of ["websocket", "smtp"]) {
        const h = r.latency.find((x) => x.labels["notification_type"] === type)!;
        assert.equal(h.summary.count, 10);
        assert.equal(LatencyHistogram.decode(h.hdr).percentiles().count, 10);
      }
      // The notifier polls every 100 ms: no delivery can beat one fetch interval... minus the trigger's own
      // round trip, so only a lower bound of zero is asserted, and an upper bound is none (busy machine).
      assert.ok(r.latency[0]!.summary.min >= 0);
      assert.equal(metricCount(LATENCY_METRIC, { notification_type: "websocket", notification_id: TEMPLATE_DELETED_ID }) - wsBefore >= 10, true);
      // Every admin's email reached the sink, found by Coder's template-id rule.
      for (const u of admins) {
        const mails = sink.messages(u.email);
        assert.ok(mails.some((m) => m.notification_template_id === TEMPLATE_DELETED_ID), u.email);
      }
      // The simulator sent exactly one email and one inbox row per admin (the caller, an owner, is not notified).
      const n = sim.notifier.counts();
      assert.deepEqual([n.sent.inbox, n.sent.smtp, n.queued], [10, 10, 0]);
      // coderd's own view of it on the simulated metrics endpoint: one queue wait and one send per message.
      const scraped = await (await fetch(sim.metricsUrl)).text();
      assert.match(scraped, /coderd_notifications_queued_seconds_count\{method="inbox"\} 10\b/);
      assert.match(scraped, /coderd_notifications_dispatcher_send_seconds_count\{method="smtp"\} 10\b/);
      assert.deepEqual(leftovers(sim), before);
      assert.equal(r.cleanup?.exit_code, 0);
      assert.equal(r.tokens.minted, 50);
      assert.equal(r.tokens.revoked, 50);
    });
  });

  test("a stopped notifier fails the run with every missing receipt counted", async () => {
    await withSim({ preexisting: false, notifications: { fetchIntervalMs: 100, smtpSmarthost: sink.smtpAddress } }, async (sim) => {
      sim.notifier.stop();
      const before = leftovers(sim);
      const timeoutsBefore = metricCount(ERRORS_METRIC, { action: "timeout" });
      const r = await run(sim, { runId: "ntstop", userCount: 10, templateAdminPercentage: 30, smtpApiUrl: sink.apiUrl, timeoutMs: 3000, dialTimeoutMs: 2000 });
      assert.equal(r.exit_code, 1);
      assert.equal(r.trigger.error, null);
      assert.deepEqual(r.receipts, { websocket: { expected: 3, received: 0, missing: 3 }, smtp: { expected: 3, received: 0, missing: 3 } });
      // Each admin is missing two receipts (websocket and email): both counted under "timeout".
      assert.equal(r.errors_by_action.timeout, 6);
      assert.equal(metricCount(ERRORS_METRIC, { action: "timeout" }) - timeoutsBefore, 6);
      assert.equal(r.fail, 3);
      assert.ok(r.units.filter((u) => u.role === "template-admin").every((u) => u.action === "timeout"));
      // The messages are still queued: the notifier never fetched them.
      assert.equal(sim.notifier.counts().queued, 6);
      assert.deepEqual(leftovers(sim), before);
    });
  });

  test("bad input is refused before anything is created", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const before = sim.counts();
      for (const [o, re] of [
        [{ templateAdminPercentage: 0 }, /--template-admin-percentage must be greater than 0/],
        [{ dialTimeoutMs: 60_000 }, /--dial-timeout \(60000 ms\) must be shorter than --timeout/],
        [{ smtpApiUrl: "ftp://x" }, /--smtp-api-url must be an http:\/\/ or https:\/\/ URL/],
        [{ userCount: 0 }, /--user-count must be greater than 0/],
      ] as const) {
        await assert.rejects(run(sim, { runId: "ntbad", ...o }), (e: unknown) => e instanceof NotificationsInputError && re.test(e.message));
      }
      assert.deepEqual(sim.counts(), before);
    });
  });

  test("a trigger that fails is counted and fails the run; the template it left is the run's, and cleanup removes it", async () => {
    await withSim({ preexisting: false, notifications: { fetchIntervalMs: 100 } }, async (sim) => {
      const before = leftovers(sim);
      sim.faults.set({ http: [{ method: "DELETE", path: "/api/v2/templates/*", status: 500 }] });
      const r = await run(sim, { runId: "ntkill", userCount: 5, noCleanup: true, timeoutMs: 5000, dialTimeoutMs: 2000 });
      assert.equal(r.exit_code, 1);
      assert.match(r.trigger.error ?? "", /delete_template/);
      assert.equal(r.errors_by_action.trigger, 1);
      // What a killed run leaves: its users and its trigger template (tokens were revoked).
      assert.equal(sim.state.templates.size, before.templates + 1);
      assert.equal(leftovers(sim).users, before.users + 5);
      sim.faults.set({ http: [] });
      const client = new CoderClient({ url: sim.url, token: sim.ownerToken });
      // A look-alike template (the run's name pattern, without the run's marker) is never touched.
      const org = (await client.request<{ id: string }[]>("GET", "/organizations"))[0]!.id;
      const file = await client.request<{ hash: string }>("POST", "/files", { rawBody: { contentType: "application/x-tar", data: new Uint8Array(1024) } });
      const version = await client.request<{ id: string }>("POST", `/organizations/${org}/templateversions`, { body: { storage_method: "file", file_id: file.hash, provisioner: "echo" } });
      const lookAlike = await client.request<{ id: string }>("POST", `/organizations/${org}/templates`, {
        body: { name: "scaletest-ntkill-0099", description: "someone else's", template_version_id: version.id },
      });
      try {
        const res = await cleanupRun(client, { runId: "ntkill", concurrency: 4, timeoutMs: 30_000, jobTimeoutMs: 10_000, pollMs: 50 });
        assert.equal(res.exit_code, 0, res.failed.join(", "));
        assert.deepEqual(res.templates?.map((t) => [t.name, t.ok]), [[r.trigger.template_name, true]]);
        assert.ok(sim.state.templates.has(lookAlike.id), "the look-alike template was deleted");
        await client.request("DELETE", `/templates/${lookAlike.id}`);
      } finally {
        await client.close();
      }
      assert.deepEqual(leftovers(sim), before);
    });
  });
});

describe("scenarios/notifications.ts", () => {
  const ROOT = fileURLToPath(new URL("..", import.meta.url));
  const script = (sim: Sim, dir: string, args: string[]) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
    return execa(process.execPath, ["--import", "tsx", "scenarios/notifications.ts", ...args], {
      cwd: ROOT,
      env: { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" },
      extendEnv: false,
      reject: false,
      timeout: 120_000,
    });
  };

  test("Coder's flags run the test and write the phase record; bad flags exit 2 before anything is created", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nt-cli-"));
    const sink = await startSmtpSink({ host: "127.0.0.1" });
    try {
      await withSim({ preexisting: false, notifications: { fetchIntervalMs: 100, smtpSmarthost: sink.smtpAddress } }, async (sim) => {
        const before = leftovers(sim);
        const bad = await script(sim, dir, ["--user-count", "4", "--smtp-api-url", "nope"]);
        assert.equal(bad.exitCode, 2, bad.stderr);
        assert.match(bad.stderr, /--smtp-api-url must be an http:\/\/ or https:\/\/ URL/);
        assert.ok(!bad.stderr.includes(sim.ownerToken));
        assert.deepEqual(leftovers(sim), before);
        const out = join(dir, "nt.json");
        const r = await script(sim, dir, [
          "--user-count", "5", "--template-admin-percentage", "40", "--timeout", "60s", "--dial-timeout", "10s",
          "--smtp-api-url", sink.apiUrl, "--run-id", "ntcli", "--output", `json:${out}`, "--output", "text",
        ]);
        assert.equal(r.exitCode, 0, r.stderr);
        assert.match(r.stdout, /users: 5 passed, 0 failed/);
        assert.ok(!r.stdout.includes(sim.ownerToken) && !r.stderr.includes(sim.ownerToken));
        const rec = PhaseRecord.parse(JSON.parse(readFileSync(out, "utf8")));
        assert.equal(rec.status, "pass");
        assert.deepEqual(rec.thresholds.map((t) => [t.expression, t.ok]), [["notifications.missing<=0", true], ["notifications.error_rate<=0%", true]]);
        assert.equal(rec.stages["notifications.latency{notification_type=websocket}"]?.count, 2);
        assert.equal(rec.stages["notifications.latency{notification_type=smtp}"]?.count, 2);
        assert.equal(rec.settings["--smtp-api-url"], sink.apiUrl);
        // The report's notifications section: receipts per type.
        const model = loadReportModel(join(dir, "ntcli"));
        const md = renderMarkdown(model);
        assert.match(md, /\| websocket +\| +2 \| +2 \| +0 \|/);
        assert.match(md, /\| smtp +\| +2 \| +2 \| +0 \|/);
        assert.match(renderHtml(model), /<th>notification type<\/th>/);
        assert.deepEqual(leftovers(sim), before);
      });
    } finally {
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a killed notifications run", () => {
  const ROOT = fileURLToPath(new URL("..", import.meta.url));
  test("SIGKILL while the trigger template exists; scenarios/cleanup.ts then leaves no user, template or token of the run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nt-kill-"));
    try {
      await withSim({ preexisting: false, notifications: { fetchIntervalMs: 100 } }, async (sim) => {
        const before = leftovers(sim);
        // The trigger's delete hangs (once): the run is killed while its template exists.
        sim.faults.set({ http: [{ method: "DELETE", path: "/api/v2/templates/*", status: 503, latencyMs: 60_000, count: 1 }] });
        const env: NodeJS.ProcessEnv = {};
        for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
        const childEnv = { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" };
        const child = execa(process.execPath, ["--import", "tsx", "scenarios/notifications.ts", "--user-count", "4", "--timeout", "60s", "--dial-timeout", "10s", "--run-id", "ntk9"], {
          cwd: ROOT, env: childEnv, extendEnv: false, reject: false, timeout: 120_000,
        });
        // Bounded wait for the observable condition: the run's template exists and its delete is in flight.
        const deadline = Date.now() + 90_000;
        const ours = () => [...sim.state.templates.values()].find((t) => t.name.startsWith("scaletest-ntk9-"));
        while (!(ours() && sim.core.requestLog.some((r) => r.method === "DELETE" && r.path.startsWith("/api/v2/templates/"))) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(ours(), "the run created its trigger template");
        child.kill("SIGKILL");
        await child;
        assert.equal(leftovers(sim).users, before.users + 4);
        const clean = await execa(process.execPath, ["--import", "tsx", "scenarios/cleanup.ts", "--run-id", "ntk9"], {
          cwd: ROOT, env: childEnv, extendEnv: false, reject: false, timeout: 120_000,
        });
        assert.equal(clean.exitCode, 0, clean.stderr);
        assert.match(clean.stdout, /templates deleted: +1\/1/);
        assert.equal(ours(), undefined);
        assert.deepEqual(leftovers(sim), before);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a hostile SMTP API", () => {
  test("a non-array answer is smtp_decode, a 500 is smtp_bad_status, an oversized one is refused: counted, bounded, the admin fails", async () => {
    const calls = new Map<string, number>();
    const api = createServer((req, res) => {
      const email = new URL(req.url ?? "/", "http://x").searchParams.get("email") ?? "";
      calls.set(email, (calls.get(email) ?? 0) + 1);
      // Admin 1: one bad status, then an object; admin 2: a body past the cap.
      if (email.endsWith("-0000@scaletest.local")) {
        if (calls.get(email) === 1) {
          res.writeHead(500);
          return res.end("boom");
        }
        res.writeHead(200, { "Content-Type": "application/json" });
        return res.end(JSON.stringify({ not: "an array" }));
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("[" + " ".repeat(9 * 1024 * 1024) + "]");
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    try {
      await withSim({ preexisting: false, notifications: { fetchIntervalMs: 100 } }, async (sim) => {
        const r = await run(sim, { runId: "nthost", userCount: 4, templateAdminPercentage: 50, smtpApiUrl: url, timeoutMs: 8000, dialTimeoutMs: 2000 });
        assert.equal(r.exit_code, 1);
        // The websocket side still works; the email side is what failed, with Coder's action names.
        assert.equal(r.receipts.websocket.received, 2);
        assert.deepEqual(r.receipts.smtp, { expected: 2, received: 0, missing: 2 });
        assert.ok((r.errors_by_action.smtp_decode ?? 0) >= 2, JSON.stringify(r.errors_by_action));
        assert.ok((r.errors_by_action.smtp_bad_status ?? 0) >= 1, JSON.stringify(r.errors_by_action));
        assert.ok(r.errors.some((e) => /larger than/.test(e.error)), "the oversized answer is refused by its size");
        assert.ok(r.units.filter((u) => u.role === "template-admin").every((u) => !u.ok && u.action === "smtp_decode"));
      });
    } finally {
      api.closeAllConnections();
      await new Promise<void>((r) => api.close(() => r()));
    }
  });
});

