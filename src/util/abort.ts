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
