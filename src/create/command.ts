// --run-command: runs a command in a ready workspace over the agent's reconnecting PTY (the web
// terminal), as `coder exp scaletest create-workspaces --run-command` does, and measures it.
import type { CoderClient } from "../coder/client.ts";
import type { CommandOutcome } from "./types.ts";
import { timerDelay, withTimeout } from "../util/abort.ts";

/** How much output is kept for --run-log-output and searched for --run-expect-output. */
export const KEPT_OUTPUT_BYTES = 4096;

export interface CommandExpectation {
  /** Text the output must contain ("" = none). */
  output?: string;
  /** Limit for it to appear (ms; undefined = the command's own limit). */
  timeoutMs?: number;
  /**
   * Coder's --run-expect-timeout: the command is expected to still run when `timeoutMs` (the command's limit)
   * ends it; that is then success, and exiting before it a failure.
   */
  expectTimeout?: boolean;
  /** Keep the output in the outcome. */
  keepOutput?: boolean;
}

/**
 * Opens the PTY with `command`, counts output bytes until the agent closes the session (the command
 * exited). Rejects when it takes longer than `timeoutMs` or `signal` aborts, and (with an expectation, as
 * Coder's --run-expect-output) when the command ends, or the expect timeout passes, without the text.
 */
export async function runPtyCommand(
  client: CoderClient,
  agentId: string,
  command: string,
  timeoutMs: number,
  signal?: AbortSignal,
  expect: CommandExpectation = {},
): Promise<CommandOutcome> {
  const t0 = performance.now();
  // No time left still means a timeout (at once), not "no timeout"; a computed budget (fractional, spent)
  // is made a delay the timers accept.
  const budgetMs = Math.max(1, timerDelay(timeoutMs));
  const { signal: all, timer } = withTimeout(signal, budgetMs);
  const wanted = expect.output ?? "";
  let bytes = 0;
  let firstByte: number | null = null;
  let expectedAt: number | null = null;
  // The output is searched as it arrives (the text may span frames); only the first 4 KiB is kept, plus a
  // tail as long as the expected text so a match across the cut is still found.
  let kept = "";
  let tail = "";
  const onMessage = (data: Buffer | ArrayBuffer | Buffer[]): void => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
    const n = buf.length;
    if (n > 0 && firstByte === null) firstByte = performance.now() - t0;
    bytes += n;
    if (!wanted && !expect.keepOutput) return;
    const text = buf.toString("utf8");
    if (kept.length < KEPT_OUTPUT_BYTES) kept += text.slice(0, KEPT_OUTPUT_BYTES - kept.length);
    if (wanted && expectedAt === null) {
      const window = tail + text;
      if (window.includes(wanted)) expectedAt = performance.now() - t0;
      tail = window.slice(-wanted.length);
    }
  };
  // Counted from the handshake on: a short command's output can arrive with the 101 answer itself.
  const ws = await client.openReconnectingPty(agentId, { command, signal: all, handshakeTimeoutMs: budgetMs, onMessage });
  return new Promise<CommandOutcome>((resolve, reject) => {
    const expectTimer =
      wanted && expect.timeoutMs
        ? setTimeout(() => {
            if (expectedAt !== null) return;
            finish(new Error(`--run-expect-output ${JSON.stringify(wanted)} not seen within ${expect.timeoutMs} ms (${bytes} bytes of output)`));
          }, expect.timeoutMs)
        : undefined;
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      if (expectTimer) clearTimeout(expectTimer);
      all.removeEventListener("abort", onAbort);
      if (err) {
        ws.terminate();
        return reject(err);
      }
      resolve({
        first_byte_ms: firstByte,
        latency_ms: performance.now() - t0,
        output_bytes: bytes,
        expected_ms: expectedAt,
        output: expect.keepOutput ? kept : null,
      });
    };
    const missing = (): Error | null =>
      wanted && expectedAt === null ? new Error(`--run-expect-output ${JSON.stringify(wanted)} not in the command's output (${bytes} bytes)`) : null;
    const onAbort = (): void => {
      // The expected end: the limit cut a command that still ran (its output must still hold the text).
      if (timer?.aborted && expect.expectTimeout) {
        finish(missing());
        ws.terminate();
        return;
      }
      finish(
        new Error(
          timer?.aborted
            ? `command did not finish within ${timeoutMs} ms (${bytes} bytes of output so far)`
            : `command interrupted after ${Math.round(performance.now() - t0)} ms`,
        ),
      );
    };
    if (all.aborted) return onAbort();
    all.addEventListener("abort", onAbort, { once: true });
    ws.once("error", (err) => finish(new Error(`web terminal failed: ${err.message}`)));
    ws.once("close", () =>
      finish(
        expect.expectTimeout
          ? new Error(`command exited after ${Math.round(performance.now() - t0)} ms, but --run-expect-timeout expects it to still run when --run-timeout (${timeoutMs} ms) ends it`)
          : missing(),
      ),
    );
  });
}
