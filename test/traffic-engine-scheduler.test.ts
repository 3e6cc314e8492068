import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { TimeoutScheduler, WheelScheduler, type Schedulable, type Scheduler } from "../src/traffic/scheduler.ts";
import { runTraffic } from "../src/traffic/engine.ts";
import type { TrafficConnection } from "../src/traffic/transport.ts";
import { makeTargets } from "./helpers/traffic.ts";
import { waitFor } from "./helpers/wait-for.ts";

interface Item extends Schedulable {
  id: number;
  at: number;
  firedAt?: number;
  fires: number;
}

async function exercise(make: (fire: (it: Item, now: number) => void) => Scheduler<Item>): Promise<Item[]> {
  const now = () => performance.now();
  const items: Item[] = Array.from({ length: 300 }, (_, id) => ({
    id,
    at: 0,
    fires: 0,
    schedSlot: -1,
    schedTimer: undefined,
  }));
  // Fired last, after everything else was due: once it fires, a cancelled or stale entry would have fired too.
  const sentinel: Item = { id: -1, at: 0, fires: 0, schedSlot: -1, schedTimer: undefined };
  let fired = 0;
  const s = make((it, t) => {
    it.firedAt = t;
    it.fires++;
    if (it !== sentinel) fired++;
  });
  const t0 = now();
  for (const it of items) {
    it.at = t0 + (it.id * 7.3) % 120;
    s.schedule(it, it.at);
  }
  // Re-scheduling replaces the earlier time; cancel removes.
  for (const it of items.slice(0, 10)) {
    it.at += 20;
    s.schedule(it, it.at);
  }
  for (const it of items.slice(250)) s.cancel(it);
  try {
    await waitFor(() => fired >= items.length - 50, { what: "the 250 live items to fire", detail: () => `${fired} fired` });
    sentinel.at = Math.max(now(), ...items.map((it) => it.at)) + 2;
    s.schedule(sentinel, sentinel.at);
    await waitFor(() => sentinel.fires > 0, { what: "the sentinel scheduled after every other item" });
  } finally {
    s.stop();
  }
  return items;
}

for (const [name, make] of [
  ["wheel", (f: (it: Item, now: number) => void) => new WheelScheduler<Item>(f, () => performance.now(), 150)],
  ["timeout", (f: (it: Item, now: number) => void) => new TimeoutScheduler<Item>(f, () => performance.now())],
] as const) {
  test(`${name} scheduler fires every item once, never early, and honours cancel/re-schedule`, async () => {
    const items = await exercise(make);
    for (const it of items.slice(0, 250)) {
      assert.equal(it.fires, 1, `item ${it.id} fired ${it.fires}x`);
      assert.ok(it.firedAt! >= it.at - 0.001, `item ${it.id} fired ${it.at - it.firedAt!} ms early`);
    }
    for (const it of items.slice(250)) assert.equal(it.fires, 0);
  });
}

test("engine on the setTimeout scheduler gives the same accounting", async () => {
  const r = await runTraffic({
    targets: makeTargets(20),
    dialer: {
      kind: "app",
      echo: "echo",
      dial: async (): Promise<TrafficConnection> => {
        let cb: ((b: Buffer) => void) | undefined;
        return { write: (b) => void setImmediate(() => cb?.(b)), onData: (f) => (cb = f), onClose: () => {}, close: async () => {} };
      },
    },
    bytesPerTick: 64,
    tickIntervalMs: 25,
    durationMs: 500,
    scheduler: "timeout",
  });
  assert.equal(r.totals.ticksCompleted, r.totals.ticksSent);
  assert.equal(r.totals.ticksLost, 0);
  // Every tick of every timetable, however late the timers fired: 500 ms / 25 ms each.
  assert.equal(r.totals.ticksSent, 20 * 20);
});

test("PTY-like far end: \\n echoed as \\r\\n, twice per tick (tty echo + command output)", async () => {
  const r = await runTraffic({
    targets: makeTargets(3),
    dialer: {
      kind: "web-terminal",
      echo: "echo",
      echoNewlinesPerTick: 2,
      dial: async (): Promise<TrafficConnection> => {
        let cb: ((b: Buffer) => void) | undefined;
        return {
          write: (b) => {
            const crlf = Buffer.from(b.toString("latin1").replace(/\n/g, "\r\n"), "latin1");
            // Split arbitrarily so a tick's newline can arrive in a later chunk than its text.
            setImmediate(() => {
              cb?.(crlf.subarray(0, 10));
              cb?.(Buffer.concat([crlf.subarray(10), crlf]));
            });
          },
          onData: (f) => (cb = f),
          onClose: () => {},
          close: async () => {},
        };
      },
    },
    bytesPerTick: 100,
    tickIntervalMs: 20,
    durationMs: 400,
  });
  assert.equal(r.totals.ticksCompleted, r.totals.ticksSent);
  assert.equal(r.totals.bytesRead, 2 * (r.totals.bytesWritten + r.totals.ticksSent));
  assert.equal(r.totals.ticksLost, 0);
});

// Regression: onTimer used to count a batch out of `pending` before firing it, so a re-schedule from fire() saw
// an idle wheel, caught the cursor up to the clock, landed in the cursor's own slot, and the cursor++ after the
// batch skipped it: the item (a traffic connection) never fired again. Seen under CPU load as connections that
// stopped mid-run.
test("wheel: an item re-scheduled from its own fire() after the clock moved on still fires", async () => {
  // A fake clock: time passes inside the fire callback (a busy process), and the item's next due time is
  // already behind the clock when it is re-scheduled, with nothing else pending in the wheel.
  let clock = 0;
  const item: Item = { id: 0, at: 10.5, fires: 0, schedSlot: -1, schedTimer: undefined };
  const w = new WheelScheduler<Item>(
    (it, t) => {
      it.fires++;
      if (it.fires === 1) {
        clock = t + 8;
        it.at = t + 3; // due after the fire's `t`, before the clock
        w.schedule(it, it.at);
      }
    },
    () => clock,
    20,
  );
  try {
    w.schedule(item, item.at);
    clock = 12;
    await waitFor(() => item.fires >= 1, { what: "the first fire" });
    // Let the (fake) clock run on: the re-scheduled item must fire again.
    await waitFor(
      () => {
        clock += 5;
        return item.fires >= 2;
      },
      { what: "the re-scheduled item to fire", timeoutMs: 2000, detail: () => `fires ${item.fires}, clock ${clock}` },
    );
  } finally {
    w.stop();
  }
});
