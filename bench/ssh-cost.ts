/**
 * What one SSH connection costs our side, next to one workspace-app websocket connection, in the same run:
 * the engine with the SSH kind's ssh2 client over a stdio-like stream (bench/clients/ours-kind.ts --kind ssh)
 * vs the engine with the app kind (--kind app), N connections each, 4 KiB every 100 ms, each against its own
 * echo far end. The `coder ssh --stdio` process a real run also starts per connection is left out (it is the
 * CLI's cost, not ours; see bench/README.md). The client is pinned to one CPU and both far ends to the
 * others (taskset, as in `npm run bench`).
 *
 *   node --import tsx bench/ssh-cost.ts [--conns 200] [--duration 10] [--ramp 1] [--pin 0:1|none] [--out bench/results]
 */
import { fork, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EchoServer } from "./lib/echo.ts";
import { onToolCpus, pinProcess, planPinning } from "./lib/pin.ts";
import { machineInfo } from "./lib/report.ts";
import { argOf, REPORT_PREFIX, workloadArgs, type ClientReport, type Workload } from "./lib/workload.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);
const conns = Number(argOf(argv, "conns", "200"));
const durationMs = Math.round(Number(argOf(argv, "duration", "10")) * 1000);
const rampMs = Math.round(Number(argOf(argv, "ramp", "1")) * 1000);
if (!Number.isInteger(conns) || conns < 1) throw new Error("--conns: a whole number of connections >= 1");
if (!(durationMs >= 4000)) throw new Error("--duration: at least 4 seconds");
const outDir = resolve(argOf(argv, "out", join(ROOT, "bench", "results")));
const pin = planPinning(argOf(argv, "pin", "") || undefined);
if (pin.harness) pinProcess(process.pid, pin.harness);

const w: Workload = { conns, bytesPerTick: 4096, intervalMs: 100, durationMs, rampMs };
const target = (conns * w.bytesPerTick * 1000) / w.intervalMs;

interface KindReport extends ClientReport {
  kind: string;
  window?: { cpuMs: number; seconds: number; bytes: number; rssMidMB: number };
  rssKBPerConn: number | null;
}

function runClient(args: string[]): Promise<KindReport> {
  const nodeArgs = ["--import", "tsx", join(ROOT, "bench", "clients", "ours-kind.ts"), ...args, ...workloadArgs(w)];
  const c = onToolCpus(pin, process.execPath, nodeArgs);
  return new Promise((resolveP, reject) => {
    const child = spawn(c.cmd, c.args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const kill = setTimeout(() => child.kill("SIGKILL"), durationMs + 120_000);
    child.on("exit", (code) => {
      clearTimeout(kill);
      const line = out.split("\n").find((l) => l.startsWith(REPORT_PREFIX));
      if (line) resolveP(JSON.parse(line.slice(REPORT_PREFIX.length)) as KindReport);
      else reject(new Error(`ours-kind ${args.join(" ")} exited with ${code} and no report: ${err.trim()}`));
    });
  });
}

async function startSshEcho(): Promise<{ port: number; close: () => void; pid: number }> {
  const child = fork(join(ROOT, "bench", "ssh-echo-server.ts"), [], { cwd: ROOT, execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  if (pin.farEnd) pinProcess(child.pid!, pin.farEnd);
  const port = await new Promise<number>((res, rej) => {
    child.once("message", (m) => res((m as { port: number }).port));
    child.once("exit", (code) => rej(new Error(`ssh echo server exited with ${code}`)));
  });
  return { port, pid: child.pid!, close: () => child.send({ cmd: "exit" }) };
}

const machine = machineInfo();
console.log(
  `ssh cost: ${conns} connections x 4096 B / 100 ms, ${durationMs / 1000} s; ` +
    (pin.unpinned ? `unpinned (${pin.unpinned})` : `client on CPU ${pin.tool}, far ends on ${pin.farEnd}`) +
    `; load average ${machine.loadavg1mAtStart}`,
);
const echo = await EchoServer.start(pin.farEnd);
const sshd = await startSshEcho();
const rows: Array<Record<string, unknown>> = [];
try {
  for (const kind of ["app", "ssh"] as const) {
    const load0 = loadavg()[0]!;
    const r = await runClient(kind === "app" ? ["--kind", "app", "--url", echo.url] : ["--kind", "ssh", "--port", String(sshd.port)]);
    const win = r.window;
    const row = {
      kind,
      conns,
      cpuMsPerConnMin: win ? Math.round((win.cpuMs / ((conns * win.seconds) / 60)) * 100) / 100 : null,
      cpuMsPerMiB: win && win.bytes > 0 ? Math.round((win.cpuMs / (win.bytes / 2 ** 20)) * 100) / 100 : null,
      throughputRatio: win ? Math.round((win.bytes / win.seconds / target) * 1000) / 1000 : null,
      windowS: win?.seconds ?? 0,
      lagP50Ms: r.lag.p50,
      lagP99Ms: r.lag.p99,
      lagMaxMs: r.lag.max,
      rssKBPerConn: r.rssKBPerConn,
      errors: r.errors,
      errorSamples: r.errorSamples,
      loadavg1m: [Math.round(load0 * 100) / 100, Math.round(loadavg()[0]! * 100) / 100],
    };
    rows.push(row);
    console.log(
      `  ${kind.padEnd(4)} cpu ${row.cpuMsPerConnMin ?? "-"} ms/conn-min, ${row.cpuMsPerMiB ?? "-"} ms/MiB  thru ${row.throughputRatio !== null ? (row.throughputRatio * 100).toFixed(1) : "-"} %` +
        `  lag p50 ${row.lagP50Ms} p99 ${row.lagP99Ms} max ${row.lagMaxMs} ms  rss ${row.rssKBPerConn ?? "-"} KB/conn  errors ${row.errors}` +
        `  load ${row.loadavg1m.join("-")}${r.errors ? `\n      e.g. ${r.errorSamples.slice(0, 2).join(" | ")}` : ""}`,
    );
  }
} finally {
  sshd.close();
  await echo.close();
}
const app = rows[0]!;
const ssh = rows[1]!;
const ratio = (a: unknown, b: unknown): number | null =>
  typeof a === "number" && typeof b === "number" && b > 0 ? Math.round((a / b) * 100) / 100 : null;
const sshOverApp = { cpu: ratio(ssh.cpuMsPerConnMin, app.cpuMsPerConnMin), cpuPerMiB: ratio(ssh.cpuMsPerMiB, app.cpuMsPerMiB), rss: ratio(ssh.rssKBPerConn, app.rssKBPerConn) };
console.log(`ssh / app: CPU per conn-min ${sshOverApp.cpu ?? "-"}, CPU per MiB ${sshOverApp.cpuPerMiB ?? "-"}, RSS per conn ${sshOverApp.rss ?? "-"}`);
const doc = { kind: "ssh-cost-bench", createdAt: new Date().toISOString(), machine, pinning: pin, workload: w, rows, sshOverApp };
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `ssh-cost-${doc.createdAt.replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
console.log(`wrote ${file}`);
