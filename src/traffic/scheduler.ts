/**
 * Tick schedulers: "call `fire(item, now)` at (or just after) time `at`", for thousands of items that each
 * re-arm once per tick interval.
 *
 * - `WheelScheduler` (default): a timer wheel of `slotMs` slots covering one tick interval plus margin, driven
 *   by a single re-armed setTimeout for the next non-empty slot. A slot fires when its time range has passed
 *   (so items fire up to `slotMs` late, never early). No allocation per schedule once slot arrays
 *   have grown; items due in the same slot are fired in one batch.
 * - `TimeoutScheduler`: one setTimeout per item per tick; simple, allocates a Timeout each time. Kept to
 *   compare against in bench/traffic-engine-quick.ts.
 *
 * An item is scheduled at most once at a time: scheduling it again replaces the earlier time.
 * Firing late is fine for correctness: the engine measures latency from the item's due time.
 */

export interface Schedulable {
  /** Owned by the scheduler: absolute slot (wheel) or -1 when not scheduled. */
  schedSlot: number;
  schedTimer: NodeJS.Timeout | undefined;
}

export interface Scheduler<T extends Schedulable> {
  schedule(item: T, at: number): void;
  cancel(item: T): void;
  stop(): void;
}

export type SchedulerKind = "wheel" | "timeout";

export class WheelScheduler<T extends Schedulable> implements Scheduler<T> {
  private readonly slots: T[][];
  private spare: T[] = [];
  private readonly nSlots: number;
  /** Next absolute slot to process; everything before it has been fired. */
  private cursor: number;
  private timer: NodeJS.Timeout | undefined;
  private armedSlot = Infinity;
  private pending = 0;
  private stopped = false;

  constructor(
    private readonly fire: (item: T, now: number) => void,
    private readonly now: () => number,
    horizonMs: number,
    private readonly slotMs = 1,
  ) {
    this.nSlots = Math.ceil(horizonMs / slotMs) + 16;
    this.slots = Array.from({ length: this.nSlots }, () => []);
    this.cursor = Math.floor(now() / slotMs);
  }

  schedule(item: T, at: number): void {
    if (this.stopped) return;
    if (this.pending === 0) {
      // Idle wheel: catch the cursor up so the horizon is measured from now.
      const nowSlot = Math.floor(this.now() / this.slotMs);
      if (nowSlot > this.cursor) this.cursor = nowSlot;
    }
    let slot = Math.floor(at / this.slotMs);
    if (slot < this.cursor) slot = this.cursor;
    // Beyond the horizon (only after a long event-loop stall): fire early at the horizon's edge; the
    // engine re-checks due times and re-schedules.
    if (slot >= this.cursor + this.nSlots) slot = this.cursor + this.nSlots - 1;
    if (item.schedSlot === slot) return;
    // A stale entry in another slot is skipped when that slot fires (its schedSlot no longer matches).
    item.schedSlot = slot;
    this.slots[slot % this.nSlots]!.push(item);
    this.pending++;
    if (slot < this.armedSlot) this.arm(slot);
  }

  cancel(item: T): void {
    item.schedSlot = -1;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of this.slots) {
      for (const it of s) it.schedSlot = -1;
      s.length = 0;
    }
  }

  private arm(slot: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedSlot = slot;
    // A slot holds due times in [slot, slot+1) * slotMs; it fires at its end so every item in it is due.
    const delay = Math.max(0, (slot + 1) * this.slotMs - this.now());
    this.timer = setTimeout(this.onTimer, delay);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.armedSlot = Infinity;
    if (this.stopped) return;
    const now = this.now();
    const last = Math.floor(now / this.slotMs) - 1; // last slot whose time range has fully passed
    while (this.cursor <= last && this.pending > 0) {
      const slot = this.cursor;
      const idx = slot % this.nSlots;
      const batch = this.slots[idx]!;
      if (batch.length > 0) {
        // Swap in an empty array so items re-scheduled from fire() never land in the batch being iterated.
        this.slots[idx] = this.spare;
        for (let i = 0; i < batch.length; i++) {
          const it = batch[i]!;
          if (it.schedSlot === slot) {
            it.schedSlot = -1;
            this.fire(it, now);
          }
        }
        // Counted out only after the batch fired: while it fires the wheel is not idle, so a re-schedule from
        // fire() must not move the cursor (which would skip the slot it lands in).
        this.pending -= batch.length;
        batch.length = 0;
        this.spare = batch;
        if (this.stopped) return;
      }
      this.cursor++;
    }
    if (this.pending === 0) {
      this.cursor = last + 1;
      return;
    }
    if (this.cursor <= last) this.cursor = last + 1;
    // Next non-empty slot (at most one wheel turn away).
    for (let s = this.cursor; s < this.cursor + this.nSlots; s++) {
      if (this.slots[s % this.nSlots]!.length > 0) {
        this.arm(s);
        return;
      }
    }
  };
}

export class TimeoutScheduler<T extends Schedulable> implements Scheduler<T> {
  private stopped = false;
  private readonly live = new Set<T>();

  constructor(
    private readonly fire: (item: T, now: number) => void,
    private readonly now: () => number,
  ) {}

  schedule(item: T, at: number): void {
    if (this.stopped) return;
    if (item.schedTimer) clearTimeout(item.schedTimer);
    item.schedSlot = 0;
    this.live.add(item);
    const run = (): void => {
      const now = this.now();
      // Node timers can fire up to ~1 ms before performance.now() reaches the target (ms rounding).
      if (now < at && !this.stopped) {
        item.schedTimer = setTimeout(run, at - now);
        return;
      }
      item.schedTimer = undefined;
      item.schedSlot = -1;
      this.live.delete(item);
      if (!this.stopped) this.fire(item, now);
    };
    item.schedTimer = setTimeout(run, Math.max(0, at - this.now()));
  }

  cancel(item: T): void {
    if (item.schedTimer) clearTimeout(item.schedTimer);
    item.schedTimer = undefined;
    item.schedSlot = -1;
    this.live.delete(item);
  }

  stop(): void {
    this.stopped = true;
    for (const it of this.live) this.cancel(it);
  }
}
