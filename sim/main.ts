// `npm run sim -- --port P [...]`: serve the simulated deployment on loopback until SIGINT/SIGTERM.
// The first two stdout lines can be eval'd by a shell:
//   CODER_URL=http://127.0.0.1:PORT
//   CODER_SESSION_TOKEN=<owner token>
import { Command, InvalidArgumentError } from "commander";
import { parseDropKinds, parseHttpFault, type DropKind, type HttpFaultRule, type LatencyRule } from "./faults.ts";
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

const kinds = (v: string): DropKind[] => {
  try {
    return parseDropKinds(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
/** "PATH=MS" (PATH as in --fault, MS as in --latency-ms): added latency on one route. */
const pathLatency = (v: string, prev: LatencyRule[]): LatencyRule[] => {
  const i = v.lastIndexOf("=");
  if (i <= 0) throw new InvalidArgumentError(`expected PATH=MS, e.g. "/api/v2/workspaces/*=300", got "${v}"`);
  return [...prev, { path: v.slice(0, i), latencyMs: ms(v.slice(i + 1)) }];
};
/** "KNEE:PER_UNIT_MS" of the capacity model, e.g. "40:50": past 40, each unit of load adds 50 ms. */
const capacityPart = (name: string) => (v: string): { knee: number; perUnitMs: number } => {
  const m = /^(\d+):(\d+(?:\.\d+)?)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`${name} expects KNEE:PER_UNIT_MS, e.g. "40:50", got "${v}"`);
  return { knee: Number(m[1]), perUnitMs: Number(m[2]) };
};
const times = (v: string, prev: number[]): number[] => [...prev, int("--restart-after-ms")(v)];

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
  .option("--latency-path <PATH=MS>", 'added latency on the requests to one path, e.g. "/api/v2/workspaces/*=300" (repeatable)', pathLatency, [] as LatencyRule[])
  .option("--build-fail-rate <p>", "probability that a build fails", rate, 0)
  .option("--stuck-pending-rate <p>", "probability that a build stays pending forever", rate, 0)
  .option("--agent-never-connect-rate <p>", "probability that an agent never connects", rate, 0)
  .option("--retry-after-sec <n>", "Retry-After seconds on --fault answers without their own (429 default 1)", int("--retry-after-sec"))
  .option("--drop-connections-rate <p>", "probability that a new PTY/SSH/app connection is cut mid-stream", rate, 0)
  .option("--drop-after-ms <range>", 'how long a doomed connection lives before the cut, "N" or "MIN-MAX"', ms, { minMs: 500, maxMs: 2000 } as DurationSpec)
  .option("--drop-kinds <list>", "connection kinds that may be cut: comma list of pty, ssh, app", kinds, ["pty", "ssh", "app"] as DropKind[])
  .option("--restart-after-ms <ms>", "simulate a coderd restart this many ms after start (repeatable; SIGUSR1 restarts now)", times, [] as number[])
  .option("--restart-down-ms <ms>", "how long a restart keeps the server down", int("--restart-down-ms"), 3000)
  .option("--no-premium", "no Premium licence: prebuilds settings and external-agent credentials answer 403")
  .option("--prebuilds-interval-ms <ms>", "prebuilds reconciliation interval", int("--prebuilds-interval-ms"), 500)
  .option("--drop-app-status-rate <p>", "probability that an app-status update is accepted but never stored nor published", rate, 0)
  .option("--notifications-fetch-ms <ms>", "how often the notifier polls its queue (coderd's CODER_NOTIFICATIONS_FETCH_INTERVAL)", int("--notifications-fetch-ms"), 1000)
  .option("--smtp-smarthost <host:port>", "send notification emails over SMTP to this server (coderd's CODER_EMAIL_SMARTHOST), e.g. the SMTP sink", "")
  .option("--no-notifier", "start with the notifier stopped (enqueued notifications are never delivered)")
  .option("--capacity-builds <KNEE:MS>", "capacity model: each start build in flight past KNEE adds MS to a build", capacityPart("--capacity-builds"))
  .option("--capacity-connections <KNEE:MS>", "capacity model: each live PTY/SSH/app stream past KNEE delays every echo by MS more", capacityPart("--capacity-connections"))
  .option("--autobuild-poll-interval-ms <ms>", "lifecycle executor tick (autostart), coderd's --autobuild-poll-interval", int("--autobuild-poll-interval-ms"), 60_000)
  .option("--experiments <list>", "enabled experiments, comma list (workspace-build-updates serves watch-all-workspacebuilds)", (v: string) => v.split(",").map((x) => x.trim()).filter(Boolean), ["workspace-build-updates"]);

program.parse();
const o = program.opts<{
  port: number; host: string; seed: number; daemons: number; buildMs: DurationSpec; agentConnectMs: DurationSpec;
  preexisting: boolean; fault: HttpFaultRule[]; latencyMs?: DurationSpec; latencyPath: LatencyRule[]; buildFailRate: number;
  stuckPendingRate: number; agentNeverConnectRate: number; retryAfterSec?: number; dropConnectionsRate: number;
  dropAfterMs: DurationSpec; dropKinds: DropKind[]; restartAfterMs: number[]; restartDownMs: number;
  premium: boolean; prebuildsIntervalMs: number; dropAppStatusRate: number;
  notificationsFetchMs: number; smtpSmarthost: string; notifier: boolean;
  capacityBuilds?: { knee: number; perUnitMs: number }; capacityConnections?: { knee: number; perUnitMs: number };
  autobuildPollIntervalMs: number; experiments: string[];
}>();

const sim = await startSim({
  port: o.port, host: o.host, seed: o.seed, daemons: o.daemons, buildDuration: o.buildMs,
  agentConnectDelayMs: o.agentConnectMs, preexisting: o.preexisting, premium: o.premium,
  prebuildsReconcileIntervalMs: o.prebuildsIntervalMs,
  notifications: { fetchIntervalMs: o.notificationsFetchMs, smtpSmarthost: o.smtpSmarthost },
  capacity: { ...(o.capacityBuilds ? { builds: o.capacityBuilds } : {}), ...(o.capacityConnections ? { connections: o.capacityConnections } : {}) },
  autobuildPollIntervalMs: o.autobuildPollIntervalMs, experiments: o.experiments,
});
if (o.dropAppStatusRate > 0) sim.taskStatus.setFaults({ dropRate: o.dropAppStatusRate });
if (!o.notifier) sim.notifier.stop();
const retryAfter = o.retryAfterSec;
sim.faults.set({
  http: retryAfter === undefined ? o.fault : o.fault.map((r) => ({ retryAfterSec: retryAfter, ...r })),
  latency: [...(o.latencyMs === undefined ? [] : [{ path: "/api/v2/**", latencyMs: o.latencyMs }]), ...o.latencyPath],
  build: { failRate: o.buildFailRate, stuckPendingRate: o.stuckPendingRate, agentNeverConnectRate: o.agentNeverConnectRate },
});
if (o.dropConnectionsRate > 0) sim.faults.setDrops({ rate: o.dropConnectionsRate, afterMs: o.dropAfterMs, kinds: o.dropKinds });
const restart = (why: string): void => {
  process.stderr.write(`sim: restarting (${why}): down for ${o.restartDownMs} ms\n`);
  void sim.restart(o.restartDownMs).then(() => process.stderr.write("sim: serving again\n"));
};
for (const at of o.restartAfterMs) setTimeout(() => restart(`--restart-after-ms ${at}`), at).unref();
process.on("SIGUSR1", () => restart("SIGUSR1"));
// A third line names coderd's metrics endpoint, as `--coderd-metrics-url` takes it (empty with metrics off).
process.stdout.write(`CODER_URL=${sim.url}\nCODER_SESSION_TOKEN=${sim.ownerToken}\nSCALETEST_CODERD_METRICS_URLS=${sim.metricsUrl}\n`);
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
