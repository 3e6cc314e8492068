import { test } from "node:test";
import assert from "node:assert/strict";
import {
  applyTargetRange,
  parseShard,
  parseTargetRange,
  percentageSlices,
  selectTargets,
  shardBounds,
} from "../src/traffic/targets.ts";

/** 30 workspaces named scaletest-abc-0000.. in scrambled order. */
const names = Array.from({ length: 30 }, (_, i) => `scaletest-abc-${String(i).padStart(4, "0")}`);
const scrambled = names.map((n, i) => ({ name: n, k: (i * 7) % 30 })).sort((a, b) => a.k - b.k);
const idx = (xs: { name: string }[]) => xs.map((x) => Number(x.name.slice(-4)));
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test("selection table: sort by name -> range -> percentage -> shard", () => {
  const cases: {
    name: string;
    range?: string;
    percentage?: number;
    shard?: string;
    want: number[];
  }[] = [
    { name: "all", want: range(0, 30) },
    { name: "--target-workspaces 10:20", range: "10:20", want: range(10, 20) },
    { name: "0:1", range: "0:1", want: [0] },
    { name: "29:30 (end == count is fine)", range: "29:30", want: [29] },
    { name: "--shard 1/3 of 30", shard: "1/3", want: range(10, 20) },
    { name: "--shard 0/3", shard: "0/3", want: range(0, 10) },
    { name: "--shard 2/3", shard: "2/3", want: range(20, 30) },
    { name: "10:20 then shard 1/3 (10 items -> [3,6))", range: "10:20", shard: "1/3", want: [13, 14, 15] },
    { name: "10:20 then shard 2/3 -> [6,10)", range: "10:20", shard: "2/3", want: [16, 17, 18, 19] },
    { name: "--percentage 50", percentage: 50, want: range(0, 15) },
    { name: "--percentage 10 of 10:20 -> first 1", range: "10:20", percentage: 10, want: [10] },
    { name: "--percentage 34 -> floor(10.2)=10", percentage: 34, want: range(0, 10) },
    { name: "percentage then shard", percentage: 50, shard: "1/2", want: range(7, 15) },
    { name: "shard 0/1 is everything", shard: "0/1", want: range(0, 30) },
  ];
  for (const c of cases) {
    const got = selectTargets(scrambled, {
      noun: "workspaces",
      nameOf: (w) => w.name,
      range: c.range,
      percentage: c.percentage,
      shard: c.shard,
    });
    assert.deepEqual(idx(got), c.want, c.name);
  }
});

test("shards are disjoint and cover every item, sizes differ by at most one", () => {
  for (const n of [0, 1, 2, 7, 10, 30, 101]) {
    for (const count of [1, 2, 3, 4, 7, 16]) {
      const seen: number[] = [];
      const sizes: number[] = [];
      for (let i = 0; i < count; i++) {
        const { start, end } = shardBounds(n, { index: i, count });
        sizes.push(end - start);
        for (let k = start; k < end; k++) seen.push(k);
      }
      assert.deepEqual(seen, range(0, n), `n=${n} count=${count}`);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  }
});

test("target range errors match Coder's wording", () => {
  const bad: [string, RegExp][] = [
    ["10:10", /invalid target workspaces "10:10": start and end cannot be equal/],
    ["20:10", /invalid target workspaces "20:10": end cannot be less than start/],
    ["10", /invalid target workspaces "10": expected START:END/],
    ["1:2:3", /invalid target workspaces "1:2:3"/],
    ["a:5", /"a" is not a non-negative integer/],
    [":5", /"" is not a non-negative integer/],
    ["-1:5", /"-1" is not a non-negative integer/],
  ];
  for (const [spec, re] of bad) assert.throws(() => parseTargetRange("workspaces", spec), re, spec);
  assert.equal(parseTargetRange("workspaces", ""), undefined);
  assert.deepEqual(parseTargetRange("users", "0:5"), { start: 0, end: 5 });
  assert.throws(
    () => applyTargetRange("workspaces", names, { start: 10, end: 31 }),
    /target workspace end 31 is greater than the number of workspaces 30/,
  );
  assert.throws(() => applyTargetRange("users", names, { start: 0, end: 40 }), /target user end 40 is greater than the number of users 30/);
  assert.throws(() => applyTargetRange("workspaces", [], undefined), /no scaletest workspaces exist/);
  assert.throws(
    () => selectTargets(names, { noun: "workspaces", nameOf: (s) => s, percentage: 1 }),
    /percentage 1 of 30 workspaces selects none/,
  );
  assert.throws(() => selectTargets(names, { noun: "workspaces", nameOf: (s) => s, percentage: 0 }), /expected a number in \(0, 100\]/);
  assert.throws(() => selectTargets(names, { noun: "workspaces", nameOf: (s) => s, percentage: 101 }), /\(0, 100\]/);
});

test("shard parsing", () => {
  assert.deepEqual(parseShard("1/3"), { index: 1, count: 3 });
  assert.equal(parseShard(""), undefined);
  assert.throws(() => parseShard("3/3"), /INDEX must be below COUNT \(0..2\)/);
  assert.throws(() => parseShard("1/0"), /COUNT must be at least 1/);
  assert.throws(() => parseShard("1-3"), /expected INDEX\/COUNT/);
  assert.throws(() => parseShard("-1/3"), /expected INDEX\/COUNT/);
});

test("pipeline percentage slices follow Coder's run.sh", () => {
  // 100 workspaces, three scenarios at 30/30/40 % -> disjoint consecutive slices.
  assert.deepEqual(
    percentageSlices(100, [30, 30, 40]).map((s) => s.spec),
    ["0:30", "30:60", "60:100"],
  );
  // Over 100 % in total: the slice that would overrun wraps to 0:count.
  const s = percentageSlices(10, [50, 50, 50]);
  assert.deepEqual(
    s.map((x) => [x.spec, x.wrapped]),
    [
      ["0:5", false],
      ["5:10", false],
      ["0:5", true],
    ],
  );
  // floor: 33 % of 10 = 3.
  assert.deepEqual(percentageSlices(10, [33, 33]).map((x) => x.spec), ["0:3", "3:6"]);
  assert.throws(() => percentageSlices(10, [5]), /selects none/);
  // Every slice is a valid --target-workspaces for the same list.
  for (const sl of percentageSlices(30, [25, 25, 50])) {
    const got = selectTargets(names, { noun: "workspaces", nameOf: (x) => x, range: sl.spec });
    assert.equal(got.length, sl.end - sl.start);
  }
});

test("sorting is by code unit, not locale, and does not mutate the input", () => {
  const items = ["scaletest-b-0002", "scaletest-B-0001", "scaletest-a-0010", "scaletest-a-0009"];
  const copy = items.slice();
  const got = selectTargets(items, { noun: "workspaces", nameOf: (s) => s });
  assert.deepEqual(got, ["scaletest-B-0001", "scaletest-a-0009", "scaletest-a-0010", "scaletest-b-0002"]);
  assert.deepEqual(items, copy);
});
