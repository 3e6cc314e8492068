// One shared stop signal for the whole process. The first SIGINT/SIGTERM aborts it gracefully:
// scenarios stop starting new work, finish or cancel what is in flight, and write partial results
// marked "interrupted". A second signal force-exits with status 130.
import { log } from "./log.ts";

export type StopSignalName = "SIGINT" | "SIGTERM";

/** The abort reason carried by stopSignal() once a signal arrived. */
export class StopSignalError extends Error {
  constructor(readonly signal: StopSignalName) {
    super(`interrupted by ${signal}`);
    this.name = "StopSignalError";
  }
}

/** Why a run's stop signal fired: the process signal that stopped it, or "aborted" for any other abort. */
export type StopCause = StopSignalName | "aborted";

/** The stop cause recorded in a phase's result, or null while `signal` has not fired. */
export function stopCauseOf(signal: AbortSignal | undefined): StopCause | null {
  if (!signal?.aborted) return null;
  const r: unknown = signal.reason;
  return r instanceof StopSignalError ? r.signal : "aborted";
}

const controller = new AbortController();
let installed = false;
let received: StopSignalName | null = null;
const handlers = new Set<(signal: StopSignalName) => void>();

/** Exit status used when a second signal forces the process out. */
export const FORCE_EXIT_CODE = 130;

function onSignal(signal: StopSignalName): void {
  if (received !== null) {
    log.error(`received ${signal} again: exiting now without waiting for cleanup`);
    process.exit(FORCE_EXIT_CODE);
  }
  received = signal;
  log.warn(`received ${signal}: stopping gracefully (no new work; writing partial results). Send again to force exit.`);
  controller.abort(new StopSignalError(signal));
  for (const h of handlers) {
    try {
      h(signal);
    } catch (err) {
      log.error(`stop handler failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** Installs the SIGINT/SIGTERM handlers (idempotent; done implicitly by the other functions). */
export function installStopSignalHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
}

/** The process-wide AbortSignal, aborted (reason: StopSignalError) by the first SIGINT/SIGTERM. */
export function stopSignal(): AbortSignal {
  installStopSignalHandlers();
  return controller.signal;
}

/** Calls `handler` once when the first stop signal arrives (at once if one already did). Returns an unsubscribe function. */
export function onStopSignal(handler: (signal: StopSignalName) => void): () => void {
  installStopSignalHandlers();
  if (received !== null) {
    handler(received);
    return () => {};
  }
  handlers.add(handler);
  return () => handlers.delete(handler);
}

/** Which signal stopped the run, or null if none arrived (for "interrupted" in summaries). */
export function receivedStopSignal(): StopSignalName | null {
  return received;
}

/** True once a stop signal arrived. */
export function isStopping(): boolean {
  return received !== null;
}
