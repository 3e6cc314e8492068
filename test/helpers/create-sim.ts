// Shared by the create-workspaces and cleanup tests: a fast simulated deployment, a client for it,
// and views of the simulator's state (what exists, which builds failed).
import { startSim, type Sim, type SimOptions } from "../../sim/index.ts";
import { CoderClient } from "../../src/coder/index.ts";
import { jobStatus } from "../../sim/state.ts";

export async function startFastSim(opts: SimOptions = {}): Promise<Sim> {
  return startSim({
    seed: 11,
    daemons: 4,
    buildDuration: { minMs: 50, maxMs: 100 },
    agentConnectDelayMs: { minMs: 10, maxMs: 30 },
    agentReadyDelayMs: 10,
    ...opts,
  });
}

export function clientFor(sim: Sim, concurrency = 32): CoderClient {
  // Fast retries so injected 5xx faults do not slow the tests down.
  // The Owner's client as the product builds it (scenario/main.ts clientFor): with the rate-limit bypass header.
  return new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency, retry: { baseDelayMs: 20, maxDelayMs: 200 }, bypassRateLimit: true });
}

/** Live users and workspaces whose names start with `prefix` (default: every scale-test resource). */
export function liveScaletest(sim: Sim, prefix = "scaletest-"): { users: string[]; workspaces: string[] } {
  const users = [...sim.state.users.values()].filter((u) => !u.deleted && u.username.startsWith(prefix)).map((u) => u.username);
  const workspaces = [...sim.state.workspaces.values()].filter((w) => !w.deleted && w.name.startsWith(prefix)).map((w) => w.name);
  return { users: users.sort(), workspaces: workspaces.sort() };
}

/** Per workspace name: the final status of each of its start builds, in build order. */
export function startBuildStatuses(sim: Sim, prefix: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const builds = [...sim.state.builds.values()].sort((a, b) => a.buildNumber - b.buildNumber);
  for (const b of builds) {
    const ws = sim.state.workspaces.get(b.workspaceId);
    if (!ws || !ws.name.startsWith(prefix) || b.transition !== "start") continue;
    const list = out.get(ws.name) ?? [];
    list.push(jobStatus(sim.state.job(b.jobId)));
    out.set(ws.name, list);
  }
  return out;
}
