/**
 * Waits for an observable condition instead of sleeping and hoping: polls `cond` until it returns a truthy
 * value (returned to the caller) or the deadline passes. The deadline is generous on purpose — it only bounds a
 * test that would otherwise hang; on a busy machine the condition simply takes longer to come true.
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface WaitForOptions {
  /** What is awaited, for the failure message ("the child to print ready"). */
  what: string;
  /** Give up after this long (default 20 s). */
  timeoutMs?: number;
  /** Poll period (default 10 ms). */
  everyMs?: number;
  /** Extra state for the failure message (e.g. the output seen so far). */
  detail?: () => string;
}

export async function waitFor<T>(
  cond: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: WaitForOptions,
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() >= deadline) {
      const detail = opts.detail ? `: ${opts.detail()}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${detail}`);
    }
    await sleep(Math.min(opts.everyMs ?? 10, Math.max(1, deadline - Date.now())));
  }
}
