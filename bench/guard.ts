/**
 * Records the CI guard's baseline (bench/results/baseline.json): the ratio of our engine's CPU per
 * full-rate connection-minute to the raw-ws floor's, median of several rounds on this machine.
 *
 *   node --import tsx bench/guard.ts [--rounds 5] [--write]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { EchoServer } from "./lib/echo.ts";
import { BASELINE_FILE, GUARD_WORKLOAD, guardRound, median, type GuardBaseline } from "./lib/guard.ts";
import { argOf } from "./lib/workload.ts";

const argv = process.argv.slice(2);
const rounds = Number(argOf(argv, "rounds", "5"));
const workDir = join(BASELINE_FILE, "..", "work");
const echo = await EchoServer.start();
const ratios: number[] = [];
try {
  for (let i = 0; i < rounds; i++) {
    const r = await guardRound(echo, workDir, i % 2 === 1);
    ratios.push(Math.round(r.ratio * 1000) / 1000);
    console.log(
      `round ${i + 1}: ours ${r.ours.cpuMsPerConnMin} ms/conn-min (thru ${r.ours.throughputRatio}), ` +
        `raw-ws ${r.raw.cpuMsPerConnMin} (thru ${r.raw.throughputRatio}) -> ratio ${r.ratio.toFixed(3)}`,
    );
  }
} finally {
  await echo.close();
}
const m = median(ratios);
console.log(`median ratio ours/raw-ws: ${m.toFixed(3)} (rounds ${ratios.join(", ")})`);
if (argv.includes("--write")) {
  const b: GuardBaseline = {
    kind: "traffic-bench-guard-baseline",
    recordedAt: new Date().toISOString(),
    machine: { cores: cpus().length, node: process.version },
    workload: GUARD_WORKLOAD,
    oursOverRawCpu: Math.round(m * 1000) / 1000,
    rounds: ratios,
    allowedFactor: 2,
    note:
      "test/bench-guard.test.ts fails when ours/raw-ws CPU per full-rate connection-minute exceeds " +
      "oursOverRawCpu x allowedFactor. Re-record with `node --import tsx bench/guard.ts --write` after an intended change.",
  };
  mkdirSync(dirname(BASELINE_FILE), { recursive: true });
  writeFileSync(BASELINE_FILE, JSON.stringify(b, null, 2) + "\n");
  console.log(`wrote ${BASELINE_FILE}`);
}
