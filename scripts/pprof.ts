#!/usr/bin/env -S npx tsx
// Collects pprof profiles from every coderd replica while a run goes on (Coder's runner does the same): a
// kubectl port-forward to each coderd pod's 6060, then every --interval (default 5m) allocs, block, heap,
// goroutine, mutex, a CPU profile and a trace into <results>/<run>/pprof/<replica>/, with a Grafana annotation
// (tag pprof) per capture. Runs until SIGINT/SIGTERM (the template stops it when the pipeline ends), then closes
// its port-forwards.
//   pprof.ts [--interval 5m] [--cpu-seconds 10] [--trace-seconds 5] [--run-dir DIR | --results-dir DIR --run-id ID]
// Namespace: SCALETEST_CODER_NAMESPACE. Fails soft: without kubectl or the permission it records a warning.
import { parseDuration } from "../src/config/duration.ts";
import { kubeFromEnv } from "../src/orchestration/kubectl.ts";
import { orchestrationArgs, runMain } from "../src/orchestration/args.ts";
import { collectPprof } from "../src/orchestration/pprof.ts";
import { grafanaAnnotator } from "../src/pipeline/grafana.ts";

const USAGE = `Usage: pprof.ts [--interval 5m] [--cpu-seconds 10] [--trace-seconds 5] [--run-dir DIR | --results-dir DIR --run-id ID]\n`;

function seconds(raw: string | undefined, def: number, what: string): number {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 300) throw new Error(`--${what} must be 1 to 300 seconds, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

await runMain(USAGE, async (secrets) => {
  const a = orchestrationArgs(process.argv.slice(2), { interval: { type: "string" }, "cpu-seconds": { type: "string" }, "trace-seconds": { type: "string" } });
  if (a.values.help) return void process.stdout.write(USAGE);
  const intervalMs = parseDuration((a.values.interval as string | undefined) ?? process.env.SCALETEST_PPROF_INTERVAL ?? "5m");
  if (intervalMs < 100) throw new Error("--interval must be at least 100ms");
  const cpuSeconds = seconds(a.values["cpu-seconds"] as string | undefined, 10, "cpu-seconds");
  const traceSeconds = seconds(a.values["trace-seconds"] as string | undefined, 5, "trace-seconds");
  const k = kubeFromEnv(a.runDir);
  const runId = a.runDir.split("/").pop() ?? "";
  const grafanaToken = secrets.GRAFANA_API_TOKEN;
  const grafana = process.env.GRAFANA_URL && grafanaToken
    ? grafanaAnnotator({ url: process.env.GRAFANA_URL, token: grafanaToken, runId })
    : null;
  const stopper = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => stopper.abort());
  const stats = await collectPprof(k, {
    intervalMs,
    cpuSeconds,
    traceSeconds,
    signal: stopper.signal,
    annotate: async (text) => {
      process.stdout.write(`${new Date().toISOString()} ${text}\n`);
      if (grafana) await (await grafana.start(text, ["pprof"]))();
    },
  });
  process.stdout.write(`pprof stopped: ${stats.captures} profiles in ${stats.rounds} round(s), ${stats.failures} failed\n`);
});
