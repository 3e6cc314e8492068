// The one way a runner runs its units (workspaces, deletions, virtual users): at most `concurrency` at once,
// none started once the phase is stopped (signal, phase timeout, abort threshold), each bounded by the
// per-unit timeout. The harness hands it to runners as ctx.runUnits, bound to the phase's signal.
import pLimit from "p-limit";
import { anySignal, boundedSignal } from "../util/abort.ts";

export interface UnitRunOptions {
  /** Units at once; 0 = unlimited. */
  concurrency: number;
  /** Once aborted, no further unit starts (those in flight see it through their own signal). */
  signal?: AbortSignal;
  /** Bound on each unit (ms); 0 or absent = none. */
  unitTimeoutMs?: number;
}

export interface UnitHandle {
  /** The phase's signal bounded by the unit's timeout. */
  signal: AbortSignal;
  /** Aborted only by the unit's own timeout (undefined without one): tells a timeout from a stop. */
  timer: AbortSignal | undefined;
}

export interface UnitCallbacks<T, R> {
  run(item: T, index: number, unit: UnitHandle): Promise<R>;
  /** The result of a unit whose turn came after the stop (nothing was done). */
  notStarted(item: T, index: number): R;
  /** Called once, when the first unit is skipped because of the stop. */
  onStopped?(): void;
  /** Called as each unit (started or not) finishes, in completion order. */
  onDone?(result: R, index: number): void;
}

/** Runs every item as a unit; results in item order. */
export async function runUnits<T, R>(items: readonly T[], o: UnitRunOptions, cb: UnitCallbacks<T, R>): Promise<R[]> {
  const limit = pLimit(o.concurrency > 0 ? o.concurrency : Number.POSITIVE_INFINITY);
  let stopSeen = false;
  return Promise.all(
    items.map((item, index) =>
      limit(async () => {
        let r: R;
        if (o.signal?.aborted) {
          if (!stopSeen) {
            stopSeen = true;
            cb.onStopped?.();
          }
          r = cb.notStarted(item, index);
        } else {
          const unit = boundedSignal(o.signal, o.unitTimeoutMs ?? 0);
          try {
            r = await cb.run(item, index, unit);
          } finally {
            unit.dispose();
          }
        }
        cb.onDone?.(r, index);
        return r;
      }),
    ),
  );
}

/** runUnits bound to a phase's signal (a runner may add its own, e.g. its whole-run timeout): RunnerContext.runUnits. */
export type BoundRunUnits = <T, R>(items: readonly T[], o: UnitRunOptions, cb: UnitCallbacks<T, R>) => Promise<R[]>;

export function boundRunUnits(phase: AbortSignal): BoundRunUnits {
  return (items, o, cb) => runUnits(items, { ...o, signal: anySignal(phase, o.signal) }, cb);
}
