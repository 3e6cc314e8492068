import { setMaxListeners } from "node:events";

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
 * withTimeout for work done many times over (a phase's units, cleanup's items): `signal` aborts when `stop` does
 * or after `timeoutMs` (0 = no timeout), `timer` (undefined without a timeout) by the timeout alone, with the
 * same reason AbortSignal.timeout gives. `dispose()` (call it in a finally) clears the timer and the listener on
 * `stop`: a phase of thousands of units leaves no timer per unit running for the whole timeout
 * (AbortSignal.timeout's cannot be cleared) and no listener on the phase's signal.
 */
export function boundedSignal(
  stop: AbortSignal | undefined,
  timeoutMs: number,
): { signal: AbortSignal; timer: AbortSignal | undefined; dispose(): void } {
  const ac = new AbortController();
  const timeout = timeoutMs > 0 ? new AbortController() : undefined;
  const onStop = (): void => ac.abort(stop!.reason);
  if (stop?.aborted) ac.abort(stop.reason);
  else if (stop) {
    // Every unit in flight listens to the phase's one signal (each listener goes again in dispose()), so Node's
    // "possible leak" warning at 11 listeners would only be noise.
    setMaxListeners(0, stop);
    stop.addEventListener("abort", onStop, { once: true });
  }
  const t = timeout
    ? setTimeout(() => {
        const reason = new DOMException(`The operation was aborted due to timeout`, "TimeoutError");
        timeout.abort(reason);
        ac.abort(reason);
      }, timerDelay(timeoutMs))
    : undefined;
  t?.unref();
  return {
    signal: ac.signal,
    timer: timeout?.signal,
    dispose() {
      if (t) clearTimeout(t);
      stop?.removeEventListener("abort", onStop);
    },
  };
}

/**
 * The abort signal of one HTTP attempt (see attemptSignal): the part of AbortSignal that undici and the client
 * use — `aborted`, `reason`, abort listeners — without an EventTarget. A real AbortController and its signal
 * cost more than the rest of a small request's bookkeeping (an EventTarget built per request, then undici's
 * listener added to and removed from it), and nothing else ever listens to an attempt's signal.
 */
export class AttemptAbortSignal {
  aborted = false;
  reason: unknown = undefined;
  #listeners: ((this: AttemptAbortSignal, ev: { type: "abort" }) => void)[] = [];

  addEventListener(type: string, listener: (this: AttemptAbortSignal, ev: { type: "abort" }) => void, _options?: unknown): void {
    if (type !== "abort") return;
    if (this.aborted) return;
    if (!this.#listeners.includes(listener)) this.#listeners.push(listener);
  }

  removeEventListener(type: string, listener: (this: AttemptAbortSignal, ev: { type: "abort" }) => void): void {
    if (type !== "abort") return;
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  /** Aborts once with `reason` and calls each listener once (they are dropped, as with `{ once: true }`). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const ls = this.#listeners;
    this.#listeners = [];
    for (const l of ls) l.call(this, { type: "abort" });
  }
}

/**
 * A signal for one bounded attempt: it aborts when any of `signals` does or after `timeoutMs` (0 = no
 * timeout), and `dispose()` (call it in a finally) clears the timer and the listeners. For hot paths such as
 * every HTTP request: AbortSignal.timeout's timer cannot be cleared, so each finished request would leave one
 * that fires later anyway (a DOMException with a stack trace per request), and AbortSignal.any is the most
 * expensive way to combine two signals. The signal is an AttemptAbortSignal, which undici accepts as a
 * request's `signal`.
 */
export function attemptSignal(signals: readonly AbortSignal[], timeoutMs: number): AttemptBound {
  return new AttemptBound(signals, timeoutMs);
}

/**
 * The attempts in flight under each caller signal, and the one abort listener per signal that reaches them all:
 * adding and removing a listener on an AbortSignal (an EventTarget) for every request cost more than the
 * request's own bookkeeping, while a set's add and delete are cheap. Keyed weakly: a finished unit's signal
 * goes with its set.
 */
const inFlight = new WeakMap<AbortSignal, Set<AttemptBound>>();

function attemptsUnder(s: AbortSignal): Set<AttemptBound> {
  let set = inFlight.get(s);
  if (!set) {
    const attempts = new Set<AttemptBound>();
    set = attempts;
    inFlight.set(s, attempts);
    s.addEventListener("abort", () => {
      for (const a of attempts) a.signal.abort(s.reason);
      attempts.clear();
    }, { once: true });
  }
  return set;
}

/** One attempt's bound (see attemptSignal): a class rather than closures made per request (tsx wraps each
 * function bound to a name in a defineProperty call every time one is created). */
export class AttemptBound {
  readonly signal = new AttemptAbortSignal();
  #timedOut = false;
  readonly #under: Set<AttemptBound>[] = [];
  readonly #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(signals: readonly AbortSignal[], timeoutMs: number) {
    for (const s of signals) {
      if (s.aborted) this.signal.abort(s.reason);
      else {
        const set = attemptsUnder(s);
        set.add(this);
        this.#under.push(set);
      }
    }
    this.#timer =
      timeoutMs > 0
        ? setTimeout(() => {
            this.#timedOut = true;
            this.signal.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError"));
          }, timerDelay(timeoutMs))
        : undefined;
    this.#timer?.unref();
  }

  timedOut(): boolean {
    return this.#timedOut;
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    for (const set of this.#under) set.delete(this);
  }
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
