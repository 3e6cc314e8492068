// Failures to write results (a full disk, a read-only remount, a refused symlink) once the run has started:
// counted here, reported once on stderr when the first happens and again at the end, never thrown into
// the run: a run that cannot write its results must still clean up everything it created.
import { redact } from "./redact.ts";

export interface WriteFault {
  path: string;
  code: string;
  message: string;
}

let count = 0;
let first: WriteFault | null = null;

function describe(e: unknown): { code: string; message: string } {
  const err = e as NodeJS.ErrnoException;
  return { code: typeof err?.code === "string" ? err.code : (err?.name ?? "Error"), message: err instanceof Error ? err.message : String(e) };
}

/** Counts a failed results write; the first one is reported on stderr at once (not through the logger, whose file may be the one failing). */
export function recordWriteFault(path: string, e: unknown): void {
  count++;
  if (first) return;
  first = { path, ...describe(e) };
  process.stderr.write(redact(`error: results could not be written (${first.code}): ${first.message}; the run goes on and still cleans up; further write failures are counted\n`));
}

/** Runs `fn`; a failure is counted (see recordWriteFault) and `fallback` returned. */
export function tolerateWrite<T>(path: string, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (e) {
    recordWriteFault(path, e);
    return fallback;
  }
}

export function writeFaults(): { count: number; first: WriteFault | null } {
  return { count, first };
}

/** The end-of-run line about failed writes, or null when every write succeeded. */
export function writeFaultsLine(): string | null {
  if (!count) return null;
  return redact(`results could not be written: ${count} write${count === 1 ? "" : "s"} failed (first: ${first!.code} on ${first!.path}); the results folder is incomplete`);
}

/** For tests: forget the faults counted so far. */
export function resetWriteFaults(): void {
  count = 0;
  first = null;
}
