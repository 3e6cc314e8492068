// The pieces under the server-side figures: the exposition parser, bucket arithmetic (windows, resets,
// merging replicas, histogram_quantile), the evaluator's view of the buckets, and bounded input.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { loadConfig } from "../src/config/index.ts";
import {
  bucketsFromLe, countOf, deltaBuckets, DirectSource, MAX_LABEL_VALUES, mergeBuckets, parseExposition, parseLine, quantile, snapshotOf, toLatencyHistogram, type Buckets,
} from "../src/metrics/coderd/index.ts";

const B = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 10, 30];
/** Cumulative buckets from per-bucket counts (last = +Inf bucket). */
function buckets(per: number[], sum = 0): Buckets {
  let c = 0;
  return { bounds: [...B], cumulative: per.map((n) => (c += n)), sum };
}

describe("coderd metrics: parsing and bucket arithmetic", () => {
  test("the parser reads samples with escaped label values and skips comments and malformed lines", () => {
    const text = [
      "# HELP coderd_api_request_latencies_seconds Latency distribution of requests in seconds.",
      "# TYPE coderd_api_request_latencies_seconds histogram",
      'coderd_api_request_latencies_seconds_bucket{method="GET",path="/api/v2/users/{user}",le="0.005"} 3',
      'coderd_api_request_latencies_seconds_bucket{method="GET",path="/a\\"b\\\\c\\nd",le="+Inf"} 4 1700000000000',
      "process_cpu_seconds_total 12.5",
      "broken{path=\"x\" 1",
      'also_broken{path="x"} notanumber',
      "",
    ].join("\n");
    const s = parseExposition(text);
    assert.equal(s.length, 3);
    assert.deepEqual(s[0], { name: "coderd_api_request_latencies_seconds_bucket", labels: { method: "GET", path: "/api/v2/users/{user}", le: "0.005" }, value: 3 });
    assert.equal(s[1]!.labels.path, '/a"b\\c\nd');
    assert.equal(s[1]!.value, 4, "the timestamp is not the value");
    assert.equal(parseLine("x +Inf")!.value, Infinity);
    assert.equal(parseExposition(text, (n) => n.startsWith("process_")).length, 1);
  });

  test("a window is the difference of two snapshots; a counter that went down was reset", () => {
    const a = buckets([1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.01);
    const b = buckets([1, 5, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1], 2.5);
    const d = deltaBuckets(a, b);
    assert.deepEqual(d.cumulative, buckets([0, 3, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1]).cumulative);
    assert.equal(countOf(d), 8);
    assert.ok(Math.abs(d.sum - 2.49) < 1e-9);
    const restarted = buckets([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(deltaBuckets(b, restarted), restarted, "after a restart everything counted is new");
  });

  test("histogram_quantile: linear within the bucket, the highest finite bound for the +Inf bucket, null when empty", () => {
    // 10 requests in (0.1, 0.5]: p50 is halfway through it.
    const near = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
    near(quantile(buckets([0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0]), 0.5), 0.3);
    // 90 fast (<= 1 ms), 10 in (0.1, 0.5]: p95 is the 5th of the 10 slow ones.
    near(quantile(buckets([90, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0]), 0.95), 0.3);
    assert.equal(quantile(buckets([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]), 0.5), 30);
    assert.equal(quantile(buckets(new Array(12).fill(0)), 0.5), null);
  });

  test("replicas merge by summing buckets (also across different bucket layouts); the evaluator's histogram agrees with histogram_quantile", () => {
    const fast = buckets([95, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const slow = buckets([0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0]);
    const m = mergeBuckets([fast, slow])!;
    assert.equal(countOf(m), 120);
    const p95 = quantile(m, 0.95)!;
    // rank 114 of 120: the 14th of the 20 slow ones -> 0.1 + 0.4 * 14/20 = 0.38
    assert.ok(Math.abs(p95 - 0.38) < 1e-9, `${p95}`);
    const avg = (quantile(fast, 0.95)! + quantile(slow, 0.95)!) / 2;
    assert.ok(Math.abs(avg - p95) > 0.1, "not the average of the replicas' p95s");
    const h = toLatencyHistogram(m);
    assert.equal(h.count, 120);
    assert.ok(Math.abs(h.percentile(95) - p95 * 1000) <= (400 / 20) / 2 + 1, `${h.percentile(95)}`);
    const coarse = bucketsFromLe(new Map([[0.5, 3], [Infinity, 4]]), 1);
    const mixed = mergeBuckets([m, coarse])!;
    assert.equal(countOf(mixed), 124);
    assert.equal(mixed.cumulative[B.indexOf(0.5)], 120 + 3);
  });

  test("a snapshot keeps a bounded number of routes whatever an endpoint sends", () => {
    const samples = Array.from({ length: MAX_LABEL_VALUES + 50 }, (_, i) => ({ name: "coderd_api_request_latencies_seconds_bucket", labels: { path: `/p/${i}`, le: "+Inf" }, value: 1 }));
    const s = snapshotOf(samples, 0);
    assert.equal(s.api.size, MAX_LABEL_VALUES + 1);
    assert.equal(countOf(s.api.get("OTHER")!), 50);
  });

  test("metrics URLs carrying credentials are refused; a scrape larger than the cap is a warning, not a crash", async () => {
    const env = { CODER_URL: "http://127.0.0.1:1", CODER_SESSION_TOKEN: "abcdefghij-abcdefghijabcdefghijab" };
    assert.throws(
      () => loadConfig("ssh-traffic", ["--prometheus-url", "http://user:hunter2@127.0.0.1:9090"], { env, envFile: false }),
      (e: Error) => /must not carry credentials/.test(e.message) && !e.message.includes("hunter2"),
    );
    const big = "x".repeat(1024 * 1024);
    const server: Server = createServer((_req, res) => {
      res.writeHead(200);
      let n = 0;
      const write = (): void => {
        while (n < 40 && res.write(big)) n++;
        if (n >= 40) res.end();
        else res.once("drain", () => (n++, write()));
      };
      write();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const src = new DirectSource({ urls: [url], intervalMs: 60_000 });
    try {
      const h = await src.begin();
      const w = await h.end();
      assert.equal(w.replicas.length, 0);
      assert.ok(w.warnings.some((x) => /larger than/.test(x)), JSON.stringify(w.warnings));
    } finally {
      src.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
