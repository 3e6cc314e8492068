// Workspace traffic as Coder's workspace-traffic builds it: app URLs without the trailing slash (coderd's 307
// followed on the same origin), Coder's error for a subdomain app without an app host and for a missing app,
// --app <slug>, the --template filter (traffic and cleanup), --workspace-proxy-url checked before any traffic.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cleanupRun } from "../src/cleanup/index.ts";
import { runTrafficScenario } from "../src/traffic/scenario.ts";
import { BadInputError } from "../src/util/errors.ts";
import { api, templateId, waitFor } from "./helpers/sim.ts";
import { startTrafficSim, trafficConfig, type TrafficSim } from "./helpers/traffic-kinds.ts";

describe("workspace traffic URL and selection fidelity", () => {
  let ts: TrafficSim;
  const small = ["scaletest-tf1-0100", "scaletest-tf1-0101"];

  before(async () => {
    ts = await startTrafficSim(3, { runId: "tf1" });
    // Two more of the run's workspaces, from another template.
    const tid = await templateId(ts.sim, "kubernetes-small");
    for (const name of small) {
      const r = await api(ts.sim, "POST", "/api/v2/users/me/workspaces", { name, template_id: tid });
      assert.equal(r.status, 201);
    }
    await waitFor("small workspaces ready", () =>
      [...ts.sim.state.workspaces.values()].filter((w) => small.includes(w.name)).every((w) =>
        ts.sim.state.latestBuild(w).resources.flatMap((r) => r.agents).some((a) => a.lifecycle === "ready")), 30_000);
  });
  after(async () => {
    await ts.stop();
  });

  const config = (...argv: string[]) => trafficConfig("app-traffic", ts.sim, ["--run-id", "tf1", "--duration", "1s", "--bytes-per-tick", "64", "--tick-interval", "100ms", ...argv]);

  test("--template: only that template's workspaces; app URLs dialed bare, redirected once by the deployment", async () => {
    const from = ts.sim.core.requestLog.length;
    const redirects = ts.sim.apps.stats().redirects;
    const r = await runTrafficScenario(ts.client, config("--template", "kubernetes-small"), "app", { metrics: null });
    assert.deepEqual(r.perConnection.map((c) => c.target.workspaceName).sort(), small);
    assert.ok(r.perConnection.every((c) => c.status === "ok"), JSON.stringify(r.perConnection.map((c) => c.errors)));
    const dials = ts.sim.core.requestLog.slice(from).filter((e) => e.upgrade && e.path.includes("/apps/"));
    for (const name of small) {
      const mine = dials.filter((e) => e.path.includes(`/${name}.main/apps/wsec`));
      assert.deepEqual(mine.map((e) => e.path), [`/@admin/${name}.main/apps/wsec`, `/@admin/${name}.main/apps/wsec/`], "Coder's URL, then the 307's");
    }
    assert.equal(ts.sim.apps.stats().redirects - redirects, 2);
  });

  test("a template no workspace uses, an app the workspaces lack, a subdomain app without an app host: one clear error, no traffic", async () => {
    await assert.rejects(runTrafficScenario(ts.client, config("--template", "kubernetes-large"), "app", { metrics: null }),
      (e: unknown) => e instanceof BadInputError && /none of the 5 scaletest-tf1-\* workspaces is of --template "kubernetes-large"/.test(e.message));
    const opened = ts.sim.apps.stats().connections;
    await assert.rejects(runTrafficScenario(ts.client, config("--app", "no-such-app"), "app", { metrics: null }),
      (e: unknown) => e instanceof BadInputError && /app "no-such-app" not found in workspace "scaletest-tf1-0000"/.test(e.message));
    // The same apps as subdomain apps (as Coder's own templates define them) on a deployment without a wildcard host.
    const apps = [...ts.sim.state.agents.values()].flatMap((a) => a.apps);
    for (const a of apps) a.subdomain = true;
    try {
      await assert.rejects(runTrafficScenario(ts.client, config(), "app", { metrics: null }),
        (e: unknown) => e instanceof BadInputError && /app "wsec" is a subdomain app but no app host is configured/.test(e.message));
    } finally {
      for (const a of apps) a.subdomain = false;
    }
    assert.equal(ts.sim.apps.stats().connections, opened, "nothing was dialed");
  });

  test("--app picks another app; --workspace-proxy-url must be a URL the token may go to", async () => {
    const r = await runTrafficScenario(ts.client, config("--app", "wsdi", "--target-workspaces", "0:1"), "app", { metrics: null });
    assert.equal(r.perConnection.length, 1);
    assert.equal(r.perConnection[0]!.status, "ok");
    assert.ok(r.totals.bytesWritten > 0);
    await assert.rejects(runTrafficScenario(ts.client, config("--workspace-proxy-url", "https://proxy.elsewhere.example"), "app", { metrics: null }),
      (e: unknown) => e instanceof BadInputError && /--workspace-proxy-url https:\/\/proxy\.elsewhere\.example/.test(e.message));
    await assert.rejects(runTrafficScenario(ts.client, config("--workspace-proxy-url", "not a url"), "app", { metrics: null }),
      (e: unknown) => e instanceof BadInputError && /is not a URL/.test(e.message));
    // The deployment's own origin as the "proxy": app traffic goes through it.
    const via = await runTrafficScenario(ts.client, config("--workspace-proxy-url", ts.sim.url, "--target-workspaces", "0:1"), "app", { metrics: null });
    assert.equal(via.perConnection[0]!.status, "ok");
  });

  test("cleanup --template removes only that template's workspaces", async () => {
    const c = await cleanupRun(ts.client, { runId: "tf1", template: "kubernetes-small", concurrency: 4, timeoutMs: 30_000, jobTimeoutMs: 10_000, pollMs: 50 }, { progress: false });
    assert.equal(c.exit_code, 0);
    assert.deepEqual(c.workspaces.map((w) => w.name).sort(), small);
    const live = [...ts.sim.state.workspaces.values()].filter((w) => !w.deleted && w.name.startsWith("scaletest-tf1-")).map((w) => w.name).sort();
    assert.deepEqual(live, ts.names);
  });
});
