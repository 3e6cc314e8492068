// The shared unit runner (src/scenario/units.ts): concurrency, no unit started after the stop, each unit
// bounded by its own timeout (told apart from a stop), results in item order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { boundRunUnits, runUnits } from "../src/scenario/units.ts";
import { sleep } from "../src/util/sleep.ts";

test("at most `concurrency` units at once; results in item order; 0 = unlimited", async () => {
  for (const [concurrency, want] of [[2, 2], [0, 6]] as const) {
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    const out = await runUnits([1, 2, 3, 4, 5, 6], { concurrency }, {
      run: async (item) => {
        active++;
        peak = Math.max(peak, active);
        // Later items finish first: the output order must still be the items'.
        await sleep(5 * (7 - item));
        active--;
        return item * 10;
      },
      notStarted: () => -1,
      onDone: (r) => done.push(r),
    });
    assert.deepEqual(out, [10, 20, 30, 40, 50, 60]);
    assert.equal(peak, want, `concurrency ${concurrency}`);
    assert.equal(done.length, 6);
  }
});

test("after the stop no unit starts; in-flight units see it; onStopped once", async () => {
  const stop = new AbortController();
  const started: number[] = [];
  let stoppedCalls = 0;
  const out = await runUnits([0, 1, 2, 3, 4], { concurrency: 1, signal: stop.signal }, {
    run: async (item, _i, unit) => {
      started.push(item);
      if (item === 1) {
        stop.abort(new Error("stop"));
        assert.equal(unit.signal.aborted, true, "the unit's signal carries the stop");
        assert.equal(unit.timer, undefined, "no per-unit timeout asked");
      }
      return `ran ${item}`;
    },
    notStarted: (item) => `skipped ${item}`,
    onStopped: () => stoppedCalls++,
  });
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(out, ["ran 0", "ran 1", "skipped 2", "skipped 3", "skipped 4"]);
  assert.equal(stoppedCalls, 1);
});

test("each unit gets its own timeout, told apart from a stop; the bound form adds the phase's signal", async () => {
  const out = await runUnits([0, 1], { concurrency: 2, unitTimeoutMs: 20 }, {
    run: async (_item, _i, unit) => {
      const deadline = Date.now() + 10_000;
      while (!unit.signal.aborted && Date.now() < deadline) await sleep(5);
      return unit.timer?.aborted === true;
    },
    notStarted: () => false,
  });
  assert.deepEqual(out, [true, true], "both units timed out on their own timer");

  const phase = new AbortController();
  phase.abort();
  const own = new AbortController();
  const bound = boundRunUnits(phase.signal);
  assert.deepEqual(await bound([1, 2], { concurrency: 1, signal: own.signal }, { run: async () => "ran", notStarted: () => "skipped" }), ["skipped", "skipped"]);
  const open = boundRunUnits(new AbortController().signal);
  own.abort();
  assert.deepEqual(await open([1], { concurrency: 1, signal: own.signal }, { run: async () => "ran", notStarted: () => "skipped" }), ["skipped"], "the runner's own signal counts too");
});

test("a finished unit leaves nothing behind: no listener on the phase's signal, no timer running out its timeout", async () => {
  const { EventEmitter } = await import("node:events");
  const getEventListeners = (t: EventTarget, name: string): number => EventEmitter.getEventListeners(t, name).length;
  const phase = new AbortController();
  const seen: number[] = [];
  const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  await runUnits([0, 1, 2, 3, 4], { concurrency: 0, signal: phase.signal, unitTimeoutMs: 600_000 }, {
    run: async (_item, i, unit) => {
      seen.push(getEventListeners(phase.signal, "abort"));
      assert.equal(unit.signal.aborted, false);
      return i;
    },
    notStarted: () => -1,
  });
  assert.ok(Math.max(...seen) >= 1, "a unit in flight listens to the phase's signal");
  assert.equal(getEventListeners(phase.signal, "abort"), 0, "no listener left once the units are done");
  const after = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  assert.ok(after <= before, `units left ${after - before} ten-minute timers running`);
  // The stop still reaches a unit in flight, as its signal's reason.
  const stop = new AbortController();
  const reasons = await runUnits([0], { concurrency: 1, signal: stop.signal, unitTimeoutMs: 600_000 }, {
    run: async (_i, _n, unit) => {
      stop.abort(new Error("phase stopped"));
      return [unit.signal.aborted, (unit.signal.reason as Error).message, unit.timer?.aborted] as const;
    },
    notStarted: () => [false, "", undefined] as const,
  });
  assert.deepEqual(reasons, [[true, "phase stopped", false]]);
});
