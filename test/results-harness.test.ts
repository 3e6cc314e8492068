import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatGoDuration,
  formatGoDurationNs,
  formatHarnessText,
  HarnessResults,
  NIL_ERROR,
  parseGoDurationNs,
} from "../src/results/harness.ts";

test("formatGoDuration matches Go's time.Duration.String()", () => {
  // [nanoseconds, Go output] — from Go's time package tests and `fmt.Println(d)`.
  const ns: [bigint, string][] = [
    [0n, "0s"],
    [1n, "1ns"],
    [999n, "999ns"],
    [1100n, "1.1µs"],
    [2_200_000n, "2.2ms"],
    [1_234_567n, "1.234567ms"],
    [150_000_000n, "150ms"],
    [3_300_000_000n, "3.3s"],
    [1_500_000_000n, "1.5s"],
    [60_000_000_000n, "1m0s"],
    [62_300_000_000n, "1m2.3s"],
    [245_000_000_000n, "4m5s"],
    [245_001_000_000n, "4m5.001s"],
    [18_367_001_000_000n, "5h6m7.001s"],
    [480_000_000_001n, "8m0.000000001s"],
    [7_200_000_000_000n, "2h0m0s"],
    [9_223_372_036_854_775_807n, "2562047h47m16.854775807s"],
    [-9_223_372_036_854_775_808n, "-2562047h47m16.854775808s"],
    [-1_500_000_000n, "-1.5s"],
    [-1n, "-1ns"],
  ];
  for (const [n, want] of ns) assert.equal(formatGoDurationNs(n), want, `${n}ns`);
  const ms: [number, string][] = [
    [0, "0s"],
    [150, "150ms"],
    [1500, "1.5s"],
    [62_300, "1m2.3s"],
    [7_200_000, "2h0m0s"],
    [1.234567, "1.234567ms"],
    [0.0011, "1.1µs"],
    [1000, "1s"],
  ];
  for (const [m, want] of ms) assert.equal(formatGoDuration(m), want, `${m}ms`);
  assert.throws(() => formatGoDuration(NaN), /cannot format/);
});

test("parseGoDurationNs inverts formatGoDurationNs", () => {
  for (const n of [0n, 1n, 1100n, 1_234_567n, 62_300_000_000n, 18_367_001_000_000n, 7_200_000_000_000n, -1_500_000_000n]) {
    assert.equal(parseGoDurationNs(formatGoDurationNs(n)), n);
  }
  assert.equal(parseGoDurationNs("1h30m"), 5_400_000_000_000n);
  assert.equal(parseGoDurationNs("0"), 0n);
  for (const bad of ["", "abc", "1", "1d", "s"]) assert.equal(parseGoDurationNs(bad), null, bad);
});

test("HarnessResults builds Coder's results JSON", () => {
  const h = new HarnessResults();
  const t0 = new Date("2025-03-01T10:00:00.000Z");
  h.add({ testName: "workspacebuild", id: 1, startedAt: t0, durationMs: 1500.9, logs: "ok\n", extra: { stages: { build_ms: 800 } } });
  h.add({ testName: "workspacebuild", id: "0", startedAt: t0.getTime(), durationMs: 62_300, error: new Error("build failed: job timed out") });
  assert.throws(() => h.add({ testName: "workspacebuild", id: 0, startedAt: t0, durationMs: 1 }), /duplicate/);
  assert.throws(() => h.add({ testName: "x", id: 0, startedAt: t0, durationMs: 1, extra: { error: "x" } }), /overwrite Coder's field/);
  assert.throws(() => h.add({ testName: "x", id: 9, startedAt: "nope", durationMs: 1 }), /invalid run start time/);
  const json = h.toJSON(63_000.4, { run_id: "k3x9q2" });
  assert.deepEqual(json, {
    total_runs: 2,
    total_pass: 1,
    total_fail: 1,
    elapsed: "1m3.0004s",
    elapsed_ms: 63_000,
    runs: {
      "workspacebuild/0": {
        full_id: "workspacebuild/0",
        test_name: "workspacebuild",
        id: "0",
        logs: "",
        error: "build failed: job timed out",
        started_at: "2025-03-01T10:00:00.000Z",
        duration: "1m2.3s",
        duration_ms: 62_300,
      },
      "workspacebuild/1": {
        full_id: "workspacebuild/1",
        test_name: "workspacebuild",
        id: "1",
        logs: "ok\n",
        error: NIL_ERROR,
        started_at: "2025-03-01T10:00:00.000Z",
        duration: "1.5009s",
        duration_ms: 1500,
        stages: { build_ms: 800 },
      },
    },
    run_id: "k3x9q2",
  });
  assert.equal(NIL_ERROR, "<nil>");
  assert.deepEqual(Object.keys(json.runs), ["workspacebuild/0", "workspacebuild/1"]);
  assert.throws(() => h.toJSON(1, { total_runs: 5 }), /overwrite/);
  assert.throws(() => JSON.stringify(h), /call it explicitly/);
});

test("formatHarnessText reproduces Coder's PrintText", () => {
  const h = new HarnessResults();
  const t0 = new Date(0);
  h.add({ testName: "workspace-traffic", id: 0, startedAt: t0, durationMs: 1000 });
  h.add({ testName: "workspace-traffic", id: 1, startedAt: t0, durationMs: 2000, error: "read: connection reset", logs: "line one\nline two\n" });
  h.add({ testName: "workspace-traffic", id: 2, startedAt: t0, durationMs: 1500 });
  const text = formatHarnessText(h.toJSON(5000));
  assert.equal(
    text,
    "\n== FAIL: workspace-traffic/1\n\n" +
      "\tError: read: connection reset\n\n" +
      "\tLog:\n\t\tline one\n\t\tline two\n" +
      "\n\nTest results:\n" +
      "\tPass:  2\n\tFail:  1\n\tTotal: 3\n\n" +
      "\tTotal duration: 5s\n" +
      "\tAvg. duration:  1.5s\n",
  );
  assert.equal(formatHarnessText(new HarnessResults().toJSON(0)), "\n\nTest results:\n\tNo tests run\n");
});
