// Composing abort signals: a stop signal plus a timeout, the way every phase, unit and call bounds its work.

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
  const timer = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
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
