/**
 * Runs the workload with Artillery's websocket engine (npm `artillery`, its CLI, local platform), so the
 * harness can measure its process from outside like the other tools.
 *
 * Scenario: N virtual users arriving evenly over the ramp (`arrivalCount`), each opening one websocket and
 * looping `send` (the payload as 1,024-byte messages) + `think: "<interval>ms"` for duration/interval iterations. Note
 * `think: 0.1` would mean 0.1 ms: Artillery reads a non-integer think as a `ms` string, so it is spelled
 * in ms. The payload has no "{" or "}" because Artillery templates every sent string.
 * Telemetry is switched off (ARTILLERY_DISABLE_TELEMETRY): nothing leaves the machine.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { makePayload, seededRandom } from "../../src/traffic/payload.ts";
import { APP_MAX_MESSAGE } from "../../src/traffic/kinds/app.ts";
import { onToolCpus, type PinPlan } from "./pin.ts";
import type { ClientReport, Workload } from "./workload.ts";

/** Each tick goes out as messages of at most this size, the same frames ours and the floor send. */
export const ARTILLERY_FRAME_BYTES = APP_MAX_MESSAGE;

// Artillery is installed apart from the project, in bench/artillery/ (see bench/install.ts).
const require = createRequire(new URL("../artillery/package.json", import.meta.url));
const PROCESSOR = new URL("../artillery/processor.cjs", import.meta.url).pathname;

/** Path of Artillery's CLI entry, or undefined when artillery is not installed / cannot run here. */
export function artilleryBin(): string | undefined {
  try {
    const pkgJson = require.resolve("artillery/package.json");
    const bin = join(pkgJson, "..", "bin", "run");
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

export function artilleryVersion(): string | undefined {
  try {
    return (require("artillery/package.json") as { version: string }).version;
  } catch {
    return undefined;
  }
}

export function artilleryScript(w: Workload, url: string): object {
  const payload = makePayload(w.bytesPerTick, seededRandom(1));
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0x7b) payload[i] = 0x28; // "{" -> "("
    if (payload[i] === 0x7d) payload[i] = 0x29; // "}" -> ")"
  }
  const frames: string[] = [];
  for (let i = 0; i < payload.length; i += ARTILLERY_FRAME_BYTES) {
    frames.push(payload.subarray(i, Math.min(payload.length, i + ARTILLERY_FRAME_BYTES)).toString("latin1"));
  }
  return {
    config: {
      target: url,
      processor: PROCESSOR,
      phases: [{ duration: Math.max(1, Math.round(w.rampMs / 1000)), arrivalCount: w.conns }],
      ws: { perMessageDeflate: false },
    },
    scenarios: [
      {
        engine: "ws",
        flow: [
          {
            loop: [
              { function: "beforeTick" },
              ...frames.map((f) => ({ send: f })),
              { think: `${w.intervalMs}ms` },
            ],
            count: Math.round(w.durationMs / w.intervalMs),
          },
        ],
      },
    ],
  };
}

export interface ArtilleryRun {
  child: ChildProcess;
  /** After the child exited: the report, or an explanation of why there is none. */
  collect(exitCode: number | null): ClientReport;
}

interface ArtillerySummary {
  count?: number;
  p50?: number;
  median?: number;
  p99?: number;
  max?: number;
}
interface ArtilleryReport {
  aggregate?: { counters?: Record<string, number>; summaries?: Record<string, ArtillerySummary> };
}

export function launchArtillery(w: Workload, url: string, workDir: string, pin?: PinPlan): ArtilleryRun {
  const bin = artilleryBin();
  if (!bin) throw new Error("artillery is not installed: npm ci --prefix bench/artillery (npm run bench does it on first use)");
  mkdirSync(workDir, { recursive: true });
  const script = join(workDir, `artillery-${w.conns}.yml`);
  const out = join(workDir, `artillery-${w.conns}.json`);
  // JSON is YAML; JSON.stringify's escapes are valid YAML double-quoted escapes.
  writeFileSync(script, JSON.stringify(artilleryScript(w, url), null, 1));
  const args = [bin, "run", "--quiet", "--output", out, script];
  const c = pin ? onToolCpus(pin, process.execPath, args) : { cmd: process.execPath, args };
  const child = spawn(c.cmd, c.args, {
    env: {
      ...process.env,
      ARTILLERY_DISABLE_TELEMETRY: "true",
      BENCH_INTERVAL_MS: String(w.intervalMs),
      BENCH_FRAMES_PER_TICK: String(Math.ceil(w.bytesPerTick / ARTILLERY_FRAME_BYTES)),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const keep = (d: Buffer): void => {
    log = (log + d.toString()).slice(-4000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return {
    child,
    collect(exitCode) {
      if (!existsSync(out)) {
        return {
          tool: "artillery",
          ticksSent: 0,
          ticksCompleted: 0,
          errors: 1,
          errorSamples: [`artillery exited with ${exitCode} and wrote no report: ${log.trim().slice(-500)}`],
          lag: { count: 0, p50: 0, p99: 0, max: 0 },
        };
      }
      const rep = JSON.parse(readFileSync(out, "utf8")) as ArtilleryReport;
      const counters = rep.aggregate?.counters ?? {};
      const lag = rep.aggregate?.summaries?.["bench.tick_lag_ms"] ?? {};
      const errorKeys = Object.keys(counters).filter((k) => k.startsWith("errors."));
      const errors = errorKeys.reduce((a, k) => a + (counters[k] ?? 0), 0) + (counters["vusers.failed"] ?? 0);
      return {
        tool: "artillery",
        ticksSent: counters["websocket.messages_sent"] ?? 0,
        ticksCompleted: counters["bench.echoes"] ?? 0,
        errors,
        errorSamples: errorKeys.slice(0, 5).map((k) => `${k}: ${counters[k]}`),
        lag: { count: lag.count ?? 0, p50: lag.p50 ?? lag.median ?? 0, p99: lag.p99 ?? 0, max: lag.max ?? 0 },
        lagNote: "from the previous send + interval (Artillery sleeps between sends; it has no timetable)",
      };
    },
  };
}
