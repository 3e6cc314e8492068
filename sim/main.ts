// `npm run sim -- --port P [...]`: serve the simulated deployment on loopback until SIGINT/SIGTERM.
// The first two stdout lines can be eval'd by a shell:
//   CODER_URL=http://127.0.0.1:PORT
//   CODER_SESSION_TOKEN=<owner token>
import { Command, InvalidArgumentError } from "commander";
import { parseHttpFault, type HttpFaultRule } from "./faults.ts";
import { startSim } from "./index.ts";
import { parseMsRange, type DurationSpec } from "./options.ts";

const int = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
const rate = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("a rate must be a number within 0..1");
  return n;
};
const ms = (v: string): DurationSpec => {
  try {
    return parseMsRange(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const fault = (v: string, prev: HttpFaultRule[]): HttpFaultRule[] => {
  try {
    return [...prev, parseHttpFault(v)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

const program = new Command()
  .name("sim")
  .description("Simulated Coder deployment on loopback (REST API subset, provisioner queue, agents, PTY websocket)")
  .option("--port <n>", "port to listen on (0 = pick a free one)", int("--port"), 0)
  .option("--host <addr>", "address to listen on", "127.0.0.1")
  .option("--seed <n>", "PRNG seed for deterministic runs", int("--seed"), 1)
  .option("--daemons <n>", "provisioner daemons", int("--daemons"), 4)
  .option("--build-ms <range>", 'build duration in ms, "N" or "MIN-MAX"', ms, { minMs: 300, maxMs: 800 } as DurationSpec)
  .option("--agent-connect-ms <range>", 'agent connect delay in ms, "N" or "MIN-MAX"', ms, { minMs: 100, maxMs: 300 } as DurationSpec)
  .option("--no-preexisting", "start without the pre-existing non-scaletest users and workspaces")
  .option("--fault <spec>", 'inject HTTP errors: "METHOD PATH STATUS[@RATE]" (repeatable; PATH may use * and **)', fault, [] as HttpFaultRule[])
  .option("--latency-ms <range>", "added latency on every /api/v2 request", ms)
  .option("--build-fail-rate <p>", "probability that a build fails", rate, 0)
  .option("--stuck-pending-rate <p>", "probability that a build stays pending forever", rate, 0)
  .option("--agent-never-connect-rate <p>", "probability that an agent never connects", rate, 0);

program.parse();
const o = program.opts<{
  port: number; host: string; seed: number; daemons: number; buildMs: DurationSpec; agentConnectMs: DurationSpec;
  preexisting: boolean; fault: HttpFaultRule[]; latencyMs?: DurationSpec; buildFailRate: number;
  stuckPendingRate: number; agentNeverConnectRate: number;
}>();

const sim = await startSim({
  port: o.port, host: o.host, seed: o.seed, daemons: o.daemons, buildDuration: o.buildMs,
  agentConnectDelayMs: o.agentConnectMs, preexisting: o.preexisting,
});
sim.faults.set({
  http: o.fault,
  latency: o.latencyMs === undefined ? [] : [{ path: "/api/v2/**", latencyMs: o.latencyMs }],
  build: { failRate: o.buildFailRate, stuckPendingRate: o.stuckPendingRate, agentNeverConnectRate: o.agentNeverConnectRate },
});
process.stdout.write(`CODER_URL=${sim.url}\nCODER_SESSION_TOKEN=${sim.ownerToken}\n`);
process.stderr.write(`sim: serving a simulated Coder deployment at ${sim.url} (seed ${o.seed}, ${o.daemons} daemons); Ctrl+C stops it\n`);

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`sim: ${signal} received, stopping\n`);
  void sim.stop().then(() => process.exit(0));
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
