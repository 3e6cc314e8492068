// The one abortable sleep. Waiting loops (polls, retries, pauses between page views, baseline waits) end as
// soon as the run is stopped instead of sleeping on.
import { timerDelay } from "./abort.ts";

/** Waits `ms`; resolves true when the time passed, false as soon as `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    if (ms <= 0) return resolve(true);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, timerDelay(ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Like sleep, but rejects with the signal's reason when it aborts (for loops that must stop by throwing). */
export async function sleepOrThrow(ms: number, signal?: AbortSignal): Promise<void> {
  if (!(await sleep(ms, signal))) throw signal?.reason;
}
