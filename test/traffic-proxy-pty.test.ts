// --workspace-proxy-url for web-terminal traffic: the reconnecting-PTY websockets go to the workspace proxy (a
// simulated wsproxy on its own origin serving the agents' PTY), not to the deployment, as Coder's workspace-traffic
// dials the PTY with its web client; the proxy's origin must be one the token may go to.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoderClient } from "../src/coder/index.ts";
import { runTrafficScenario, trafficRunner } from "../src/traffic/scenario.ts";
import { BadInputError } from "../src/util/errors.ts";
import type { SimWorkspaceProxy } from "../sim/index.ts";
import { startTrafficSim, trafficConfig, type TrafficSim } from "./helpers/traffic-kinds.ts";

const PTY_PATH = /^\/api\/v2\/workspaceagents\/[^/]+\/pty$/;

describe("web-terminal traffic through a workspace proxy", () => {
  let ts: TrafficSim;
  let proxy: SimWorkspaceProxy;
  before(async () => {
    ts = await startTrafficSim(3, { runId: "wp1" });
    proxy = await ts.sim.startWorkspaceProxy();
  });
  after(async () => {
    await ts?.stop();
  });

  const config = (...argv: string[]) =>
    trafficConfig("web-terminal-traffic", ts.sim, ["--run-id", "wp1", "--duration", "1s", "--bytes-per-tick", "128", "--tick-interval", "100ms", ...argv]);

  test("every PTY websocket is dialled on the proxy, none on the deployment, and the traffic flows", async () => {
    const fromCore = ts.sim.core.requestLog.length;
    const fromProxy = proxy.requestLog.length;
    const accepted0 = ts.sim.pty.acceptedCount();
    // The client as the scripts build it from the config: the proxy's origin is trusted with the token.
    const c = config("--workspace-proxy-url", proxy.url, "--trusted-origins", proxy.url);
    const client = new CoderClient({ url: ts.sim.url, token: ts.sim.ownerToken, trustedOrigins: c.trustedOrigins });
    let r;
    try {
      r = await runTrafficScenario(client, c, "web-terminal", { metrics: null });
    } finally {
      await client.close();
    }
    assert.equal(r.perConnection.length, 3);
    for (const c of r.perConnection) {
      assert.equal(c.status, "ok", JSON.stringify(c.errors));
      assert.ok(c.ticksCompleted > 0, `connection ${c.target.index} got its echoes back`);
    }
    const viaProxy = proxy.requestLog.slice(fromProxy).filter((e) => e.upgrade && PTY_PATH.test(e.path));
    assert.equal(viaProxy.length, 3, "one PTY dial per connection on the proxy");
    assert.ok(viaProxy.every((e) => e.host === new URL(proxy.url).host), "addressed to the proxy's origin");
    // Coder's PTY query (reconnect id, size, the dd command) as on the deployment.
    for (const e of viaProxy) {
      const q = new URLSearchParams(e.query);
      assert.match(q.get("reconnect") ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(q.get("width"), "80");
      assert.equal(q.get("height"), "25");
      assert.match(q.get("command") ?? "", /^dd if=\/dev\/stdin of=\/dev\/null bs=128 status=none$/);
    }
    const onCore = ts.sim.core.requestLog.slice(fromCore).filter((e) => e.upgrade && PTY_PATH.test(e.path));
    assert.deepEqual(onCore, [], "no PTY dial reached the deployment itself");
    assert.equal(ts.sim.pty.acceptedCount() - accepted0, 3, "the agents' PTYs served all three");
  });

  test("without --workspace-proxy-url the PTY goes to the deployment, as before", async () => {
    const fromProxy = proxy.requestLog.length;
    const fromCore = ts.sim.core.requestLog.length;
    const r = await runTrafficScenario(ts.client, config("--target-workspaces", "0:1"), "web-terminal", { metrics: null });
    assert.equal(r.perConnection[0]?.status, "ok");
    assert.equal(proxy.requestLog.length, fromProxy, "the proxy saw nothing");
    assert.equal(ts.sim.core.requestLog.slice(fromCore).filter((e) => e.upgrade && PTY_PATH.test(e.path)).length, 1);
  });

  test("a proxy origin the token may not go to, or no URL at all: one clear error, nothing dialled", async () => {
    const fromProxy = proxy.requestLog.length;
    const accepted0 = ts.sim.pty.acceptedCount();
    // The proxy's own origin without --trusted-origins: another port is another origin.
    await assert.rejects(runTrafficScenario(ts.client, config("--workspace-proxy-url", proxy.url), "web-terminal", { metrics: null }),
      (e: unknown) => e instanceof BadInputError && e.message.includes(`--workspace-proxy-url ${new URL(proxy.url).origin}`));
    await assert.rejects(runTrafficScenario(ts.client, config("--workspace-proxy-url", "not a url"), "web-terminal", { metrics: null }),
      (e: unknown) => e instanceof BadInputError && /is not a URL/.test(e.message));
    // The runner's validation (the pipeline's preflight, before any workspace is created) refuses it too.
    assert.throws(() => trafficRunner("web-terminal").validate(config("--workspace-proxy-url", proxy.url), {}),
      (e: unknown) => e instanceof BadInputError && /^web-terminal-traffic: --workspace-proxy-url http:\/\/127\.0\.0\.1:\d+: refusing to send the session token/.test(e.message));
    assert.equal(proxy.requestLog.length, fromProxy);
    assert.equal(ts.sim.pty.acceptedCount(), accepted0);
  });

  test("the simulated proxy serves only what a workspace proxy serves", async () => {
    const res = await fetch(`${proxy.url}/api/v2/users/me`, { headers: { "Coder-Session-Token": ts.sim.ownerToken } });
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
});
