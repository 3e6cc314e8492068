// One user's stream reader, as Coder's watchWorkspaceUpdates: remember when each workspace name was last
// upserted, and once as many distinct names as the user owns have been seen, each workspace's latency is
// (last upsert seen for its name) - (its build start). A name that is not one of the user's created
// workspaces fails the user with `unexpected_workspace`; a stream that ends or fails first, with `recv`.
import type { WorkspaceUpdate } from "../coder/tailnet/index.ts";
import type { WorkspaceUpdatesAction } from "./types.ts";

export interface WatchResult {
  ok: boolean;
  action: WorkspaceUpdatesAction | null;
  error: string | null;
  /** Latency per workspace name (ms), filled when ok. */
  latencies: Map<string, number>;
  upserts: Map<string, number>;
  updates: number;
}

/**
 * Reads `stream` until `expected` distinct names were upserted. `buildStarts` (name -> performance.now()
 * before its create call) is read at completion time, so it may still be filling while the stream is read.
 * `now` is injectable for tests.
 */
export async function watchWorkspaceUpdates(
  stream: AsyncIterable<WorkspaceUpdate>,
  expected: number,
  buildStarts: ReadonlyMap<string, number>,
  now: () => number = () => performance.now(),
): Promise<WatchResult> {
  const seen = new Map<string, number>();
  const upserts = new Map<string, number>();
  let updates = 0;
  const fail = (action: WorkspaceUpdatesAction, error: string): WatchResult => ({ ok: false, action, error, latencies: new Map(), upserts, updates });
  try {
    for await (const update of stream) {
      const at = now();
      updates++;
      for (const ws of update.upsertedWorkspaces) {
        seen.set(ws.name, at);
        upserts.set(ws.name, (upserts.get(ws.name) ?? 0) + 1);
      }
      if (seen.size !== expected) continue;
      const latencies = new Map<string, number>();
      for (const [name, t] of seen) {
        const start = buildStarts.get(name);
        if (start === undefined) return fail("unexpected_workspace", `received update for unexpected workspace "${name}"`);
        latencies.set(name, t - start);
      }
      return { ok: true, action: null, error: null, latencies, upserts, updates };
    }
  } catch (e) {
    return fail("recv", `receive workspace update: ${(e as Error).message}`);
  }
  return fail("recv", `receive workspace update: the stream ended after ${updates} update(s) with ${seen.size} of ${expected} workspace(s) seen`);
}
