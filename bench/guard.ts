/**
 * Runs the CI benchmark guard's measurement (bench/lib/guard.ts) and prints each round; with --record, writes
 * the result as the guard's baseline (bench/results/guard-baseline.json).
 *
 *   node --import tsx bench/guard.ts [--rounds 7] [--record] [--inject-us N] [--sequential] [--conns 100]
 *
 * --inject-us N checks the guard itself: the product side burns N extra CPU microseconds per received message
 * (a made-up regression; ~6 us is +30 % at the guard's workload on the recording machine). Never with --record.
 */
import { ALLOWED_REGRESSION, GUARD_ROUNDS, GUARD_WORKLOAD, BASELINE_FILE, baselineFrom, formatRound, readBaseline, runGuard, writeBaseline } from "./lib/guard.ts";
import { argOf } from "./lib/workload.ts";

const argv = process.argv.slice(2);
const rounds = Number(argOf(argv, "rounds", String(GUARD_ROUNDS)));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number >= 1 (got ${argOf(argv, "rounds")})`);
const record = argv.includes("--record");
const injectProductUs = Number(argOf(argv, "inject-us", "0"));
if (!(injectProductUs >= 0)) throw new Error(`--inject-us must be a number >= 0 (got ${argOf(argv, "inject-us")})`);
if (record && injectProductUs > 0) throw new Error("--record with --inject-us would record a made-up regression as the baseline");

const together = !argv.includes("--sequential");
const conns = Number(argOf(argv, "conns", String(GUARD_WORKLOAD.conns)));
const run = await runGuard({ rounds, injectProductUs, together, workload: { ...GUARD_WORKLOAD, conns }, onRound: (r, i) => console.log(formatRound(r, i)) });
for (const r of run.rerun) console.log(`run again: ${r}`);
const all = run.rounds.map((r) => r.ratio);
console.log(
  `median ratio product/floor: ${run.ratio.toFixed(3)} (rounds ${all.join(", ")}; spread ${Math.min(...all)}-${Math.max(...all)}; ` +
    `load ${run.load.join(" -> ")}; ${run.wallS.toFixed(1)} s)`,
);
if (record) {
  writeBaseline(baselineFrom(run));
  console.log(`wrote ${BASELINE_FILE}`);
} else {
  try {
    const b = readBaseline();
    const limit = b.productOverFloorCpu * b.allowedRegression;
    console.log(`baseline ${b.productOverFloorCpu} (recorded ${b.recordedAt}); limit ${limit.toFixed(3)}: ${run.ratio <= limit ? "pass" : "FAIL"}`);
  } catch (e) {
    console.log(`no usable baseline (${(e as Error).message}); the guard's limit would be ${ALLOWED_REGRESSION} x the recorded ratio`);
  }
}
