// Shared by the traffic-kinds / traffic-scenario / prometheus tests: a simulator with N running scale-test
// workspaces, a Config loaded like a scenario script's, and the stand-in coder CLI on PATH.
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, type Config, type ScriptName } from "../../src/config/index.ts";
import { CoderClient } from "../../src/coder/index.ts";
import { startSim, type Sim, type SimOptions } from "../../sim/index.ts";
import { api, templateId, waitFor } from "./sim.ts";

export const FAKE_CODER_DIR = fileURLToPath(new URL("../fake-coder", import.meta.url));
export const FAKE_CODER = join(FAKE_CODER_DIR, "coder");

/** PATH with the stand-in `coder` first. */
export function pathWithFakeCoder(path = process.env.PATH ?? ""): string {
  return `${FAKE_CODER_DIR}${delimiter}${path}`;
}

export interface TrafficSim {
  sim: Sim;
  runId: string;
  client: CoderClient;
  /** Workspace names in order. */
  names: string[];
  stop(): Promise<void>;
}

/** Starts a fast simulator and creates `count` running workspaces scaletest-<runId>-NNNN (owned by `owners` users when given). */
export async function startTrafficSim(count: number, opts: { runId?: string; sim?: SimOptions; users?: number } = {}): Promise<TrafficSim> {
  const runId = opts.runId ?? "tk1";
  const sim = await startSim({ buildDuration: 10, agentConnectDelayMs: 10, agentReadyDelayMs: 5, daemons: 32, ...opts.sim });
  try {
    const tid = await templateId(sim, "kubernetes-minimal");
    const names = Array.from({ length: count }, (_, i) => `scaletest-${runId}-${String(i).padStart(4, "0")}`);
    const owners: string[] = [];
    if (opts.users) {
      const orgs = await api<{ id: string }[]>(sim, "GET", "/api/v2/organizations");
      const orgId = orgs.body[0]!.id;
      for (let u = 0; u < opts.users; u++) {
        // Named and addressed as the product names its users (src/util/ownership.ts checks both), numbered
        // from 9000 so they never collide with the workspaces' names.
        const username = `scaletest-${runId}-${9000 + u}`;
        const r = await api(sim, "POST", "/api/v2/users", {
          username, email: `${runId}-${9000 + u}@scaletest.local`, password: "Sc4letest-pass!", organization_ids: [orgId],
        });
        if (r.status !== 201) throw new Error(`create user ${username}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        owners.push(username);
      }
    }
    const ids = await Promise.all(
      names.map(async (name, i) => {
        const owner = owners.length ? owners[i % owners.length]! : "me";
        const r = await api<{ id: string }>(sim, "POST", `/api/v2/users/${owner}/workspaces`, { name, template_id: tid });
        if (r.status !== 201) throw new Error(`create workspace ${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.id;
      }),
    );
    await waitFor(
      `${count} workspaces with ready agents`,
      () => ids.every((id) => {
        const ws = sim.state.workspaces.get(id);
        if (!ws) return false;
        const agents = sim.state.latestBuild(ws).resources.flatMap((r) => r.agents);
        return agents.length > 0 && agents.every((a) => a.lifecycle === "ready");
      }),
      30_000,
    );
    const client = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 16 });
    return {
      sim,
      runId,
      client,
      names,
      stop: async () => {
        await client.close();
        await sim.stop();
      },
    };
  } catch (e) {
    await sim.stop();
    throw e;
  }
}

/** A Config as the given script would load it from these flags (no .env, only the sim's URL/token in env). */
export function trafficConfig(script: ScriptName, sim: Sim, argv: string[] = [], env: Record<string, string> = {}): Config {
  return loadConfig(script, argv, {
    env: { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, ...env },
    envFile: false,
  }).config;
}
