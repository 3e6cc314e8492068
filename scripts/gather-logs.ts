#!/usr/bin/env -S npx tsx
// Gathers the logs of coderd, the external provisioners and the scaletest- pods since the run started into
// <results>/<run>/logs/<pod>.txt, as Coder's runner does at the end of a run.
//   gather-logs.ts [--since-time RFC3339] [--run-dir DIR | --results-dir DIR --run-id ID]
// --since-time defaults to SCALETEST_START_TIME. Namespace: SCALETEST_CODER_NAMESPACE. Fails soft: without
// kubectl or the permission it records a warning in the run folder and exits 0.
import { kubeFromEnv } from "../src/orchestration/kubectl.ts";
import { orchestrationArgs, runMain } from "../src/orchestration/args.ts";
import { gatherLogs } from "../src/orchestration/logs.ts";

const USAGE = `Usage: gather-logs.ts [--since-time RFC3339] [--run-dir DIR | --results-dir DIR --run-id ID]\n`;

await runMain(USAGE, async () => {
  const a = orchestrationArgs(process.argv.slice(2), { "since-time": { type: "string" } });
  if (a.values.help) return void process.stdout.write(USAGE);
  const since = (a.values["since-time"] as string | undefined) ?? process.env.SCALETEST_START_TIME ?? "";
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(since)) {
    throw new Error(`--since-time must be an RFC 3339 time such as 2025-01-01T00:00:00Z (or set SCALETEST_START_TIME), got ${JSON.stringify(since)}`);
  }
  const r = await gatherLogs(kubeFromEnv(a.runDir), since);
  process.stdout.write(`logs gathered: ${r.gathered.length} pod(s)${r.failed.length ? `, ${r.failed.length} failed (see warnings)` : ""}\n`);
});
