/**
 * Web-terminal traffic: the agent's reconnecting-PTY websocket through coderd, opened the way Coder's
 * `coder exp scaletest workspace-traffic` does (scaletest/workspacetraffic, codersdk AgentReconnectingPTY):
 *  - GET /api/v2/workspaceagents/<agent>/pty?command=<dd ...>&height=25&reconnect=<new uuid>&width=80,
 *    session token as the `coder_session_token` cookie (and header), via CoderClient.openReconnectingPty;
 *  - command `dd if=/dev/stdin of=/dev/null bs=<bytesPerTick> status=none`: Coder's tool runs the web
 *    terminal without echo (Echo = --ssh), so dd swallows the input and what comes back is the terminal's own
 *    echo of the typed line, "\n" turned into "\r\n" — one newline per tick, which the engine counts;
 *  - input as binary frames of `{"data":"<at most 1,024 bytes>"}\n` (Coder's rptyJSONMaxDataSize);
 *  - close: Ctrl+C ("\u0003") as a data frame, then wait for the agent to close the socket.
 * Each (re)dial uses a fresh reconnect id, as Coder's tool does: resuming an old session would replay its
 * scrollback and break the byte accounting.
 *
 * `--workspace-proxy-url`: the same PTY path on the proxy's URL instead of the deployment's, as Coder's runner
 * dials the PTY with its web client (scaletest/workspacetraffic run.go: connectRPTY(ctx, r.webClient, ...),
 * the client made on the proxy URL with the same session token); a workspace proxy serves the agents' PTY.
 */
import { randomUUID } from "node:crypto";
import type { CoderClient } from "../../coder/index.ts";
import { buildPtyUrl, encodePtyInput, PTY_MAX_DATA_SIZE } from "../../coder/index.ts";
import type { TrafficDialer } from "../transport.ts";
import { wsConnection } from "./ws-conn.ts";

export const PTY_WIDTH = 80;
export const PTY_HEIGHT = 25;

/** Coder's remote command: echo=true writes to /dev/stdout, otherwise /dev/null. */
export function ddCommand(bytesPerTick: number, echo: boolean): string {
  return `dd if=/dev/stdin of=${echo ? "/dev/stdout" : "/dev/null"} bs=${bytesPerTick} status=none`;
}

/**
 * PTY input frames for one chunk. Payload buffers come from a fixed pool that is reused every tick
 * (src/traffic/payload.ts), so frames are memoised per buffer identity (a WeakMap: nothing is kept alive).
 */
const frameCache = new WeakMap<Buffer, Buffer[]>();
export function ptyFrames(chunk: Buffer, maxData = PTY_MAX_DATA_SIZE): Buffer[] {
  let frames = frameCache.get(chunk);
  if (!frames) {
    // Payload bytes are ASCII; latin1 keeps one char per byte so the 1,024 limit is in bytes too.
    frames = encodePtyInput(chunk.toString("latin1"), maxData).map((s) => Buffer.from(s, "utf8"));
    frameCache.set(chunk, frames);
  }
  return frames;
}

export const PTY_CTRL_C_FRAME: Buffer = Buffer.from(`${JSON.stringify({ data: "\u0003" })}\n`, "utf8");

export interface PtyDialerOptions {
  bytesPerTick: number;
  /** Websocket handshake timeout per dial (default 30 s; the engine's dial timeout also applies). */
  handshakeTimeoutMs?: number;
  /** How long close() waits for the agent to end the session after Ctrl+C (default 5 s). */
  closeWaitMs?: number;
  /** --workspace-proxy-url (already checked as a destination for the token): dial the PTY through it. */
  proxyUrl?: URL;
}

export function ptyDialer(client: CoderClient, opts: PtyDialerOptions): TrafficDialer {
  const command = ddCommand(opts.bytesPerTick, false);
  return {
    kind: "web-terminal",
    echo: "echo",
    echoNewlinesPerTick: 1,
    async dial(target, signal) {
      const query = { reconnect: randomUUID(), width: PTY_WIDTH, height: PTY_HEIGHT, command };
      const handshake = opts.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: opts.handshakeTimeoutMs } : {};
      const ws = opts.proxyUrl
        ? await client.openWebSocket(buildPtyUrl(opts.proxyUrl, target.agentId, query), { signal, zeroMask: true, ...handshake })
        : await client.openReconnectingPty(target.agentId, { ...query, signal, zeroMask: true, ...handshake });
      return wsConnection(ws, {
        encode: (chunk) => ptyFrames(chunk),
        goodbye: PTY_CTRL_C_FRAME,
        ...(opts.closeWaitMs !== undefined ? { closeWaitMs: opts.closeWaitMs } : {}),
      });
    },
  };
}
