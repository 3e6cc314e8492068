// Behaviour of the simulated deployment: auth, workspace lifecycle, parameters, permissions,
// search, user deletion rules, faults, determinism, restart, and pre-existing data left intact.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startSim } from "../sim/index.ts";
import { tarFiles } from "../src/util/tar.ts";
import { api, createRunningWorkspace, refusesConnections, templateId, waitFor, withSim } from "./helpers/sim.ts";
import { until } from "./helpers/until.ts";

describe("simulated Coder deployment", () => {
  it("authenticates by header, cookie and query parameter; 401 otherwise", async () => {
    await withSim({}, async (sim) => {
      assert.equal((await api(sim, "GET", "/api/v2/buildinfo", undefined, null)).status, 200);
      const none = await api(sim, "GET", "/api/v2/users/me", undefined, null);
      assert.equal(none.status, 401);
      assert.deepEqual(Object.keys(none.body).sort(), ["detail", "message"]);
      assert.equal((await api(sim, "GET", "/api/v2/users/me", undefined, "0123456789-0123456789012345678901")).status, 401);
      const cookie = await fetch(`${sim.url}/api/v2/users/me`, { headers: { Cookie: `coder_session_token=${sim.ownerToken}` } });
      assert.equal(cookie.status, 200);
      const query = await fetch(`${sim.url}/api/v2/users/me?coder_session_token=${sim.ownerToken}`);
      assert.equal(((await query.json()) as { username: string }).username, "admin");
      assert.equal((await api(sim, "GET", "/api/v2/nope")).status, 404);
    });
  });

  it("runs a workspace through start, stop and delete like Coder", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const ws = await createRunningWorkspace(sim, "scaletest-life-0001", "kubernetes-small");
      assert.equal(ws.latest_build.build_number, 1);
      assert.equal(ws.latest_build.transition, "start");
      const agent = ws.latest_build.resources.flatMap((r: any) => r.agents)[0];
      assert.equal(agent.name, "main");
      assert.equal(agent.status, "connected");
      assert.deepEqual(ws.latest_build.resources.map((r: any) => r.name).sort(), ["home", "main"]);
      const params = ws.latest_build.job && (await api(sim, "GET", `/api/v2/workspacebuilds/${ws.latest_build.id}/logs`)).body;
      assert.ok(params.length > 0 && params.every((l: any) => typeof l.id === "number"));
      // A second build while one is active conflicts. The first stop's job stays queued (a count-limited
      // fault), so it is still active however slowly this test runs; canceling it ends it.
      sim.faults.set({ build: { stuckPendingCount: 1 } });
      const held = await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "stop" });
      assert.equal(held.status, 201, "a build is created: 201, as coderd");
      assert.equal(held.body.build_number, 2);
      assert.equal((await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "start" })).status, 409);
      assert.equal((await api(sim, "PATCH", `/api/v2/workspacebuilds/${held.body.id}/cancel`)).status, 200);
      assert.equal((await api(sim, "GET", `/api/v2/workspacebuilds/${held.body.id}`)).body.status, "canceled");
      const stop = await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "stop" });
      assert.equal(stop.status, 201);
      assert.equal(stop.body.build_number, 3);
      await waitFor("stopped", async () => (await api(sim, "GET", `/api/v2/workspaces/${ws.id}`)).body.latest_build.status === "stopped");
      const builds = await api(sim, "GET", `/api/v2/workspaces/${ws.id}/builds`);
      assert.deepEqual(builds.body.map((b: any) => b.build_number), [3, 2, 1], "newest first");
      assert.equal((await api(sim, "GET", `/api/v2/workspaceagents/${agent.id}`)).body.status, "disconnected");
      const del = await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "delete" });
      assert.equal(del.body.build_number, 4);
      await waitFor("deleted", async () => (await api(sim, "GET", `/api/v2/workspaces/${ws.id}`)).status === 410);
      assert.equal((await api(sim, "GET", `/api/v2/workspaces/${ws.id}?include_deleted=true`)).body.latest_build.status, "deleted");
      assert.equal((await api(sim, "GET", "/api/v2/workspaces")).body.count, 0);
      assert.equal(sim.counts().workspaces, 0);
    });
  });

  it("validates rich parameters, names and duplicates like Coder", async () => {
    await withSim({}, async (sim) => {
      const small = await templateId(sim, "kubernetes-small");
      const create = (body: object) => api(sim, "POST", "/api/v2/users/me/workspaces", { name: "scaletest-p-0001", template_id: small, ...body });
      const fields = (r: any) => (r.body.validations ?? []).map((v: any) => v.field).sort();
      let r = await create({ rich_parameter_values: [{ name: "gpu", value: "1" }] });
      assert.equal(r.status, 400);
      assert.deepEqual(fields(r), ["gpu"]);
      r = await create({ rich_parameter_values: [{ name: "home_disk_size", value: "100000" }, { name: "cpu", value: "3" }, { name: "memory", value: "lots" }] });
      assert.equal(r.status, 400);
      assert.deepEqual(fields(r), ["cpu", "home_disk_size", "memory"]);
      assert.ok(r.body.validations.every((v: any) => typeof v.detail === "string" && v.detail.length > 0));
      const dev = await templateId(sim, "docker-dev");
      r = await api(sim, "POST", "/api/v2/users/me/workspaces", { name: "scaletest-p-0002", template_id: dev });
      assert.equal(r.status, 400, "required parameter without default");
      assert.deepEqual(fields(r), ["repo_url"]);
      r = await api(sim, "POST", "/api/v2/users/me/workspaces", { name: "scaletest-p-0002", template_id: dev, rich_parameter_values: [{ name: "repo_url", value: "ftp://x" }, { name: "dotfiles", value: "yes" }] });
      assert.deepEqual(fields(r), ["dotfiles", "repo_url"]);
      r = await create({ name: "Not A Valid Name!" });
      assert.equal(r.status, 400);
      r = await create({ template_id: "5b4c3a8e-4b1e-4c1f-9a7d-000000000000" });
      assert.equal(r.status, 400);
      assert.deepEqual(fields(r), ["template_id"]);
      r = await create({ rich_parameter_values: [{ name: "cpu", value: "4" }] });
      assert.equal(r.status, 201, "a workspace is created: 201, as coderd");
      const p = (await api(sim, "GET", `/api/v2/workspacebuilds/${r.body.latest_build.id}`)).body;
      assert.equal(p.workspace_name, "scaletest-p-0001");
      assert.equal((await create({})).status, 409);
      await waitFor("build done", async () => (await api(sim, "GET", `/api/v2/workspaces/${r.body.id}`)).body.latest_build.status === "running");
      assert.equal((await api(sim, "POST", `/api/v2/workspaces/${r.body.id}/builds`, { transition: "delete" })).status, 201);
    });
  });

  it("keeps members to their own workspaces; 417 when deleting a user with workspaces", async () => {
    await withSim({}, async (sim) => {
      const org = (await api(sim, "GET", "/api/v2/organizations")).body[0].id;
      const before = sim.snapshotPreexisting();
      const u = await api(sim, "POST", "/api/v2/users", { username: "scaletest-m-0001", email: "m1@scaletest.local", password: "Secret-pass1", organization_ids: [org] });
      assert.equal(u.status, 201);
      assert.equal((await api(sim, "POST", "/api/v2/users", { username: "scaletest-m-0001", email: "m1@scaletest.local", password: "Secret-pass1", organization_ids: [org] })).status, 409);
      const tok = await api(sim, "POST", `/api/v2/users/${u.body.id}/keys/tokens`, { token_name: "t1" });
      assert.equal(tok.status, 201);
      const member = tok.body.key as string;
      const me = await api(sim, "GET", "/api/v2/users/me", undefined, member);
      assert.equal(me.body.username, "scaletest-m-0001");
      assert.equal(me.body.status, "active", "dormant users become active when they first authenticate");
      assert.equal((await api(sim, "GET", "/api/v2/workspaces", undefined, member)).body.count, 0);
      assert.equal((await api(sim, "GET", "/api/v2/templates", undefined, member)).body.length, 6);
      assert.equal((await api(sim, "POST", "/api/v2/users", { username: "x", email: "x@x.io", organization_ids: [org] }, member)).status, 403);
      const alice = (await api(sim, "GET", "/api/v2/workspaces?q=owner:alice")).body.workspaces[0];
      assert.equal((await api(sim, "GET", `/api/v2/workspaces/${alice.id}`, undefined, member)).status, 404);
      const ws = await createRunningWorkspace(sim, "scaletest-m-0001", "kubernetes-minimal", "me", member);
      assert.equal(ws.owner_name, "scaletest-m-0001");
      assert.equal((await api(sim, "GET", "/api/v2/workspaces", undefined, member)).body.count, 1);
      const del = await api(sim, "DELETE", `/api/v2/users/${u.body.id}`);
      assert.equal(del.status, 417);
      assert.match(del.body.message, /cannot delete a user that has workspaces/);
      await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "delete" }, member);
      await waitFor("deleted", async () => (await api(sim, "GET", "/api/v2/workspaces?q=owner:scaletest-m-0001")).body.count === 0);
      assert.equal((await api(sim, "DELETE", `/api/v2/users/${u.body.id}`)).status, 200);
      assert.equal((await api(sim, "GET", "/api/v2/users/me", undefined, member)).status, 401, "tokens die with their user");
      assert.equal(sim.snapshotPreexisting(), before);
    });
  });

  it("searches workspaces and users with Coder's q syntax and paginates", async () => {
    await withSim({}, async (sim) => {
      const names = (r: any) => r.body.workspaces.map((w: any) => w.name).sort();
      // name: is a substring match in Coder, so a non-scaletest workspace matches too.
      assert.deepEqual(names(await api(sim, "GET", "/api/v2/workspaces?q=" + encodeURIComponent('name:"scaletest-"'))), ["my-scaletest-box"]);
      assert.deepEqual(names(await api(sim, "GET", "/api/v2/workspaces?q=owner:bob")), ["api"]);
      assert.deepEqual(names(await api(sim, "GET", "/api/v2/workspaces?q=status:stopped")), ["my-scaletest-box"]);
      assert.equal((await api(sim, "GET", "/api/v2/workspaces?q=bogus:1")).status, 400);
      const all = await api(sim, "GET", "/api/v2/workspaces?limit=2");
      assert.equal(all.body.count, 5);
      assert.equal(all.body.workspaces.length, 2);
      const users = await api(sim, "GET", "/api/v2/users?q=" + encodeURIComponent("scaletest"));
      assert.deepEqual(users.body.users.map((u: any) => u.username), ["scaletest"]);
      const page = await api(sim, "GET", "/api/v2/users?limit=2");
      assert.equal(page.body.count, 5);
      const next = await api(sim, "GET", `/api/v2/users?limit=2&after_id=${page.body.users[1].id}`);
      assert.notEqual(next.body.users[0].id, page.body.users[1].id);
      assert.equal((await api(sim, "GET", "/api/v2/users?q=status:suspended")).body.count, 0);
    });
  });

  it("injects HTTP faults (429 with Retry-After, bypass header), latency and build faults", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.faults.set({ http: [{ method: "GET", path: "/api/v2/users/*", status: 429, rate: 1, retryAfterSec: 2 }] });
      const limited = await api(sim, "GET", "/api/v2/users/me");
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get("retry-after"), "2");
      assert.equal(typeof limited.body.message, "string");
      assert.equal((await api(sim, "GET", "/api/v2/users/me", undefined, sim.ownerToken, { "X-Coder-Bypass-Ratelimit": "true" })).status, 200);
      sim.faults.set({ http: [{ path: "/api/v2/buildinfo", status: 503, rate: 0.5 }] });
      const statuses = await Promise.all(Array.from({ length: 40 }, () => api(sim, "GET", "/api/v2/buildinfo").then((r) => r.status)));
      const errors = statuses.filter((s) => s === 503).length;
      assert.ok(errors > 5 && errors < 35, `about half should fail, got ${errors}/40`);
      sim.faults.set({ http: [], latency: [{ path: "/api/v2/buildinfo", latencyMs: 150 }] });
      const t0 = Date.now();
      await api(sim, "GET", "/api/v2/buildinfo");
      assert.ok(Date.now() - t0 >= 140);
      sim.faults.clear();

      const tid = await templateId(sim, "kubernetes-minimal");
      sim.faults.set({ build: { failRate: 1 } });
      const failed = await api(sim, "POST", "/api/v2/users/me/workspaces", { name: "scaletest-f-0001", template_id: tid });
      const done = await waitFor("failed build", async () => {
        const b = await api(sim, "GET", `/api/v2/workspacebuilds/${failed.body.latest_build.id}`);
        return b.body.status === "failed" ? b.body : undefined;
      });
      assert.ok(done.job.error);
      const logs = (await api(sim, "GET", `/api/v2/workspacebuilds/${done.id}/logs`)).body;
      assert.ok(logs.some((l: any) => l.log_level === "error" && /Error/.test(l.output)));
      sim.faults.set({ build: { failRate: 0, stuckPendingRate: 1 } });
      const stuck = await api(sim, "POST", "/api/v2/users/me/workspaces", { name: "scaletest-f-0002", template_id: tid });
      // A job queued after the stuck one gets a daemon and finishes: the daemons were free, yet passed it over.
      sim.faults.set({ build: { stuckPendingRate: 0 } });
      const later = await createRunningWorkspace(sim, "scaletest-f-0003", "kubernetes-minimal");
      assert.equal(later.latest_build.status, "running");
      const pending = await api(sim, "GET", `/api/v2/workspaces/${stuck.body.id}`);
      assert.equal(pending.body.latest_build.status, "pending");
      assert.equal(pending.body.latest_build.job.queue_position, 1);
      const cancel = await api(sim, "PATCH", `/api/v2/workspacebuilds/${stuck.body.latest_build.id}/cancel`);
      assert.equal(cancel.status, 200);
      assert.equal((await api(sim, "GET", `/api/v2/workspaces/${stuck.body.id}`)).body.latest_build.status, "canceled");
      assert.equal((await api(sim, "PATCH", `/api/v2/workspacebuilds/${stuck.body.latest_build.id}/cancel`)).status, 400);
      assert.equal(sim.faults.injected.stuckPending, 1);
    });
  });

  it("is deterministic for a seed and keeps its state across a restart", async () => {
    const a = await startSim({ seed: 42 });
    const b = await startSim({ seed: 42 });
    try {
      assert.equal(a.ownerToken, b.ownerToken);
      assert.equal(a.snapshotPreexisting(), b.snapshotPreexisting());
      const c = await startSim({ seed: 43 });
      assert.notEqual(c.ownerToken, a.ownerToken);
      await c.stop();
      const before = a.snapshotPreexisting();
      const restarts = a.faults.injected.restarts;
      const downMs = 1000;
      const t0 = Date.now();
      // Down long enough for the checks below to land in the window even on a busy machine.
      const restarting = a.restart(downMs);
      await until(() => refusesConnections(a), { what: "the simulator to refuse connections while restarting", timeoutMs: 20_000 });
      await assert.rejects(fetch(`${a.url}/api/v2/buildinfo`));
      await restarting;
      assert.ok(Date.now() - t0 >= downMs, `down for at least ${downMs} ms`);
      assert.equal(a.faults.injected.restarts, restarts + 1);
      const me = await api(a, "GET", "/api/v2/users/me");
      assert.equal(me.status, 200);
      assert.equal(a.snapshotPreexisting(), before);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
  it("registers every route once; one template upload feeds presets, the external agent, parameters and the delete notice", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const routes = sim.core.router.list().map((r) => `${r.method} ${r.pattern}`);
      assert.deepEqual(routes.filter((r, i) => routes.indexOf(r) !== i), [], "routes registered more than once");
      const tf = [
        'data "coder_parameter" "size" {\n  name = "size"\n  default = "s"\n  option {\n    name = "S"\n    value = "s"\n  }\n}',
        'data "coder_workspace_preset" "p" {\n  name = "one"\n  prebuilds {\n    instances = 0\n  }\n}',
        'resource "coder_external_agent" "main" {\n  agent_id = "x"\n}',
        'resource "coder_app" "web" {\n  slug = "web"\n}',
      ].join("\n");
      const data = new Uint8Array(tarFiles({ "main.tf": tf }));
      const post = (body: Uint8Array<ArrayBuffer>) => fetch(`${sim.url}/api/v2/files`, { method: "POST", headers: { "Coder-Session-Token": sim.ownerToken, "Content-Type": "application/x-tar" }, body });
      const first = await post(data);
      assert.equal(first.status, 201);
      const { hash: fileId } = (await first.json()) as { hash: string };
      const again = await post(data);
      assert.equal(again.status, 200);
      assert.equal(((await again.json()) as { hash: string }).hash, fileId);
      const org = (await api(sim, "GET", "/api/v2/organizations")).body[0].id;
      sim.dynamicParameters.importMs = 50;
      const v = await api(sim, "POST", `/api/v2/organizations/${org}/templateversions`, { storage_method: "file", file_id: fileId, provisioner: "terraform" });
      assert.equal(v.status, 201);
      assert.equal(v.body.job.status, "pending");
      assert.equal(v.body.has_external_agent, true);
      await waitFor("import", async () => (await api(sim, "GET", `/api/v2/templateversions/${v.body.id}`)).body.job.status === "succeeded");
      const presets = await api(sim, "GET", `/api/v2/templateversions/${v.body.id}/presets`);
      assert.deepEqual(presets.body.map((p: { name: string }) => p.name), ["one"]);
      const t = await api(sim, "POST", `/api/v2/organizations/${org}/templates`, { name: "scaletest-one-0001", template_version_id: v.body.id });
      assert.equal(t.status, 201);
      assert.equal(sim.state.templates.get(t.body.id)?.externalAgent, true);
      // Each listener heard the same writes once.
      assert.deepEqual([sim.templateWrites.counts.uploads, sim.templateWrites.counts.versions, sim.templateWrites.counts.templates], [1, 1, 1]);
      assert.deepEqual([sim.dynamicParameters.counts.uploads, sim.dynamicParameters.counts.versions, sim.dynamicParameters.counts.templates], [1, 1, 1]);
      // Promotion wants an imported version of the same template; a failing import is refused.
      sim.dynamicParameters.importFails = true;
      const bad = await api(sim, "POST", `/api/v2/organizations/${org}/templateversions`, { storage_method: "file", file_id: fileId, provisioner: "terraform", template_id: t.body.id });
      await waitFor("failed import", async () => (await api(sim, "GET", `/api/v2/templateversions/${bad.body.id}`)).body.job.status === "failed");
      assert.equal((await api(sim, "GET", `/api/v2/templateversions/${bad.body.id}`)).body.job.error, "terraform init failed");
      assert.equal((await api(sim, "PATCH", `/api/v2/templates/${t.body.id}/versions`, { id: bad.body.id })).status, 400);
      assert.equal((await api(sim, "PATCH", `/api/v2/templates/${t.body.id}/versions`, { id: v.body.id })).status, 200);
      // Deleting it notifies the template admins (not the initiator); a template still in use is refused.
      const admin = await api(sim, "POST", "/api/v2/users", { email: "scaletest-ta@example.com", username: "scaletest-ta", login_type: "none", organization_ids: [org] });
      assert.equal(admin.status, 201);
      assert.equal((await api(sim, "PUT", `/api/v2/users/${admin.body.id}/roles`, { roles: ["template-admin"] })).status, 200);
      const before = sim.notifier.counts().enqueued;
      const del = await api(sim, "DELETE", `/api/v2/templates/${t.body.id}`);
      assert.equal(del.status, 200);
      assert.equal((await api(sim, "GET", `/api/v2/templates/${t.body.id}`)).status, 404);
      assert.equal(sim.templateWrites.counts.deletes, 1);
      assert.equal(sim.notifier.counts().enqueued, before + 1);
      const ws = await createRunningWorkspace(sim, "scaletest-used-0001", "kubernetes-small");
      const refused = await api(sim, "DELETE", `/api/v2/templates/${ws.template_id}`);
      assert.equal(refused.status, 400);
      assert.match(refused.body.message, /All workspaces must be deleted/);
      assert.equal(sim.notifier.counts().enqueued, before + 1);
    });
  });
});
