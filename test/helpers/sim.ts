// Test helpers for the simulated deployment: start/stop around a test and make API calls.
import { connect } from "node:net";
import { startSim, type Sim, type SimOptions } from "../../sim/index.ts";

export type { Sim, SimOptions };

/** Fast defaults for tests: short builds and agent connects. */
export const FAST: SimOptions = { buildDuration: 30, agentConnectDelayMs: 20, agentReadyDelayMs: 10 };

/** Start a simulator, run fn, always stop it. */
export async function withSim<T>(options: SimOptions, fn: (sim: Sim) => Promise<T>): Promise<T> {
  const sim = await startSim({ ...FAST, ...options });
  try {
    return await fn(sim);
  } finally {
    await sim.stop();
  }
}

export interface ApiResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** One API call; token defaults to the owner's; pass null for none. */
export async function api<T = any>(
  sim: Sim,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = sim.ownerToken,
  headers: Record<string, string> = {},
): Promise<ApiResult<T>> {
  const h: Record<string, string> = { ...headers };
  if (token !== null) h["Coder-Session-Token"] = token;
  if (body !== undefined) h["Content-Type"] = "application/json";
  const res = await fetch(sim.url + path, { method, headers: h, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Poll until check returns a truthy value (or throw after timeoutMs). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

export async function templateId(sim: Sim, name: string): Promise<string> {
  const r = await api<{ id: string }>(sim, "GET", `/api/v2/organizations/coder/templates/${name}`);
  if (r.status !== 200) throw new Error(`template ${name}: HTTP ${r.status}`);
  return r.body.id;
}

/** Create a workspace for `owner` (default "me") and wait until its agent is connected and ready. */
export async function createRunningWorkspace(sim: Sim, name: string, template = "kubernetes-minimal", owner = "me", token = sim.ownerToken): Promise<any> {
  const tid = await templateId(sim, template);
  const r = await api(sim, "POST", `/api/v2/users/${owner}/workspaces`, { name, template_id: tid }, token);
  if (r.status !== 201) throw new Error(`create workspace ${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return waitFor(`workspace ${name} running with a ready agent`, async () => {
    const w = await api(sim, "GET", `/api/v2/workspaces/${r.body.id}`, undefined, token);
    const agent = w.body.latest_build?.resources?.flatMap((x: any) => x.agents ?? [])[0];
    return w.body.latest_build?.status === "running" && agent?.lifecycle_state === "ready" ? w.body : undefined;
  });
}

/** Whether a TCP connection to the simulator's port is refused right now (it is down, e.g. mid-restart). */
export function refusesConnections(sim: Sim): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: new URL(sim.url).hostname.replace(/^\[|\]$/g, ""), port: sim.port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}
