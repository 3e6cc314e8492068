import { test } from "node:test";
import assert from "node:assert/strict";
import { anySignal, withTimeout } from "../src/util/abort.ts";
import { BadInputError, isBadInput } from "../src/util/errors.ts";
import { seededRandom } from "../src/util/random.ts";
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
