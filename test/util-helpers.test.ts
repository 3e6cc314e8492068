import { test } from "node:test";
import assert from "node:assert/strict";
import { anySignal, attemptSignal, MAX_TIMER_MS, timeoutSignal, timerDelay, withTimeout } from "../src/util/abort.ts";
import { BadInputError, isBadInput } from "../src/util/errors.ts";
import { secureRandomBytes, seededRandom } from "../src/util/random.ts";
import { sleep, sleepOrThrow } from "../src/util/sleep.ts";
import { createRng } from "../sim/rng.ts";
import { seededRandom as payloadRandom } from "../src/traffic/payload.ts";

test("sleep: true after the time, false at once when the signal aborts (before or during), never rejects", async () => {
  const t0 = performance.now();
  assert.equal(await sleep(20), true);
  assert.ok(performance.now() - t0 >= 19, "waited at least the time asked");
  const ac = new AbortController();
  const p = sleep(60_000, ac.signal);
  ac.abort(new Error("stop"));
  assert.equal(await p, false);
  assert.equal(await sleep(60_000, ac.signal), false, "an aborted signal ends the sleep before it starts");
  assert.equal(await sleep(0), true);
  assert.equal(await sleep(-5), true);
});

test("sleepOrThrow rejects with the signal's reason", async () => {
  const ac = new AbortController();
  const reason = new Error("stopped by test");
  const p = sleepOrThrow(60_000, ac.signal);
  ac.abort(reason);
  await assert.rejects(p, (e) => e === reason);
  await sleepOrThrow(1);
});

test("anySignal and withTimeout compose a stop signal with a timeout", async () => {
  assert.equal(anySignal(), undefined);
  const a = new AbortController();
  assert.equal(anySignal(undefined, a.signal), a.signal, "one signal is passed through");
  const b = new AbortController();
  const both = anySignal(a.signal, b.signal)!;
  b.abort("b");
  assert.equal(both.aborted, true);
  assert.equal(both.reason, "b");

  const none = withTimeout(undefined, 0);
  assert.equal(none.timer, undefined);
  assert.equal(none.signal.aborted, false);

  const stop = new AbortController();
  const { signal, timer } = withTimeout(stop.signal, 10);
  // Bounded wait for the observable condition (the timeout firing).
  const deadline = Date.now() + 10_000;
  while (!signal.aborted && Date.now() < deadline) await sleep(5);
  assert.equal(signal.aborted, true);
  assert.equal(timer?.aborted, true, "the timer tells a timeout from a stop");
  assert.equal(stop.signal.aborted, false);

  const s2 = new AbortController();
  const w2 = withTimeout(s2.signal, 60_000);
  s2.abort();
  assert.equal(w2.signal.aborted, true);
  assert.equal(w2.timer?.aborted, false);
});

test("computed delays are made safe for Node's timers: whole ms from 0 to 2^31-1", async () => {
  assert.equal(timerDelay(4999.2), 5000, "fractions round up: a deadline is never cut short");
  assert.equal(timerDelay(0.0001), 1);
  assert.equal(timerDelay(-3.5), 0);
  assert.equal(timerDelay(Number.NaN), 0);
  assert.equal(timerDelay(Infinity), MAX_TIMER_MS);
  assert.equal(timerDelay(2 ** 40), MAX_TIMER_MS);
  // Node itself refuses these (the bug: a remaining budget of 4999.7 ms stopped --run-command with a RangeError).
  assert.throws(() => AbortSignal.timeout(4999.7), RangeError);
  assert.throws(() => AbortSignal.timeout(-1), RangeError);
  for (const ms of [4999.7, -1, Number.NaN, 2 ** 33]) {
    assert.doesNotThrow(() => timeoutSignal(ms), String(ms));
    assert.doesNotThrow(() => withTimeout(undefined, ms), String(ms));
  }
  // A spent, fractional budget still times out (at once), as a timeout, not a stop.
  const spent = withTimeout(undefined, 0.4);
  const deadline = Date.now() + 10_000;
  while (!spent.signal.aborted && Date.now() < deadline) await sleep(5);
  assert.equal(spent.timer?.aborted, true);
  // A delay past Node's limit is held at the limit instead of firing after 1 ms, as a bare timer would.
  const long = timeoutSignal(2 ** 32);
  const ac = new AbortController();
  const longSleep = sleep(2 ** 32, ac.signal);
  let sleptThrough = false;
  void longSleep.then((done) => (sleptThrough = done));
  assert.equal(await sleep(50), true);
  assert.equal(long.aborted, false);
  assert.equal(sleptThrough, false, "the long sleep is still sleeping");
  ac.abort();
  assert.equal(await longSleep, false);
});

test("one seeded PRNG: same seed, same sequence; the payload and the simulator use it", () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const xs = Array.from({ length: 100 }, () => a());
  assert.deepEqual(Array.from({ length: 100 }, () => b()), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(Array.from({ length: 100 }, seededRandom(43)), xs);
  assert.equal(payloadRandom, seededRandom);
  const r = createRng(42);
  assert.deepEqual(Array.from({ length: 100 }, () => r.next()), xs);
});

test("BadInputError is recognised by class", () => {
  const e = new BadInputError("bad --count");
  assert.ok(isBadInput(e));
  assert.ok(e instanceof Error);
  assert.equal(e.name, "BadInputError");
  assert.ok(!isBadInput(new Error("bad --count")), "the same text in a plain Error is not bad input");
});

import { applyPercentage, applyTargetRange, parseShard, parseTargetRange } from "../src/traffic/targets.ts";
import { cleanupScope } from "../src/cleanup/scope.ts";
import { parseOutputSpecs } from "../src/results/outputs.ts";
import { CreateInputError } from "../src/create/index.ts";
import { ConfigError } from "../src/config/load.ts";

test("bad input from every layer is a BadInputError (entry points exit 2 by class, not by message text)", () => {
  const cases: [string, () => unknown][] = [
    ["target range", () => parseTargetRange("workspaces", "9:2")],
    ["nothing to target", () => applyTargetRange("workspaces", [], undefined)],
    ["range past the end", () => applyTargetRange("workspaces", ["a"], { start: 0, end: 5 })],
    ["percentage", () => applyPercentage("workspaces", ["a"], 150)],
    ["percentage selecting none", () => applyPercentage("workspaces", ["a"], 1)],
    ["shard", () => parseShard("3/2")],
    ["cleanup scope", () => cleanupScope({})],
    ["--output", () => parseOutputSpecs(["yaml"])],
  ];
  for (const [what, f] of cases) assert.throws(f, (e: unknown) => isBadInput(e), what);
  assert.ok(new CreateInputError(["x"]) instanceof BadInputError);
  assert.ok(new ConfigError(["x"]) instanceof BadInputError);
});

test("attemptSignal: aborts on a caller's stop or on its timeout, tells them apart, and dispose() lets go of both", async (tc) => {
  // The attempt's timer does not hold the process (a request in flight does): keep the loop alive here.
  const keepAlive = setInterval(() => {}, 1000);
  tc.after(() => clearInterval(keepAlive));
  // The timeout: aborted with a TimeoutError, timedOut() true.
  const t = attemptSignal([], 20);
  await new Promise<void>((resolve) => t.signal.addEventListener("abort", () => resolve(), { once: true }));
  assert.equal(t.timedOut(), true);
  assert.equal((t.signal.reason as DOMException).name, "TimeoutError");
  t.dispose();

  // A caller's stop: its reason, not a timeout.
  const stop = new AbortController();
  const a = attemptSignal([stop.signal], 60_000);
  stop.abort(new Error("stopped"));
  assert.equal(a.signal.aborted, true);
  assert.equal((a.signal.reason as Error).message, "stopped");
  assert.equal(a.timedOut(), false);
  a.dispose();

  // Already stopped before the attempt.
  const b = attemptSignal([stop.signal], 0);
  assert.equal(b.signal.aborted, true);
  b.dispose();

  // Disposed (the request finished): neither a later stop nor the timer reach it.
  const later = new AbortController();
  const c = attemptSignal([later.signal], 30);
  c.dispose();
  later.abort();
  await new Promise((r) => setTimeout(r, 60)); // past the disposed timer's due time: nothing may fire
  assert.equal(c.signal.aborted, false);
  assert.equal(c.timedOut(), false);
});

test("secureRandomBytes: the asked length, never the same bytes twice across pool refills, large draws served whole", () => {
  const seen = new Set<string>();
  // 18-byte draws (a password's) across several 4 KiB pool refills: each distinct and of the asked length.
  for (let i = 0; i < 1000; i++) {
    const b = secureRandomBytes(18);
    assert.equal(b.length, 18);
    seen.add(b.toString("hex"));
  }
  assert.equal(seen.size, 1000);
  // A returned buffer is the caller's copy: later draws do not change it.
  const kept = secureRandomBytes(32);
  const copy = Buffer.from(kept);
  for (let i = 0; i < 300; i++) secureRandomBytes(32);
  assert.deepEqual(kept, copy);
  const big = secureRandomBytes(10_000);
  assert.equal(big.length, 10_000);
  assert.notEqual(big.toString("hex"), Buffer.alloc(10_000).toString("hex"));
});
