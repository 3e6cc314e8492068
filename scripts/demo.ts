#!/usr/bin/env -S npx tsx
// `npm run demo`: the whole pipeline against the embedded simulated deployment, with small settings
// (a few dozen workspaces, all four scenarios, concurrent with stagger), in well under two minutes.
// The simulator runs as its own process and is reached only over HTTP, exactly like a real Coder.
// Extra flags are passed to scripts/run.ts (e.g. `npm run demo -- --workspaces 10 --dry-run`).
import { execa, type ResultPromise } from "execa";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsx = join(root, "node_modules", ".bin", "tsx");

/** Starts `npm run sim` on a free loopback port and reads the three lines it prints. */
async function startSimulator(): Promise<{ env: Record<string, string>; proc: ResultPromise }> {
  const proc = execa(tsx, [join(root, "sim", "main.ts"), "--port", "0", "--build-ms", "300-1500", "--agent-connect-ms", "200-800"], {
    cwd: root,
    stdout: "pipe",
    stderr: "inherit",
    reject: false,
  });
  const env: Record<string, string> = {};
  const lines = createInterface({ input: proc.stdout! });
  for await (const line of lines) {
    const m = /^(CODER_URL|CODER_SESSION_TOKEN|SCALETEST_CODERD_METRICS_URLS)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
    // The third line: coderd's metrics endpoint, so the report shows the server side under the phases.
    if (env.CODER_URL && env.CODER_SESSION_TOKEN && env.SCALETEST_CODERD_METRICS_URLS !== undefined) break;
  }
  if (!env.CODER_URL || !env.CODER_SESSION_TOKEN) throw new Error("the simulated deployment did not start (see its output above)");
  return { env, proc };
}

const DEMO_SETTINGS = [
  "--workspaces", "24",
  "--create-concurrency", "12",
  "--scenarios", "ssh,web-terminal,app,dashboard",
  "--concurrent",
  "--stagger-delay", "3s",
  "--duration", "12s",
  "--percentage", "25",
  "--bytes-per-tick", "1024",
  "--tick-interval", "100ms",
  "--baseline-wait", "3s",
  "--dashboard-concurrency", "4",
  "--cleanup-strategy", "always",
  "--metrics-address", "127.0.0.1:0",
  "--results-dir", join(root, "results"),
  "--comment", "npm run demo against the simulated deployment",
];

const sim = await startSimulator();
process.stderr.write(`demo: simulated Coder deployment at ${sim.env.CODER_URL}\n`);
let code = 1;
try {
  const run = await execa(tsx, [join(root, "scripts", "run.ts"), ...DEMO_SETTINGS, ...process.argv.slice(2)], {
    cwd: root,
    env: {
      ...sim.env,
      // SSH traffic goes through `coder ssh --stdio`; the simulator ships a stand-in coder CLI for it.
      SCALETEST_CODER_BINARY: join(root, "test", "fake-coder", "coder"),
    },
    stdio: "inherit",
    reject: false,
  });
  code = run.exitCode ?? 1;
} finally {
  sim.proc.kill("SIGTERM");
  await sim.proc;
}
process.exit(code);
