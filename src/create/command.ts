// --run-command: runs a command in a ready workspace over the agent's reconnecting PTY (the web
// terminal), as `coder exp scaletest create-workspaces --run-command` does, and measures it.
import type { CoderClient } from "../coder/client.ts";
import type { CommandOutcome } from "./types.ts";

/**
 * Opens the PTY with `command`, counts output bytes until the agent closes the session (the command
 * exited). Rejects when it takes longer than `timeoutMs` or `signal` aborts.
 */
export async function runPtyCommand(
  client: CoderClient,
  agentId: string,
  command: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CommandOutcome> {
  const t0 = performance.now();
  const timer = AbortSignal.timeout(timeoutMs);
  const all = signal ? AbortSignal.any([signal, timer]) : timer;
  let bytes = 0;
  let firstByte: number | null = null;
  // Counted from the handshake on: a short command's output can arrive with the 101 answer itself.
  const onMessage = (data: Buffer | ArrayBuffer | Buffer[]): void => {
    const n = Array.isArray(data) ? data.reduce((s, b) => s + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
    if (n > 0 && firstByte === null) firstByte = performance.now() - t0;
    bytes += n;
  };
  const ws = await client.openReconnectingPty(agentId, { command, signal: all, handshakeTimeoutMs: timeoutMs, onMessage });
  return new Promise<CommandOutcome>((resolve, reject) => {
    const onAbort = (): void => {
      ws.terminate();
      reject(
        new Error(
          timer.aborted
            ? `command did not finish within ${timeoutMs} ms (${bytes} bytes of output so far)`
            : `command interrupted after ${Math.round(performance.now() - t0)} ms`,
        ),
      );
    };
    if (all.aborted) return onAbort();
    all.addEventListener("abort", onAbort, { once: true });
    ws.once("error", (err) => {
      all.removeEventListener("abort", onAbort);
      reject(new Error(`web terminal failed: ${err.message}`));
    });
    ws.once("close", () => {
      all.removeEventListener("abort", onAbort);
      resolve({ first_byte_ms: firstByte, latency_ms: performance.now() - t0, output_bytes: bytes });
    });
  });
}
