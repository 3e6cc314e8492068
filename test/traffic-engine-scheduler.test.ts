import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { TimeoutScheduler, WheelScheduler, type Schedulable, type Scheduler } from "../src/traffic/scheduler.ts";
import { runTraffic } from "../src/traffic/engine.ts";
import type { TrafficConnection } from "../src/traffic/transport.ts";
import { makeTargets } from "./helpers/traffic.ts";

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
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let fired = 0;
  const s = make((it, t) => {
    it.firedAt = t;
    it.fires++;
    if (++fired === items.length - 50) done();
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
  await finished;
  await new Promise((r) => setTimeout(r, 30));
  s.stop();
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
  assert.equal(r.totals.ticksSent, 20 * (500 / 25));
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
