/**
 * The benchmark's far end: a loopback websocket echo server in its own process (so its CPU is not charged to
 * the tool under test), and the single place where throughput is measured, identically for every tool.
 *
 * Run by bench/lib/echo.ts with fork() (IPC). Messages from the parent:
 *   { cmd: "reset", expect: N }  start a measurement: zero counters, expect N connections
 *   { cmd: "report" }            -> EchoReport for everything since the reset
 *   { cmd: "exit" }
 * It echoes every message back unchanged (binary stays binary, text stays text), counts bytes received in
 * 100 ms buckets, and records when connections open and close. The echo works on frames (bench/lib/frame-echo.ts:
 * one write per read), so the far end costs less than any tool it measures and its queue is not their lag.
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { acceptUpgrade, frameEcho } from "./lib/frame-echo.ts";
import { BUCKET_MS, type EchoReport } from "./lib/workload.ts";

interface Msg {
  cmd: "reset" | "report" | "exit";
  expect?: number;
}

function main(): void {
  const server = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("websocket only\n");
  });
  let startedAt = Date.now();
  let expect = 0;
  let bytesIn = 0;
  let messagesIn = 0;
  let buckets: number[] = [];
  let opens: number[] = [];
  let closes: number[] = [];
  let abnormal = 0;
  let open = 0;
  let maxOpen = 0;
  let cpu0 = process.cpuUsage();
  const sockets = new Set<Socket>();
  server.on("upgrade", (req, socket: Socket, head: Buffer) => {
    const answer = acceptUpgrade(req);
    if (!answer) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      return;
    }
    socket.write(answer);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    open++;
    if (open > maxOpen) maxOpen = open;
    opens.push(Date.now());
    const epoch = startedAt;
    frameEcho(socket, head, {
      onData(len, frames) {
        if (epoch !== startedAt) return;
        bytesIn += len;
        messagesIn += frames;
        const b = Math.floor((Date.now() - startedAt) / BUCKET_MS);
        while (buckets.length <= b) buckets.push(0);
        buckets[b]! += len;
      },
      onClose(code) {
        open--;
        if (epoch !== startedAt) return;
        closes.push(Date.now());
        if (code !== 1000 && code !== 1001 && code !== 1005) abnormal++;
      },
    });
  });

  server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as AddressInfo).port }));

  process.on("message", (m: Msg) => {
    if (m.cmd === "reset") {
      startedAt = Date.now();
      expect = m.expect ?? 0;
      bytesIn = 0;
      messagesIn = 0;
      buckets = [];
      opens = [];
      closes = [];
      abnormal = 0;
      maxOpen = open;
      cpu0 = process.cpuUsage();
      process.send!({ ok: true });
    } else if (m.cmd === "report") {
      const u = process.cpuUsage(cpu0);
      const r: EchoReport = {
        startedAt,
        expect,
        bytesIn,
        messagesIn,
        bucketsIn: buckets,
        opens,
        closes,
        abnormalCloses: abnormal,
        maxOpen,
        cpuMs: (u.user + u.system) / 1000,
      };
      process.send!(r);
    } else if (m.cmd === "exit") {
      for (const s of sockets) s.destroy();
      server.close();
      process.exit(0);
    }
  });
  process.on("disconnect", () => process.exit(0));
}

main();
