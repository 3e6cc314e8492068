import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ALL_PREFIX,
  belongsToRun,
  indexWidth,
  isScaletestName,
  newRunId,
  parseResourceName,
  resourceName,
  runPrefix,
  scaletestEmail,
  validateRunId,
} from "../src/util/naming.ts";

test("newRunId: 6 chars of [a-z0-9], random", () => {
  const ids = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const id = newRunId();
    assert.match(id, /^[a-z0-9]{6}$/);
    assert.equal(validateRunId(id), id);
    ids.add(id);
  }
  assert.ok(ids.size > 195, "run ids should not repeat");
});

test("validateRunId accepts [a-z0-9]{1,8} and rejects the rest clearly", () => {
  for (const ok of ["a", "k3x9q2", "12345678", "0"]) assert.equal(validateRunId(ok), ok);
  for (const bad of ["", "ABC", "abc-1", "123456789", "a b", "ab_c", "é"]) {
    assert.throws(() => validateRunId(bad), /invalid run id .*\[a-z0-9\]\{1,8\}/, bad);
  }
});

test("resourceName pads to >= 4 digits and keeps alphabetical == numeric order", () => {
  const cases: [string, number, number | undefined, string][] = [
    ["k3x9q2", 0, undefined, "scaletest-k3x9q2-0000"],
    ["k3x9q2", 7, undefined, "scaletest-k3x9q2-0007"],
    ["k3x9q2", 1234, undefined, "scaletest-k3x9q2-1234"],
    ["k3x9q2", 12345, undefined, "scaletest-k3x9q2-12345"],
    ["a", 5, 6, "scaletest-a-000005"],
    ["abc", 5, 2, "scaletest-abc-0005"],
    ["12345678", 99, undefined, "scaletest-12345678-0099"],
  ];
  for (const [runId, index, width, want] of cases) assert.equal(resourceName(runId, index, width), want);
  const names = Array.from({ length: 1200 }, (_, i) => resourceName("r1", i, indexWidth(1200)));
  assert.deepEqual([...names].sort(), names);
});

test("resourceName rejects bad input and names Coder would refuse", () => {
  assert.throws(() => resourceName("BAD", 1), /invalid run id/);
  assert.throws(() => resourceName("abc", -1), /non-negative integer/);
  assert.throws(() => resourceName("abc", 1.5), /non-negative integer/);
  // 10 + 8 + 1 + 14 = 33 > 32
  assert.throws(() => resourceName("12345678", 1, 14), /at most 32 characters/);
  assert.equal(resourceName("12345678", 1, 13).length, 32);
});

test("indexWidth", () => {
  const cases: [number, number][] = [[0, 4], [1, 4], [10000, 4], [10001, 5], [100000, 5], [100001, 6]];
  for (const [count, want] of cases) assert.equal(indexWidth(count), want, `count ${count}`);
});

test("scaletestEmail follows Coder's <id>-<index>@scaletest.local", () => {
  assert.equal(scaletestEmail("k3x9q2", 7), "k3x9q2-0007@scaletest.local");
  assert.equal(scaletestEmail("k3x9q2", 7, 5), "k3x9q2-00007@scaletest.local");
  assert.throws(() => scaletestEmail("K", 1), /invalid run id/);
});

test("prefixes, detection and parsing", () => {
  assert.equal(ALL_PREFIX, "scaletest-");
  assert.equal(runPrefix("k3x9q2"), "scaletest-k3x9q2-");
  const cases: [string, boolean, { runId: string; index: number } | null][] = [
    ["scaletest-k3x9q2-0007", true, { runId: "k3x9q2", index: 7 }],
    ["scaletest-abc-12345", true, { runId: "abc", index: 12345 }],
    ["scaletest-k3x9q2-", true, null],
    ["scaletest-k3x9q2-00a1", true, null],
    ["scaletest-runner", true, null],
    ["scaletest-K3X9Q2-0001", true, null],
    ["scaletest-123456789-0001", true, null],
    ["my-scaletest-abc-0001", false, null],
    ["alice", false, null],
  ];
  for (const [name, isScale, parsed] of cases) {
    assert.equal(isScaletestName(name), isScale, name);
    assert.deepEqual(parseResourceName(name), parsed, name);
  }
  assert.equal(belongsToRun("scaletest-k3x9q2-0001", "k3x9q2"), true);
  assert.equal(belongsToRun("scaletest-k3x9q2-0001", "k3x9q"), false);
  assert.equal(belongsToRun("scaletest-k3x9q22-0001", "k3x9q2"), false);
  assert.equal(belongsToRun("scaletest-k3x9q2-extra", "k3x9q2"), false);
  for (let i = 0; i < 50; i++) {
    const id = newRunId();
    assert.deepEqual(parseResourceName(resourceName(id, i)), { runId: id, index: i });
  }
});
