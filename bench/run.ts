/**
 * `npm run bench`: our traffic engine side by side with Artillery's websocket engine and a raw-`ws` floor,
 * on one machine, in one run, over loopback only. See bench/README.md for what is measured and the figures.
 *
 *   npm run bench -- [--steps 500,1000,2000,4000] [--duration 10] [--ramp 1]
 *                    [--tools ours,raw-ws,artillery] [--first-fail] [--stop-below 0.9] [--pin 0:1|none] [--profile]
 *                    [--no-ssh] [--ssh-conns 500] [--no-create-workspaces] [--cw-count 1000] [--no-request-gap]
 *                    [--out bench/results]
 *
 * For each N (ascending) each tool still in the race runs once in its own process against the echo server
 * (its own process too), the tool pinned to one CPU and the echo server and this harness to the others
 * (taskset, bench/lib/pin.ts). Every tool runs every step (--stop-below R: a tool stops after a step where
 * it moved less than R of the target; --first-fail: after the first N it does not hold). The table is printed and the whole run is written
 * as JSON to <out>/traffic-<timestamp>.json (and <out>/latest.json). Then our SSH per-connection cost next
 * to the app path (bench/ssh-cost.ts), the create-workspaces client cost and the CPU of one API request after
 * idle gaps (bench/request-gap.ts). A short run: --steps 500 --duration 5 --no-create-workspaces --no-request-gap.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureArtillery } from "./install.ts";
import { EchoServer } from "./lib/echo.ts";
import { affinityOf, pinProcess, planPinning } from "./lib/pin.ts";
import { formatTopSelfTime, topSelfTime } from "./lib/profile.ts";
import {
  formatTable,
  largestHeld,
  machineInfo,
  oursOverPeers,
  ratiosToOurs,
  type BenchDocument,
  type ToolInfo,
} from "./lib/report.ts";
import { runStep } from "./lib/step.ts";
import {
  ALL_TOOLS,
  HOLD_P99_MS,
  HOLD_THROUGHPUT,
  argOf,
  type StepResult,
  type ToolName,
  type Workload,
} from "./lib/workload.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);
const has = (f: string): boolean => argv.includes(`--${f}`);

const steps = argOf(argv, "steps", "500,1000,2000,4000")
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
const durationMs = Math.round(Number(argOf(argv, "duration", "10")) * 1000);
const rampMs = Math.round(Number(argOf(argv, "ramp", "1")) * 1000);
if (!(durationMs >= 3000)) throw new Error("--duration: give the seconds each step holds its connections, at least 3");
if (!(rampMs >= 0 && rampMs < durationMs - 2000)) throw new Error("--ramp: seconds >= 0 and at least 2 s shorter than --duration");
const stopBelow = Number(argOf(argv, "stop-below", "0"));
const outDir = resolve(argOf(argv, "out", join(ROOT, "bench", "results")));
const workDir = join(outDir, "work");
const wantTools = argOf(argv, "tools", ALL_TOOLS.join(","))
  .split(",")
  .map((t) => t.trim()) as ToolName[];
for (const t of wantTools) {
  if (!ALL_TOOLS.includes(t)) throw new Error(`--tools: unknown tool "${t}" (known: ${ALL_TOOLS.join(", ")})`);
}
if (steps.length === 0) throw new Error("--steps: give a comma-separated list of connection counts, e.g. 250,500");

const tools: Partial<Record<ToolName, ToolInfo>> = {};
for (const t of wantTools) tools[t] = { available: true };
if (tools.artillery) {
  // Artillery has its own install in bench/artillery/ (not a project dependency): npm ci there on first use.
  const a = ensureArtillery();
  if (a.ok) tools.artillery.version = a.version;
  else tools.artillery = { available: false, note: a.reason };
}
const racing = wantTools.filter((t) => tools[t]?.available);

const profileDir = join(workDir, "profiles");
if (has("profile")) rmSync(profileDir, { recursive: true, force: true });
// --profile: every Node tool (ours and the floor) writes a V8 CPU profile per step, profiles/<tool>-<N>/.
// --node-flags "...": extra flags for both Node tools (e.g. --trace-gc, --max-semi-space-size=N).
const extraFlags = argOf(argv, "node-flags", "").split(" ").filter(Boolean);
const nodeFlags =
  has("profile") || extraFlags.length
    ? (tool: string, n: number): string[] => [
        ...extraFlags,
        ...(has("profile") ? ["--cpu-prof", `--cpu-prof-dir=${join(profileDir, `${tool}-${n}`)}`] : []),
      ]
    : undefined;

// The tool under test gets its own CPU; the echo server and this harness (its /proc sampling) the others.
const pin = planPinning(argOf(argv, "pin", "") || undefined);
if (pin.harness) pinProcess(process.pid, pin.harness);

const machine = machineInfo();
console.log(
  `traffic bench: ${steps.join(", ")} connections x 4096 B every 100 ms, ${durationMs / 1000} s per step ` +
    `(ramp ${rampMs / 1000} s); tools ${racing.join(", ")}; ${machine.cores} cores, node ${machine.node}, ` +
    `load average ${machine.loadavg1mAtStart}`,
);
if (tools.artillery && !tools.artillery.available) console.log(`artillery: ${tools.artillery.note}`);

const echo = await EchoServer.start(pin.farEnd);
const applied = pin.unpinned ? undefined : { harness: affinityOf(process.pid), echoServer: affinityOf(echo.pid) };
console.log(
  pin.unpinned
    ? `pinning: none (${pin.unpinned})`
    : `pinning (taskset): tools on CPU ${pin.tool}; echo server on ${applied!.echoServer}, harness on ${applied!.harness}`,
);
const results: StepResult[] = [];
const alive = new Set(racing);
try {
  for (const n of steps) {
    for (const tool of racing) {
      if (!alive.has(tool)) continue;
      const w: Workload = { conns: n, bytesPerTick: 4096, intervalMs: 100, durationMs, rampMs };
      const r = await runStep(tool, w, echo, { workDir, ...(nodeFlags ? { nodeFlags } : {}), pin });
      results.push(r);
      console.log(
        `  ${tool.padEnd(9)} N=${String(n).padEnd(5)} ${r.ok ? "holds" : "FAILS"}  thru ${(r.throughputRatio * 100).toFixed(1)} %` +
          `  lag (${r.lagScope === "steady" ? "steady window" : "whole run"}) p50 ${r.lagP50Ms} p99 ${r.lagP99Ms} ms, whole run p99 ${r.runLagP99Ms} ms  cpu ${r.cpuMsPerConnMin} ms/conn-min  rss ${r.rssKBPerConn} KB/conn (peak in ${r.peakRssPhase}, steady ${r.steadyRssKBPerConn})` +
          `  errors ${r.errors}${r.gc ? `  gc ${r.gc.minor}+${r.gc.major} (${r.gc.pauseMs} ms)` : ""}` +
          `${r.memory ? `  mid-run heap ${r.memory.heapUsedMB}/${r.memory.heapTotalMB} MB, rss ${r.memory.rssMB}, ext ${r.memory.externalMB}` : ""}${r.failures.length ? `  (${r.failures.join("; ")})` : ""}` +
          (r.errorSamples.length && r.errors ? `\n      e.g. ${r.errorSamples.slice(0, 2).join(" | ")}` : ""),
      );
      // Every tool runs every step (CPU/RSS figures at larger N are worth having even where p99 misses 10 ms,
      // and on a busy machine any tool can miss a step); --stop-below R drops a tool after a step where it
      // moved less than R of the target, --first-fail after its first step that does not hold.
      if (!r.ok && (has("first-fail") || r.throughputRatio < stopBelow)) alive.delete(tool);
      // Let the previous step's sockets finish closing before the next one starts.
      await new Promise((r2) => setTimeout(r2, 1000));
    }
  }
} finally {
  await echo.close();
}

console.log("\n" + formatTable(results));
const held = largestHeld(results, racing);
console.log(
  `\n(lag columns: ticks measured in the steady window, as throughput and CPU; * = whole run, the tool gives no\n` +
    `per-second record; "run p99": the whole run, the ramp's dial storm included)\n` +
    `largest N held (p99 lag in the steady window < ${HOLD_P99_MS} ms, throughput >= ${HOLD_THROUGHPUT * 100} %, no errors): ` +
    racing.map((t) => `${t} ${held[t] ?? 0}`).join(", "),
);
const oursOver = oursOverPeers(results);
for (const r of oursOver) {
  console.log(
    `ours / ${r.tool} at ${r.conns}: CPU per conn-min ${r.cpu ?? "-"}, CPU per MiB ${r.cpuPerMiB ?? "-"}, RSS per conn ${r.rss ?? "-"}, p99 lag ${r.p99 ?? "-"} (whole run ${r.p99Run ?? "-"})`,
  );
}

let profile: unknown;
if (has("profile") && existsSync(profileDir)) {
  // One directory per tool and step. tsx's module loader runs in a worker thread that writes its own (tiny)
  // profile: the largest file is the tool's main thread. Start-up, ramp and dials (the first ramp + 2 s) and
  // the drain and closes (the last 3 s) are left out, so the table is steady traffic.
  const trim = { startMs: rampMs + 2000, endMs: 3000 };
  const out: Record<string, unknown> = {};
  for (const dir of readdirSync(profileDir).sort()) {
    const files = readdirSync(join(profileDir, dir))
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => ({ f: join(profileDir, dir, f), size: statSync(join(profileDir, dir, f)).size }))
      .sort((a, b) => b.size - a.size);
    const main = files[0]?.f;
    if (!main) continue;
    const top = topSelfTime(main, 25, ROOT, trim);
    out[dir] = { file: main, ...top };
    console.log(`\nprofile ${dir} (steady part, ${main}):\n${formatTopSelfTime(top)}`);
  }
  profile = out;
}

const sshCost = has("no-ssh") ? { skipped: "--no-ssh" } : await runSshCost();

const createWorkspaces = has("no-create-workspaces") ? { skipped: "--no-create-workspaces" } : await runCreateWorkspacesBench();

const requestGap = has("no-request-gap") ? { skipped: "--no-request-gap" } : await runRequestGapBench();

const doc: BenchDocument = {
  kind: "traffic-bench",
  createdAt: new Date().toISOString(),
  machine,
  loadavg1mAtEnd: Math.round(loadavg()[0]! * 100) / 100,
  pinning: { ...pin, ...(applied ? { applied } : {}) },
  workload: { bytesPerTick: 4096, intervalMs: 100, durationMs, rampMs, steps },
  criteria: { p99LagMsBelow: HOLD_P99_MS, throughputAtLeast: HOLD_THROUGHPUT, errors: 0 },
  tools,
  steps: results,
  largestHeld: held,
  ratiosToOurs: ratiosToOurs(results),
  oursOverPeers: oursOver,
  sshCost,
  createWorkspaces,
  requestGap,
  ...(profile ? { profile } : {}),
};
mkdirSync(outDir, { recursive: true });
const stamp = doc.createdAt.replace(/[:.]/g, "-");
const file = join(outDir, `traffic-${stamp}.json`);
writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
writeFileSync(join(outDir, "latest.json"), JSON.stringify(doc, null, 2) + "\n");
console.log(`\nwrote ${file}`);

/**
 * Our side's cost per SSH connection next to the app websocket path (bench/ssh-cost.ts, its own far ends,
 * same pinning), at --ssh-conns (default 500) for the same --duration; its JSON is embedded as `sshCost`.
 */
async function runSshCost(): Promise<unknown> {
  const conns = argOf(argv, "ssh-conns", "500");
  console.log(`\nssh per-connection cost (bench/ssh-cost.ts, ${conns} connections):`);
  const args = ["--conns", conns, "--duration", String(durationMs / 1000), "--ramp", String(rampMs / 1000), "--out", workDir];
  if (argOf(argv, "pin", "")) args.push("--pin", argOf(argv, "pin"));
  return runJsonScript("ssh-cost.ts", args, /^\s+(app|ssh) |^ssh \/ app/);
}

/**
 * The create-workspaces client-cost benchmark (bench/create-workspaces.ts, owned by the create-workspaces
 * work: simulator in a child process, instant builds) at concurrency 10, 50 and 200, `--cw-count`
 * workspaces each (default 1,000, the figure #26 sets the per-workspace target at). Its text output is parsed for client CPU
 * per workspace and peak RSS; the raw lines are kept too.
 */
async function runCreateWorkspacesBench(): Promise<unknown> {
  const script = join(ROOT, "bench", "create-workspaces.ts");
  if (!existsSync(script)) return { skipped: "bench/create-workspaces.ts does not exist" };
  const count = Number(argOf(argv, "cw-count", "1000"));
  const runs: unknown[] = [];
  console.log(`\ncreate-workspaces (bench/create-workspaces.ts, ${count} workspaces, instant builds):`);
  for (const concurrency of [10, 50, 200]) {
    const { code, out } = await runScript(script, ["--count", String(count), "--concurrency", String(concurrency)]);
    const num = (re: RegExp): number | null => {
      const m = re.exec(out);
      return m ? Number(m[1]!.replace(/,/g, "")) : null;
    };
    const r = {
      concurrency,
      count,
      exitCode: code,
      clientCpuMsPerWorkspace: num(/client CPU:\s+[\d,.]+ ms total, ([\d.]+) ms per workspace/),
      clientCpuMsTotal: num(/client CPU:\s+([\d,.]+) ms total/),
      systemCpuMsPerWorkspace: num(/of which system:\s+([\d.]+) ms per workspace/),
      peakRssMiB: num(/peak RSS:\s+([\d.]+) MiB/),
      ready: /ready:\s+(.*)/.exec(out)?.[1]?.trim() ?? null,
      ...(code !== 0 ? { outputTail: out.slice(-2000) } : {}),
    };
    runs.push(r);
    console.log(
      `  concurrency ${String(concurrency).padEnd(4)} client CPU ${r.clientCpuMsPerWorkspace ?? "?"} ms per workspace ` +
        `(system ${r.systemCpuMsPerWorkspace ?? "?"}), ` +
        `peak RSS ${r.peakRssMiB ?? "?"} MiB, ready ${r.ready ?? "?"}${code !== 0 ? ` (exit ${code})` : ""}`,
    );
  }
  return { count, runs };
}

/**
 * CPU per API request after idle gaps (bench/request-gap.ts), the product's client next to Node's http client:
 * why create-workspaces costs more per workspace at low concurrency. Its JSON is embedded as `requestGap`.
 */
async function runRequestGapBench(): Promise<unknown> {
  console.log(`\nrequest CPU after idle gaps (bench/request-gap.ts):`);
  return runJsonScript("request-gap.ts", ["--out", workDir], /^\s+(gap|\(per|\d)/);
}

/**
 * Runs a bench script that writes its figures as JSON ("wrote <file>"), echoes the lines of its output that
 * `show` matches, and returns the JSON (or what failed, with the output's tail).
 */
async function runJsonScript(script: string, args: string[], show: RegExp): Promise<unknown> {
  const { code, out } = await runScript(join(ROOT, "bench", script), args);
  for (const line of out.split("\n").filter((l) => show.test(l))) console.log(line);
  const file = /wrote (.*\.json)/.exec(out)?.[1];
  if (code !== 0 || !file) return { failed: `exit ${code}`, outputTail: out.slice(-2000) };
  return JSON.parse(readFileSync(file, "utf8")) as unknown;
}

function runScript(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolveP) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const kill = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.on("exit", (code) => {
      clearTimeout(kill);
      resolveP({ code, out });
    });
  });
}
