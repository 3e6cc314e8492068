// The simulator's autostart side, as coderd: the weekly schedule grammar and its errors, PUT
// /workspaces/{id}/autostart, the lifecycle executor's eligibility (driven with runOnce(at), no waiting for
// the clock), and the build watch streams (watch-all-workspacebuilds behind its experiment, watch-ws).
import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";
import { parseWeekly, ScheduleError } from "../sim/schedule.ts";
import { api, waitFor, withSim, type Sim } from "./helpers/sim.ts";

const WEEKLY = "validate weekly schedule: expected schedule to consist of 5 fields with an optional CRON_TZ=<timezone> prefix";

test("schedule grammar: Coder's accepted forms and its error texts", () => {
  const s = parseWeekly("CRON_TZ=UTC 12 14 * * *");
  assert.equal(s.tz, "UTC");
  // Next is strictly after, minute granular.
  const t0 = Date.UTC(2026, 0, 5, 14, 11, 30);
  assert.equal(s.next(t0), Date.UTC(2026, 0, 5, 14, 12));
  assert.equal(s.next(Date.UTC(2026, 0, 5, 14, 12)), Date.UTC(2026, 0, 6, 14, 12));
  // No CRON_TZ: UTC. Weekday lists and ranges.
  const wk = parseWeekly("30 9 * * 1-5");
  assert.equal(wk.next(Date.UTC(2026, 0, 3, 0, 0)), Date.UTC(2026, 0, 5, 9, 30)); // Sat -> Mon
  // A time zone shifts the wall clock.
  const ny = parseWeekly("CRON_TZ=America/New_York 0 9 * * *");
  assert.equal(ny.next(Date.UTC(2026, 0, 5, 0, 0)), Date.UTC(2026, 0, 5, 14, 0));
  const bad: [string, string][] = [
    ["asdf asdf asdf ", WEEKLY],
    ["CRON_TZ=Europe/Dublin 30 9 *", WEEKLY],
    ["CRON_TZ=Imaginary/Place 30 9 * * 1-5", "parse schedule: provided bad location Imaginary/Place: unknown time zone Imaginary/Place"],
    ["CRON_TZ=Local 30 9 * * 1-5", "schedules scoped to time.Local are not supported"],
    ["30 9 1 * *", "validate weekly schedule: expected day-of-month and month to be *"],
    ["61 9 * * *", "parse schedule: end of range (61) above maximum (59): 61"],
    ["x 9 * * *", 'parse schedule: failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
  ];
  for (const [raw, msg] of bad) {
    assert.throws(() => parseWeekly(raw), (e: unknown) => e instanceof ScheduleError && e.message === msg, raw);
  }
});

async function stoppedWorkspace(sim: Sim): Promise<{ id: string; name: string }> {
  const tpl = (await api(sim, "GET", "/api/v2/templates")).body.find((t: { name: string }) => t.name === "kubernetes-minimal");
  const created = await api(sim, "POST", "/api/v2/users/me/workspaces", { name: `scaletest-t-${Math.floor(Math.random() * 1e6)}`, template_id: tpl.id });
  assert.equal(created.status, 201);
  const id: string = created.body.id;
  await waitFor("start build", async () => (await api(sim, "GET", `/api/v2/workspaces/${id}`)).body.latest_build.job.status === "succeeded");
  assert.equal((await api(sim, "POST", `/api/v2/workspaces/${id}/builds`, { transition: "stop" })).status, 201);
  await waitFor("stop build", async () => (await api(sim, "GET", `/api/v2/workspaces/${id}`)).body.latest_build.status === "stopped");
  return { id, name: created.body.name };
}

test("PUT autostart: 204 and reflected; a bad schedule is 400 with the cron error on `schedule`", async () => {
  await withSim({ autobuildPollIntervalMs: 0 }, async (sim) => {
    const ws = await stoppedWorkspace(sim);
    const ok = await api(sim, "PUT", `/api/v2/workspaces/${ws.id}/autostart`, { schedule: "CRON_TZ=UTC 12 14 * * *" });
    assert.equal(ok.status, 204);
    assert.equal((await api(sim, "GET", `/api/v2/workspaces/${ws.id}`)).body.autostart_schedule, "CRON_TZ=UTC 12 14 * * *");
    const bad = await api(sim, "PUT", `/api/v2/workspaces/${ws.id}/autostart`, { schedule: "CRON_TZ=Nowhere/Land 1 2 * * *" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, "Invalid autostart schedule.");
    assert.deepEqual(bad.body.validations, [{ field: "schedule", detail: "parse schedule: provided bad location Nowhere/Land: unknown time zone Nowhere/Land" }]);
    // Empty clears it.
    assert.equal((await api(sim, "PUT", `/api/v2/workspaces/${ws.id}/autostart`, { schedule: "" })).status, 204);
    assert.equal((await api(sim, "GET", `/api/v2/workspaces/${ws.id}`)).body.autostart_schedule, undefined);
  });
});

test("lifecycle executor: starts a stopped workspace once the tick reaches its schedule, reason autostart", async () => {
  await withSim({ autobuildPollIntervalMs: 0 }, async (sim) => {
    const ws = await stoppedWorkspace(sim);
    const stopCreated = Date.parse((await api(sim, "GET", `/api/v2/workspaces/${ws.id}`)).body.latest_build.created_at);
    const due = Math.floor(stopCreated / 60_000) * 60_000 + 3 * 60_000;
    const d = new Date(due);
    await api(sim, "PUT", `/api/v2/workspaces/${ws.id}/autostart`, { schedule: `CRON_TZ=UTC ${d.getUTCMinutes()} ${d.getUTCHours()} * * *` });
    assert.deepEqual(sim.lifecycle.runOnce(due - 1), [], "not before the scheduled minute");
    const started = sim.lifecycle.runOnce(due + 500);
    assert.equal(started.length, 1);
    assert.equal(started[0]!.scheduled_for, due);
    assert.equal(started[0]!.workspace_id, ws.id);
    const w = (await api(sim, "GET", `/api/v2/workspaces/${ws.id}`)).body;
    assert.equal(w.latest_build.transition, "start");
    assert.equal(w.latest_build.reason, "autostart");
    // Not started twice: the latest build is now a start.
    assert.deepEqual(sim.lifecycle.runOnce(due + 1000), []);
    await waitFor("autostart build", async () => (await api(sim, "GET", `/api/v2/workspaces/${ws.id}`)).body.latest_build.status === "running");
  });
});

function collect(url: string, token: string, into: unknown[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const sock = new WebSocket(url, { headers: { "Coder-Session-Token": token } });
    sock.on("message", (d) => into.push(JSON.parse(String(d))));
    sock.once("open", () => resolve(sock));
    sock.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    sock.once("error", reject);
  });
}

test("watch streams: watch-all-workspacebuilds sends each build state change; watch-ws sends the workspace", async () => {
  await withSim({ autobuildPollIntervalMs: 0 }, async (sim) => {
    const ws = await stoppedWorkspace(sim);
    const all: any[] = [];
    const one: any[] = [];
    const a = await collect(`${sim.url.replace("http", "ws")}/api/experimental/watch-all-workspacebuilds`, sim.ownerToken, all);
    const b = await collect(`${sim.url.replace("http", "ws")}/api/v2/workspaces/${ws.id}/watch-ws`, sim.ownerToken, one);
    await waitFor("initial watch-ws frame", () => one.length >= 1);
    assert.equal(one[0].type, "data");
    assert.equal(one[0].data.id, ws.id);
    await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "start" });
    await waitFor("succeeded update", () => all.some((m) => m.job_status === "succeeded"));
    const mine = all.filter((m) => m.workspace_id === ws.id);
    assert.deepEqual(mine.map((m) => m.job_status), ["pending", "running", "succeeded"]);
    assert.deepEqual(Object.keys(mine[0]).sort(), ["build_id", "build_number", "job_status", "transition", "workspace_id"]);
    assert.equal(mine[0].transition, "start");
    await waitFor("running workspace on watch-ws", () => one.some((m) => m.data.latest_build.status === "running"));
    a.close();
    b.close();
  });
});

test("watch-all-workspacebuilds without its experiment: 403 naming it", async () => {
  await withSim({ autobuildPollIntervalMs: 0, experiments: [] }, async (sim) => {
    await assert.rejects(collect(`${sim.url.replace("http", "ws")}/api/experimental/watch-all-workspacebuilds`, sim.ownerToken, []), /HTTP 403/);
    assert.equal(sim.watch.counts().allBuildsRefused, 1);
  });
});
