// The provisioner queue is real: with 2 daemons and 10 builds of ~1 s, a build's time in the queue
// (job started_at - created_at, read over the REST API) grows with its position.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { api, templateId, waitFor, withSim } from "./helpers/sim.ts";

describe("simulated provisioner queue", () => {
  it("queue time grows with position (2 daemons, 10 builds of ~1 s)", async () => {
    await withSim({ daemons: 2, buildDuration: { minMs: 950, maxMs: 1050 }, preexisting: false, seed: 5 }, async (sim) => {
      const tid = await templateId(sim, "kubernetes-minimal");
      const created: { id: string; buildId: string; position: number }[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await api(sim, "POST", "/api/v2/users/me/workspaces", { name: `scaletest-q-${String(i).padStart(4, "0")}`, template_id: tid });
        assert.equal(r.status, 200);
        created.push({ id: r.body.id, buildId: r.body.latest_build.id, position: r.body.latest_build.job.queue_position });
      }
      // The first two start at once; the rest wait in order.
      assert.deepEqual(created.map((c) => c.position), [0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
      const mid = await api(sim, "GET", `/api/v2/workspacebuilds/${created[9]!.buildId}`);
      assert.equal(mid.body.job.status, "pending");
      assert.equal(mid.body.job.queue_size, 8);
      const jobs = await waitFor("all 10 builds done", async () => {
        const all = await Promise.all(created.map((c) => api(sim, "GET", `/api/v2/workspacebuilds/${c.buildId}`)));
        return all.every((b) => b.body.job.status === "succeeded") ? all.map((b) => b.body.job) : undefined;
      }, 15_000);
      const queued = jobs.map((j) => Date.parse(j.started_at) - Date.parse(j.created_at));
      // Build i waits about floor(i/2) build durations.
      for (let i = 0; i < 10; i++) {
        const expected = Math.floor(i / 2) * 1000;
        assert.ok(Math.abs(queued[i]! - expected) < 400, `build ${i}: queued ${queued[i]} ms, expected ~${expected} ms`);
      }
      for (let i = 2; i < 10; i++) assert.ok(queued[i]! > queued[i - 2]! + 500, `queue time must grow with position (${queued.join(", ")})`);
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
