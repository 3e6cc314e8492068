// --rand-seed as Coder's dashboard command: one generator, seeded (default 0), shared by every virtual user, so
// the same seed makes the same choices of pages, targets and pauses.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../src/config/index.ts";
import { dashboardRunner } from "../src/dashboard/index.ts";

const optsFor = (...argv: string[]) => {
  const config = loadConfig("dashboard-traffic", ["--run-id", "seed1", ...argv], { env: { CODER_URL: "http://127.0.0.1:1", CODER_SESSION_TOKEN: "abcdefghij-abcdefghijklmnopqrstuv" }, envFile: false }).config;
  return dashboardRunner.validate(config, {});
};

test("--rand-seed: the same seed gives the same choices, another seed others; default 0 as Coder's", () => {
  const draw = (r: (() => number) | undefined) => Array.from({ length: 8 }, () => r!());
  assert.deepEqual(draw(optsFor("--rand-seed", "7").random), draw(optsFor("--rand-seed", "7").random));
  assert.notDeepEqual(draw(optsFor("--rand-seed", "7").random), draw(optsFor("--rand-seed", "8").random));
  assert.deepEqual(draw(optsFor().random), draw(optsFor("--rand-seed", "0").random));
});
