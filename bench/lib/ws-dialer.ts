/**
 * A plain-websocket TrafficDialer for the benchmark: the engine's "app" kind in echo mode, talking to the
 * bench's echo server. Same `ws` client options as the raw-ws floor, so the only difference between the two
 * is the engine.
 */
import { WebSocket } from "ws";
import { benchWsClientOptions } from "./ws-options.ts";
import type { TrafficConnection, TrafficDialer } from "../../src/traffic/transport.ts";

export function benchWsDialer(url: string): TrafficDialer {
  return {
    kind: "app",
    echo: "echo",
    dial: (_target, signal) =>
      new Promise<TrafficConnection>((resolve, reject) => {
        const ws = new WebSocket(url, benchWsClientOptions());
        const onAbort = (): void => ws.terminate();
        signal.addEventListener("abort", onAbort, { once: true });
        ws.once("error", reject);
        ws.once("open", () => {
          signal.removeEventListener("abort", onAbort);
          ws.on("error", () => {}); // reported through "close" with its code
          resolve({
            write: (b) => ws.send(b),
            onData: (cb) => ws.on("message", (d: Buffer) => cb(d)),
            onClose: (cb) => ws.on("close", (code) => cb(code === 1000 || code === 1005 ? undefined : new Error(`websocket closed with code ${code}`))),
            close: () =>
              new Promise<void>((r) => {
                if (ws.readyState === WebSocket.CLOSED) return r();
                ws.once("close", () => r());
                ws.close(1000);
              }),
          });
        });
      }),
  };
}
