#!/usr/bin/env -S npx tsx
// Benchmark: what one API request costs the client's CPU when it follows an idle gap. The same request
// (GET /api/v2/users/me, one at a time, against the simulator in a child process) is sent back to back and
// after sleeping 1, 5, 25 and 100 ms, through the product's CoderClient and, for comparison, Node's own http
// client (keep-alive, one socket). It explains create-workspaces' cost at low
// concurrency, where the runner spends most of a phase waiting between requests (bench/README.md).
//   node --import tsx bench/request-gap.ts [--gaps 0,1,5,25,100] [--requests 400] [--out DIR]
import { existsSync, mkdirSync, openSync, readSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command } from "commander";
import { CoderClient } from "../src/coder/index.ts";
import { startSimChild } from "./lib/sim-child.ts";

const o = new Command()
  .option("--gaps <list>", "idle gaps before each request, ms", "0,1,5,25,100")
  .option("--requests <n>", "requests per gap and client (gaps of 25 ms and more send a quarter)", (v) => Number(v), 400)
  .option("--out <dir>", "write request-gap.json here")
  .parse()
  .opts<{ gaps: string; requests: number; out?: string }>();
const gaps = o.gaps.split(",").map(Number);
if (gaps.some((g) => !Number.isFinite(g) || g < 0) || !(o.requests >= 1)) {
  console.error("--gaps takes non-negative milliseconds (e.g. 0,1,5,25,100) and --requests a positive count");
  process.exit(2);
}

// Nanoseconds the main thread has run (Linux; null where /proc has no such file), from a file kept open.
const SCHEDSTAT = "/proc/thread-self/schedstat";
const schedFd = existsSync(SCHEDSTAT) ? openSync(SCHEDSTAT, "r") : null;
const schedBuf = Buffer.alloc(128);
const mainThreadNs =
  schedFd === null
    ? null
    : (): number => {
        const n = readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
        return Number(schedBuf.toString("latin1", 0, n).split(" ")[0]);
      };

const { proc: sim, env } = await startSimChild(["--daemons", "1", "--no-preexisting"]);
const product = new CoderClient({ url: env.CODER_URL, token: env.CODER_SESSION_TOKEN, concurrency: 1 });
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const meUrl = new URL("/api/v2/users/me", env.CODER_URL);
function nodeHttpGet(): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(meUrl, { agent, headers: { "Coder-Session-Token": env.CODER_SESSION_TOKEN } }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`GET /api/v2/users/me: ${res.statusCode}`));
          else resolve(void JSON.parse(Buffer.concat(parts).toString()));
        });
        res.on("error", reject);
      })
      .on("error", reject);
  });
}
const clients = { product: async (): Promise<void> => void (await product.me()), "node-http": nodeHttpGet };
type ClientName = keyof typeof clients;

interface GapFigure {
  gapMs: number;
  requests: number;
  /**
   * µs of CPU per request, over the whole loop (so a request's trailing work and the wake-up from its gap's
   * sleep are counted, as a polling client pays them): the main thread's (null off Linux) and the process's.
   */
  mainThreadUs: Record<ClientName, number | null>;
  processUs: Record<ClientName, number>;
}

// Warm both paths up (module code compiled and optimized, sockets open) before anything is measured.
for (let i = 0; i < 2000; i++) {
  await clients.product();
  await clients["node-http"]();
}

const figures: GapFigure[] = [];
console.log(`request CPU after an idle gap (GET /api/v2/users/me, one at a time, simulator in a child process):`);
console.log(`  gap ms  requests   product: main / process µs   node http: main / process µs`);
console.log(`  (per request and its gap: the sleep's wake-up and the request's own work; main = the main thread, process = all threads)`);
for (const gapMs of gaps) {
  const n = gapMs >= 25 ? Math.max(1, Math.round(o.requests / 4)) : o.requests;
  const fig: GapFigure = { gapMs, requests: n, mainThreadUs: { product: null, "node-http": null }, processUs: { product: 0, "node-http": 0 } };
  for (const name of Object.keys(clients) as ClientName[]) {
    const c0 = process.cpuUsage();
    const m0 = mainThreadNs?.() ?? 0;
    for (let i = 0; i < n; i++) {
      if (gapMs) await sleep(gapMs);
      await clients[name]();
    }
    const m1 = mainThreadNs?.() ?? 0;
    const c = process.cpuUsage(c0);
    fig.mainThreadUs[name] = mainThreadNs ? Math.round((m1 - m0) / n / 1000) : null;
    fig.processUs[name] = Math.round((c.user + c.system) / n);
  }
  figures.push(fig);
  const cell = (name: ClientName): string => `${fig.mainThreadUs[name] ?? "-"} / ${fig.processUs[name]}`.padStart(13);
  console.log(`  ${String(gapMs).padStart(6)}  ${String(n).padStart(8)}   ${cell("product")}                ${cell("node-http")}`);
}

await product.close();
agent.destroy();
sim.kill("SIGTERM");
await sim;
if (o.out) {
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, "request-gap.json");
  writeFileSync(file, JSON.stringify({ kind: "request-gap", createdAt: new Date().toISOString(), request: "GET /api/v2/users/me", figures }, null, 2) + "\n");
  console.log(`wrote ${file}`);
}
