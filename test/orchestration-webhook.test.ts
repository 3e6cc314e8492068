// The webhook message's links (runner workspace, Grafana over the run's time range, Coder version with its
// commit, who started it, every parameter) and the status annotations with their lock after a failure.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { grafanaRunLink, statusAnnotations, type Annotator } from "../src/pipeline/grafana.ts";
import { commitUrl, postWebhook, slackBody, webhookContext } from "../src/pipeline/webhook.ts";

test("webhook context from the runner's environment: workspace link, who started it, Grafana over the run", () => {
  const start = Date.parse("2025-03-01T10:00:00Z");
  const ctx = webhookContext("https://coder.example.com/", {
    CODER_WORKSPACE_OWNER: "scaletest",
    CODER_WORKSPACE: "runner",
    SCALETEST_START_TIME: "2025-03-01T10:00:00Z",
    GRAFANA_URL: "https://grafana.example.com/",
    SCALETEST_GRAFANA_DASHBOARD_UID: "uid-1",
  }, start + 3_600_000);
  assert.deepEqual(ctx.workspace, { owner: "scaletest", name: "runner", url: "https://coder.example.com/@scaletest/runner" });
  assert.equal(ctx.startedBy, "scaletest");
  assert.equal(ctx.grafanaUrl, `https://grafana.example.com/d/uid-1/scaletest-runner?orgId=1&from=${start}&to=${start + 3_600_000}`);
  assert.equal(grafanaRunLink("https://g/", "u", 1, "now"), "https://g/d/u/scaletest-runner?orgId=1&from=1&to=now");
  assert.deepEqual(webhookContext("https://c", {}), {}, "outside the template: no links, no guesses");
  assert.equal(commitUrl("v2.24.2+abc1234"), "https://github.com/coder/coder/commit/abc1234");
  assert.equal(commitUrl("v2.24.2"), undefined);
});

test("the message carries every link and, on start, every parameter", () => {
  const body = slackBody({
    event: "started",
    runId: "k3x9q2",
    coderUrl: "https://coder.example.com",
    comment: "",
    parameters: { workspaces: 100, scenarios: ["ssh", "app"] },
    context: {
      workspace: { owner: "scaletest", name: "runner", url: "https://coder.example.com/@scaletest/runner" },
      startedBy: "scaletest",
      grafanaUrl: "https://g/d/u/scaletest-runner?orgId=1&from=1&to=now",
      coderVersion: { version: "v2.24.2+abc1234", commitUrl: "https://github.com/coder/coder/commit/abc1234" },
    },
  });
  const t = body.text;
  assert.match(t, /^New scaletest k3x9q2 started by `scaletest` on https:\/\/coder\.example\.com \(<https:\/\/github\.com\/coder\/coder\/commit\/abc1234\|v2\.24\.2\+abc1234>\)\./);
  assert.match(t, /• Workspace \(runner\): <https:\/\/coder\.example\.com\/@scaletest\/runner\|scaletest\/runner>/);
  assert.match(t, /• Grafana: <https:\/\/g\/d\/u\/scaletest-runner\?orgId=1&from=1&to=now\|/);
  assert.match(t, /• Comment: No comment provided/);
  assert.match(t, /• `workspaces`: `100`\n• `scenarios`: `ssh,app`/);
});

test("postWebhook fills the links from the environment and Coder's public buildinfo (no token sent there)", async () => {
  const seen: { url: string; auth: string | undefined; body: string }[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    seen.push({ url: req.url ?? "", auth: req.headers.authorization ?? (req.headers["coder-session-token"] as string | undefined), body });
    if (req.url === "/api/v2/buildinfo") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ version: "v2.24.2+deadbee", external_url: "https://github.com/coder/coder/commit/deadbee" }));
    }
    res.writeHead(200);
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const saved = { ...process.env };
  try {
    Object.assign(process.env, { CODER_WORKSPACE_OWNER: "scaletest", CODER_WORKSPACE: "runner", SCALETEST_START_TIME: "2025-03-01T10:00:00Z", GRAFANA_URL: "https://grafana.example.com" });
    const ok = await postWebhook(`${base}/hook`, { event: "failed", runId: "k3x9q2", coderUrl: base, comment: "c", verdict: "FAIL" });
    assert.equal(ok, true);
    const hook = seen.find((s) => s.url === "/hook");
    assert.ok(hook);
    const text = (JSON.parse(hook.body) as { text: string }).text;
    assert.match(text, /\*failed\* on http:\/\/127\.0\.0\.1:\d+ \(<https:\/\/github\.com\/coder\/coder\/commit\/deadbee\|v2\.24\.2\+deadbee>\): FAIL/);
    assert.match(text, /@scaletest\/runner/);
    assert.match(text, /from=1740823200000&to=\d+/, "Grafana over the run's time range");
    assert.equal(seen.find((s) => s.url === "/api/v2/buildinfo")?.auth, undefined, "buildinfo is asked without credentials");
  } finally {
    for (const k of ["CODER_WORKSPACE_OWNER", "CODER_WORKSPACE", "SCALETEST_START_TIME", "GRAFANA_URL"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    server.close();
  }
});

test("status annotations: one region per status, tagged status (and error), locked after a failure", async () => {
  const events: string[] = [];
  const annotator: Annotator = {
    failures: 0,
    async start(text, tags) {
      events.push(`start ${text} [${tags.join(",")}]`);
      return async () => {
        events.push(`end ${text}`);
      };
    },
  };
  const s = statusAnnotations(annotator);
  assert.equal(await s.set("Preparing"), true);
  await s.set("Running");
  await s.set("Failed (exit=1)");
  assert.equal(s.locked, true);
  assert.equal(await s.set("Cleaning up"), false, "locked: a later status is not annotated");
  await s.close();
  assert.deepEqual(events, [
    "start Status: Preparing [status]",
    "end Status: Preparing",
    "start Status: Running [status]",
    "end Status: Running",
    "start Status: Failed (exit=1) [status,error]",
    "end Status: Failed (exit=1)",
  ]);
});
