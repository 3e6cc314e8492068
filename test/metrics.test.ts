import { test } from "node:test";
import assert from "node:assert/strict";
import { Counter } from "prom-client";
import {
  configureMetrics,
  getRegistry,
  getTrafficMetrics,
  parseListenAddress,
  scenarioMetric,
  startMetricsServer,
} from "../src/metrics/index.ts";
import { runTraffic } from "../src/traffic/engine.ts";
import { FakeConnection, makeTargets } from "./helpers/traffic.ts";

async function scrape(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type") };
}

test("metrics endpoint serves Coder's workspace-traffic names and labels, ours, and process metrics", async () => {
  const srv = await startMetricsServer("127.0.0.1:0");
  try {
    const r = await runTraffic({
      targets: makeTargets(2, "scaletest-m1-"),
      dialer: { kind: "web-terminal", echo: "echo", dial: async () => new FakeConnection(true) },
      bytesPerTick: 128,
      tickIntervalMs: 20,
      durationMs: 300,
      metrics: getTrafficMetrics(),
    });
    const { status, body, type } = await scrape(srv.url);
    assert.equal(status, 200);
    assert.match(type ?? "", /^text\/plain; version=0\.0\.4/);
    const labels = 'username="scaletest-m1-0001",workspace_name="scaletest-m1-0001",agent_name="main"';
    const perConn = r.perConnection[1]!;
    assert.ok(body.includes(`coderd_scaletest_bytes_written_total{${labels}} ${perConn.bytesWritten}`), body.slice(0, 2000));
    assert.ok(body.includes(`coderd_scaletest_bytes_read_total{${labels}} ${perConn.bytesRead}`));
    assert.ok(body.includes(`coderd_scaletest_read_errors_total{${labels}} 0`));
    assert.ok(body.includes(`coderd_scaletest_write_errors_total{${labels}} 0`));
    assert.ok(body.includes("# TYPE coderd_scaletest_read_latency_seconds histogram"));
    assert.ok(body.includes(`coderd_scaletest_write_latency_seconds_bucket{${labels},le="0.005"}`));
    assert.ok(body.includes(`coderd_scaletest_write_latency_seconds_bucket{${labels},le="+Inf"} ${perConn.ticksSent}`));
    assert.ok(body.includes(`coderd_scaletest_read_latency_seconds_count{${labels}}`));
    // Coder's default buckets, exactly.
    const les = [...body.matchAll(/coderd_scaletest_read_latency_seconds_bucket\{[^}]*agent_name="main",le="([^"]+)"/g)]
      .map((m) => m[1])
      .slice(0, 12);
    assert.deepEqual(les, ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]);
    // Ours.
    assert.ok(body.includes(`scaletest_tick_latency_seconds_count{kind="web-terminal"} ${r.totals.ticksCompleted}`));
    assert.ok(body.includes('scaletest_tick_latency_seconds_bucket{kind="web-terminal",le="0.001"}'));
    assert.ok(body.includes('scaletest_connections{kind="web-terminal",state="closed"} 2'));
    assert.ok(body.includes('scaletest_drops_total{kind="web-terminal"} 0'));
    assert.ok(body.includes('scaletest_reconnects_total{kind="web-terminal"} 0'));
    assert.ok(body.includes('scaletest_dial_seconds_count{kind="web-terminal"} 2'));
    // Process metrics.
    assert.ok(body.includes("process_cpu_seconds_total"));
    assert.ok(body.includes("nodejs_eventloop_lag_seconds"));

    // Other scenarios register theirs into the same registry/endpoint; get-or-create is idempotent.
    const mk = () =>
      new Counter({ name: "scaletest_test_things_total", help: "things", registers: [getRegistry()] });
    const c1 = scenarioMetric("scaletest_test_things_total", mk);
    const c2 = scenarioMetric("scaletest_test_things_total", mk);
    assert.equal(c1, c2);
    c1.inc(3);
    assert.match((await scrape(srv.url)).body, /scaletest_test_things_total 3/);

    // Shard default label on every series.
    configureMetrics({ shard: "1/3" });
    const sharded = (await scrape(srv.url)).body;
    assert.ok(sharded.includes(`coderd_scaletest_bytes_read_total{${labels},shard="1/3"}`));
    assert.ok(sharded.includes('scaletest_tick_latency_seconds_count{kind="web-terminal",shard="1/3"}'));
    configureMetrics({ shard: "" });
    assert.ok(!(await scrape(srv.url)).body.includes("shard="));

    assert.equal((await scrape(srv.url.replace("/metrics", "/nope"))).status, 404);
  } finally {
    await srv.close();
  }
});

test("one endpoint per process: a second start shares it; the last close stops it", async () => {
  const a = await startMetricsServer("127.0.0.1:0");
  const b = await startMetricsServer("127.0.0.1:0");
  assert.equal(a.shared, false);
  assert.equal(b.shared, true);
  assert.equal(a.port, b.port);
  await a.close();
  await a.close(); // idempotent
  assert.equal((await scrape(b.url)).status, 200, "still served while b holds it");
  await b.close();
  await assert.rejects(fetch(b.url));
  // Can start again afterwards.
  const c = await startMetricsServer("127.0.0.1:0");
  assert.equal(c.shared, false);
  await c.close();
});

test("metrics server reports a busy port clearly", async () => {
  const a = await startMetricsServer("127.0.0.1:0");
  const port = a.port;
  await a.close();
  const http = await import("node:http");
  const blocker = http.createServer();
  await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", () => r()));
  try {
    await assert.rejects(startMetricsServer(`127.0.0.1:${port}`), /could not listen on 127\.0\.0\.1:\d+: .*port in use/);
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});

test("listen address parsing", () => {
  assert.deepEqual(parseListenAddress("0.0.0.0:21112"), { host: "0.0.0.0", port: 21112 });
  assert.deepEqual(parseListenAddress(":9000"), { host: "0.0.0.0", port: 9000 });
  assert.deepEqual(parseListenAddress("9000"), { host: "0.0.0.0", port: 9000 });
  assert.deepEqual(parseListenAddress("[::1]:0"), { host: "::1", port: 0 });
  assert.throws(() => parseListenAddress("localhost:http"), /invalid metrics address "localhost:http"/);
  assert.throws(() => parseListenAddress("1.2.3.4:70000"), /invalid metrics address/);
});

test("a label set resolved once serves several fast metrics: same series text, one shared labels object, wrong names refused", async () => {
  const { Registry } = await import("prom-client");
  const { FastCounter, FastHistogram, labelSet, registerFast } = await import("../src/metrics/fast.ts");
  const names = ["username", "workspace_name"] as const;
  const viaSet = new Registry();
  const viaPlain = new Registry();
  const make = (r: typeof viaSet) => ({
    c: registerFast(r, new FastCounter("t_bytes_total", "b", names)),
    h: registerFast(r, new FastHistogram("t_latency_seconds", "l", names, [0.01, 0.1])),
  });
  const a = make(viaSet);
  const b = make(viaPlain);
  const labels = { username: "scaletest-1", workspace_name: "w1" };
  const set = labelSet(names, labels);
  a.c.labels(set).inc(5);
  a.h.labels(set).observe(0.05);
  b.c.labels({ ...labels }).inc(5);
  b.h.labels({ ...labels }).observe(0.05);
  assert.equal(await viaSet.metrics(), await viaPlain.metrics());
  // Both metrics hold the set's own labels object (nothing copied per metric).
  const held = [a.c, a.h].map((m) => [...(m as unknown as { children: Map<string, { labels: object }> }).children.values()][0]!.labels);
  assert.ok(held.every((x) => x === set.labels));
  // The same child comes back for the set and for the plain labels.
  a.c.labels({ ...labels }).inc(1);
  assert.equal(a.c.labels(set).value, 6);
  assert.throws(() => a.c.labels(labelSet(["username"], labels)), /has labels username, workspace_name, not username/);
});
