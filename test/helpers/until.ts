// Waiting for an observable condition instead of sleeping: polls `cond` until it returns a truthy value,
// and fails with what was awaited once the deadline passes. Deadlines are generous bounds for a busy
// machine, not expectations: a healthy run meets the condition long before.

export interface UntilOptions {
  /** Give up after this long (default 20 s). */
  timeoutMs?: number;
  /** What is awaited, for the error message, e.g. "the server to refuse connections". */
  what: string;
  /** Pause between polls (default 20 ms). */
  everyMs?: number;
}

/** Resolves with the first truthy value `cond` returns; rejects after `timeoutMs` (or if `cond` throws). */
export async function until<T>(cond: () => T | undefined | null | false | Promise<T | undefined | null | false>, opts: UntilOptions): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const everyMs = opts.everyMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
