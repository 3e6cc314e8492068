// Composing abort signals: a stop signal plus a timeout, the way every phase, unit and call bounds its work;
// and the one guard for computed delays handed to Node's timers.

/** The longest delay Node's timers keep (2^31-1 ms, about 24.8 days): a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A computed delay (a remaining budget, a deadline minus now) as Node's timers accept it: a whole number of
 * ms from 0 to MAX_TIMER_MS. Fractions round up (a deadline is never cut short), negatives and NaN become 0,
 * and anything longer (Infinity) is held at the maximum instead of firing at once. AbortSignal.timeout
 * throws a RangeError on a fraction or a negative; setTimeout fires a too-long delay after 1 ms.
 */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(MAX_TIMER_MS, Math.ceil(ms));
}

/** AbortSignal.timeout for a computed delay (see timerDelay). */
export function timeoutSignal(ms: number): AbortSignal {
  return AbortSignal.timeout(timerDelay(ms));
}

/** The given signals combined (absent ones skipped): undefined for none, the signal itself for one. */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}

/**
 * `signal` bounded by a timeout of `timeoutMs` (0 = none). `timer` is the timeout's own signal (undefined
 * without one), so callers can tell a timeout from a stop. `signal` is always defined: one that never aborts
 * when there is neither.
 */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): { signal: AbortSignal; timer: AbortSignal | undefined } {
  const timer = timeoutMs > 0 ? timeoutSignal(timeoutMs) : undefined;
  return { signal: anySignal(signal, timer) ?? new AbortController().signal, timer };
}

/**
 * `work`, or a rejection with the stop signal's reason as soon as it fires (for read-only checks before
 * anything is created, where nothing needs to finish: a call still waiting on a silent server is dropped).
 */
export function untilStopped<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onStop = (): void => reject(signal.reason);
    signal.addEventListener("abort", onStop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onStop));
  });
}
