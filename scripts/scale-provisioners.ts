#!/usr/bin/env -S npx tsx
// Scales the external provisioner deployment for a run, as Coder's prepare.sh does, and puts it back:
//   scale-provisioners.ts up        [--replicas N]   record the current replica count in <run>/state/, scale to N
//   scale-provisioners.ts restore                    scale back to the recorded count (idempotent)
//   scale-provisioners.ts restore-all                restore every run under the results dir left scaled (a crash)
// N defaults to SCALETEST_CREATE_CONCURRENCY (10 when it is 0 = unlimited). The deployment is
// SCALETEST_PROVISIONER_DEPLOYMENT (default coder-provisioner; empty = never scale) in SCALETEST_CODER_NAMESPACE.
// Fails soft: without kubectl or the permission it records a warning in the run folder and exits 0.
import { kubeFromEnv } from "../src/orchestration/kubectl.ts";
import { orchestrationArgs, runMain } from "../src/orchestration/args.ts";
import { restore, restoreAll, scaleUp } from "../src/orchestration/provisioners.ts";

const USAGE = `Usage: scale-provisioners.ts up|restore|restore-all [--replicas N] [--deployment NAME]
  [--run-dir DIR | --results-dir DIR --run-id ID]
`;

await runMain(USAGE, async () => {
  const argv = process.argv.slice(2);
  const a = orchestrationArgs(argv, { replicas: { type: "string" }, deployment: { type: "string" } }, process.env, !argv.includes("restore-all"));
  if (a.values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const action = a.positionals[0];
  const k = kubeFromEnv(a.runDir);
  const deployment = (a.values.deployment as string | undefined) ?? process.env.SCALETEST_PROVISIONER_DEPLOYMENT ?? "coder-provisioner";
  if (action === "up") {
    const raw = (a.values.replicas as string | undefined) ?? process.env.SCALETEST_CREATE_CONCURRENCY ?? "10";
    if (!/^\d+$/.test(raw)) throw new Error(`--replicas must be a whole number, got ${JSON.stringify(raw)}`);
    const n = Number(raw) === 0 ? 10 : Math.min(Number(raw), 500);
    if (!deployment) return void process.stdout.write("no provisioner deployment configured: not scaling\n");
    const r = await scaleUp(k, deployment, n);
    process.stdout.write(r ? `deployment/${deployment}: ${r.previousReplicas} -> ${n} replicas (recorded)\n` : "provisioners not scaled (see warnings)\n");
  } else if (action === "restore") {
    process.stdout.write(`provisioners: ${await restore(k)}\n`);
  } else if (action === "restore-all") {
    const done = await restoreAll(k, a.resultsDir);
    process.stdout.write(done.length ? `provisioners restored for ${done.join(", ")}\n` : "no run left provisioners scaled\n");
  } else throw new Error(`unknown action ${JSON.stringify(action ?? "")}: use up, restore or restore-all`);
});
