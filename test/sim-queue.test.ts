// The provisioner queue is real: with 2 daemons and 10 builds of ~1 s, a build's time in the queue
// (job started_at - created_at, read over the REST API) grows with its position. Judged on the server's
// recorded timestamps (orderings and lower bounds), so a slow machine that delays the simulator's timers
// cannot fail it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { api, templateId, waitFor, withSim } from "./helpers/sim.ts";

const MIN_BUILD_MS = 950;

describe("simulated provisioner queue", () => {
  it("queue time grows with position (2 daemons, 10 builds of ~1 s)", async () => {
    await withSim({ daemons: 2, buildDuration: { minMs: MIN_BUILD_MS, maxMs: 1050 }, preexisting: false, seed: 5 }, async (sim) => {
      const tid = await templateId(sim, "kubernetes-minimal");
      // All ten at once, so they are queued within the first builds' second.
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => api(sim, "POST", "/api/v2/users/me/workspaces", { name: `scaletest-q-${String(i).padStart(4, "0")}`, template_id: tid })),
      );
      for (const r of responses) assert.equal(r.status, 201, "coderd answers 201 Created");
      // In queue order: the first two start at once; the rest wait in order.
      const created = responses
        .map((r) => ({ id: r.body.id as string, buildId: r.body.latest_build.id as string, position: r.body.latest_build.job.queue_position as number }))
        .sort((a, b) => a.position - b.position);
      assert.deepEqual(created.map((c) => c.position), [0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
      const last = await api(sim, "GET", `/api/v2/workspacebuilds/${created[9]!.buildId}`);
      assert.equal(last.body.job.status, "pending");
      assert.equal(last.body.job.queue_size, 8);
      const jobs = await waitFor("all 10 builds done", async () => {
        const all = await Promise.all(created.map((c) => api(sim, "GET", `/api/v2/workspacebuilds/${c.buildId}`)));
        return all.every((b) => b.body.job.status === "succeeded") ? all.map((b) => b.body.job) : undefined;
      }, 60_000);
      const createdAt = jobs.map((j) => Date.parse(j.created_at));
      const startedAt = jobs.map((j) => Date.parse(j.started_at));
      const completedAt = jobs.map((j) => Date.parse(j.completed_at));
      const queued = jobs.map((_, i) => startedAt[i]! - createdAt[i]!);
      // Build durations as the server recorded them (its timers may run late on a busy machine, never much early).
      const shortest = Math.min(...jobs.map((_, i) => completedAt[i]! - startedAt[i]!));
      assert.ok(shortest >= MIN_BUILD_MS - 50, `builds take ~1 s; shortest ${shortest} ms`);
      const firstDone = Math.min(...completedAt);
      // The first two started before any build finished; every later one only once a daemon was freed.
      for (const i of [0, 1]) assert.ok(startedAt[i]! < firstDone, `build ${i} started at once`);
      for (let i = 2; i < 10; i++) {
        const finished = completedAt.filter((c) => c <= startedAt[i]!).length;
        assert.ok(finished >= i - 1, `build ${i} started after ${finished} builds had finished; it had to wait for ${i - 1}`);
        // Two daemons: one of the two builds ahead of it had to finish first...
        assert.ok(startedAt[i]! >= Math.min(completedAt[i - 2]!, completedAt[i - 1]!), `build ${i} started before a daemon was free`);
        // ...so its wait exceeds that of the build two places ahead by a whole build, less the time between their creations.
        const atLeast = queued[i - 2]! + shortest - (createdAt[i]! - createdAt[i - 2]!);
        assert.ok(queued[i]! >= atLeast, `build ${i}: queued ${queued[i]} ms, expected >= ${atLeast} ms (${queued.join(", ")})`);
      }
      // Exactly two builds ran at any time: each daemon's jobs do not overlap.
      const byWorker = new Map<string, { s: number; e: number }[]>();
      for (const j of jobs) {
        const list = byWorker.get(j.worker_id) ?? [];
        list.push({ s: Date.parse(j.started_at), e: Date.parse(j.completed_at) });
        byWorker.set(j.worker_id, list);
      }
      assert.equal(byWorker.size, 2);
      for (const list of byWorker.values()) {
        list.sort((a, b) => a.s - b.s);
        for (let i = 1; i < list.length; i++) assert.ok(list[i]!.s >= list[i - 1]!.e, "a daemon ran two jobs at once");
      }
    });
  });
});
