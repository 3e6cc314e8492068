// API mode sends what Coder's frontend sends (src/dashboard/frontend-requests.ts), read back from the simulator's
// request log: a page load's global requests once per session (site authcheck, organizations + their authcheck,
// notifications inbox and its websocket; deployment stats, health and update check only with the permission),
// each page's requests (per-page authchecks included), the polls while a page stays open, the websockets it holds,
// and none of what the frontend does not send (no build list, no build's template version, no status:active).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { runApiVisitor } from "../src/dashboard/api-mode.ts";
import { WS_AGENT_LOGS, WS_AGENT_METADATA, WS_BUILD_LOGS, WS_INBOX, WS_WORKSPACE } from "../src/dashboard/frontend-requests.ts";
import type { PageName } from "../src/dashboard/pages.ts";
import { DashboardRecorder } from "../src/dashboard/recorder.ts";
import { dashboardSocketsHtml, dashboardSocketsMarkdown } from "../src/report/dashboard.ts";
import type { ReportPhase } from "../src/report/model.ts";
import { createScaletestUsers, ownerClient } from "./helpers/dashboard.ts";
import { api, waitFor, withSim, type Sim } from "./helpers/sim.ts";
import type { LoggedRequest } from "../sim/core.ts";

const controllers: AbortController[] = [];
after(() => controllers.forEach((c) => c.abort()));

/** A generator that returns `seq` in order, then `rest` (long pauses: the last page stays open). */
function scripted(seq: number[], rest = 0.99): () => number {
  let i = 0;
  return () => (i < seq.length ? seq[i++]! : rest);
}

/** Starts one API-mode visitor; `stop()` ends it and resolves when it has left its last page. */
function visit(sim: Sim, o: { username: string; owner: boolean; token: string; pages: PageName[]; random: () => number; pollMs?: number }) {
  const ctl = new AbortController();
  controllers.push(ctl);
  const recorder = new DashboardRecorder("api");
  const done = runApiVisitor({
    url: sim.url,
    identity: { username: o.username, owner: o.owner, token: o.token },
    recorder,
    deadline: Date.now() + 60_000,
    signal: ctl.signal,
    // Pauses are random() x think time: 0 moves on at once, 0.99 stays until stopped (bounded by the deadline).
    thinkTimeMs: 50_000,
    requestTimeoutMs: 10_000,
    random: o.random,
    pages: o.pages,
    intervals: { workspacesPollMs: o.pollMs ?? 150, healthPollMs: o.pollMs ?? 150 },
  });
  return {
    recorder,
    stop: async () => {
      ctl.abort();
      await done;
    },
  };
}

/** What `user` sent from request-log index `from` on (the test's own setup calls come before it). */
const logOf = (sim: Sim, user: string, from: number): LoggedRequest[] => sim.core.requestLog.slice(from).filter((r) => r.user === user);
const line = (r: LoggedRequest): string => `${r.method} ${r.path.replace(/^\/api\/v2/, "")}${r.query ? `?${r.query}` : ""}`;
const count = (log: LoggedRequest[], re: RegExp): number => log.map(line).filter((l) => re.test(l)).length;

async function memberWithWorkspace(sim: Sim, runId: string): Promise<{ username: string; token: string; workspaceId: string }> {
  const client = ownerClient(sim);
  try {
    const [username] = await createScaletestUsers(client, runId, 1);
    const { key } = await client.createToken(username!, { token_name: "dash", lifetime: 3600e9 });
    const ws = await waitFor("the member's workspace running with a ready agent", async () => {
      const w = await api(sim, "GET", `/api/v2/users/${username}/workspace/${username}`);
      const agent = w.body.latest_build?.resources?.flatMap((x: any) => x.agents ?? [])[0];
      return w.body.latest_build?.status === "running" && agent?.lifecycle_state === "ready" ? w.body : undefined;
    });
    return { username: username!, token: key, workspaceId: ws.id };
  } finally {
    await client.close();
  }
}

// What a member's browser may send on the workspaces and workspace pages; anything else is a request the
// frontend does not make.
const MEMBER_REQUESTS = [
  /^POST \/authcheck$/,
  /^GET \/organizations$/,
  /^GET \/notifications\/inbox$/,
  /^GET \/notifications\/inbox\/watch\?read_status=unread$/,
  /^GET \/workspaces\?q=owner%3Ame&limit=25&offset=0$/,
  /^GET \/templates$/,
  /^POST \/users\/me\/keys$/,
  /^GET \/users\/[^/]+\/workspace\/[^/?]+\?include_deleted=true$/,
  /^GET \/templates\/[0-9a-f-]{36}$/,
  /^GET \/workspaces\/[0-9a-f-]{36}\/(watch-ws|resolve-autostart)$/,
  /^GET \/workspacebuilds\/[0-9a-f-]{36}\/(parameters|timings)$/,
  /^GET \/workspaceagents\/[0-9a-f-]{36}\/watch-metadata-ws$/,
  /^GET \/deployment\/ssh$/,
];

test("a member: global requests once, the workspaces list polled while open, the workspace page's requests and websockets held", async () => {
  await withSim({}, async (sim) => {
    const m = await memberWithWorkspace(sim, "dreq1");
    const from = sim.core.requestLog.length;
    // Land on workspaces, move on at once to the workspace page (pick 0.99 of [workspaces, workspace], its one
    // target), stay there.
    const v = visit(sim, { ...m, owner: false, pages: ["workspaces", "workspace"], random: scripted([0, 0, 0.99, 0]) });
    // Open on both ends: the runner counted them opened, the simulator holds them.
    await waitFor("the workspace page's websockets open", () => {
      const s = v.recorder.sockets();
      return [WS_INBOX, WS_WORKSPACE, WS_AGENT_METADATA].every((ep) => s[ep]?.opened === 1) &&
        sim.agentStreams.counts().metadataOpen >= 1 && sim.inboxWatch.counts().open >= 1;
    }, 10_000);
    await waitFor("the workspace page's view recorded", () => (v.recorder.pages()["workspace"]?.count ?? 0) >= 1, 10_000);
    await v.stop();
    const log = logOf(sim, m.username, from);
    const lines = log.map(line);

    // Nothing the frontend does not send — but for our own cleanup after the visit: the session key the
    // workspaces page created is deleted again (one DELETE per key created).
    const keyDeletes = lines.filter((l) => /^DELETE \/users\/me\/keys\/[^/]+$/.test(l));
    assert.equal(keyDeletes.length, count(log, /^POST \/users\/me\/keys$/), "each session key the visit created is deleted after it");
    for (const l of lines) if (!keyDeletes.includes(l)) assert.ok(MEMBER_REQUESTS.some((re) => re.test(l)), `the frontend does not send ${l}`);
    assert.equal(count(log, /\/builds/), 0, "no build list (only the history sidebar loads it)");
    assert.equal(count(log, /^GET \/templateversions\//), 0, "the workspace is not outdated: no template version");
    assert.equal(count(log, /deployment\/stats|updatecheck|debug\/health/), 0, "a member has no permission for the banner's stats, health or update check");

    // Global requests once for the session: the site-wide authcheck, organizations, the inbox and its websocket.
    const checks = sim.dashboardApi.authcheckLog().filter((a) => a.user === m.username);
    const site = checks.filter((a) => "viewDeploymentStats" in a.results);
    assert.equal(site.length, 1, "one site-wide authcheck per page load");
    assert.equal(site[0]!.results["viewDeploymentStats"], false, "evaluated against a member's roles");
    assert.equal(site[0]!.results["createWorkspaceInAnyOrganization"], true, "a member may create its own workspaces");
    assert.equal(count(log, /^GET \/notifications\/inbox$/), 1);
    assert.equal(count(log, /inbox\/watch/), 1);
    assert.equal(log.find((r) => r.path.endsWith("/inbox/watch"))?.upgrade, true);
    // The organization checks: the dashboard's once, the workspaces filter menu's once.
    const org = (await api(sim, "GET", "/api/v2/organizations")).body[0].id as string;
    const orgChecks = checks.filter((a) => `${org}.viewMembers` in a.results);
    assert.equal(orgChecks.length, 2);
    assert.equal(orgChecks[0]!.results[`${org}.viewMembers`], true, "a member reads its organization's members");
    assert.equal(orgChecks[0]!.results[`${org}.editMembers`], false);
    assert.equal(count(log, /^GET \/organizations$/), 2);

    // The workspaces page: its list (polled until left; here it was left at once), templates for the page and
    // its menu, the create permission per organization, a session key for the running workspace's apps.
    assert.ok(count(log, /^GET \/workspaces\?q=owner%3Ame&limit=25&offset=0$/) >= 1);
    assert.equal(count(log, /^GET \/templates$/), 2);
    assert.equal(checks.filter((a) => `${org}.createWorkspaceForUserID` in a.results).length, 1);
    assert.equal(count(log, /^POST \/users\/me\/keys$/), 1);

    // The workspace page: after the workspace, its template, its checks, autostart, parameters, timings (job done),
    // the SSH config for its agent; websockets watch-ws and agent metadata, no build logs (job done), no agent
    // logs (agent ready).
    const wsAt = lines.findIndex((l) => /^GET \/users\/[^/]+\/workspace\//.test(l));
    assert.ok(wsAt >= 0);
    for (const re of [/^GET \/templates\/[0-9a-f-]{36}$/, /resolve-autostart$/, /\/parameters$/, /\/timings$/, /^GET \/deployment\/ssh$/, /watch-ws$/, /watch-metadata-ws$/]) {
      const at = lines.findIndex((l) => re.test(l));
      assert.ok(at > wsAt, `${re} after the workspace was read`);
    }
    const wsChecks = checks.filter((a) => "readWorkspace" in a.results);
    assert.equal(wsChecks.length, 1);
    assert.deepEqual(wsChecks[0]!.results, { readWorkspace: true, updateWorkspace: true, updateWorkspaceVersion: false, deploymentConfig: false, deleteFailedWorkspace: true });
    assert.equal(count(log, /workspacebuilds\/[^/]+\/logs/), 0);
    assert.equal(count(log, /workspaceagents\/[^/]+\/logs/), 0);

    // Websocket counts: each opened once and held until the user left (the visitor stopped); none failed.
    const s = v.recorder.sockets();
    for (const ep of [WS_INBOX, WS_WORKSPACE, WS_AGENT_METADATA]) {
      assert.deepEqual(s[ep], { opened: 1, failed: 0, held: 1, ended: 0 }, ep);
      assert.deepEqual(v.recorder.endpoints()[ep]!.by_status, { "101": 1 }, `${ep}: the handshake is an accepted call`);
    }
    assert.equal(s[WS_BUILD_LOGS], undefined);
    assert.equal(s[WS_AGENT_LOGS], undefined);
    await waitFor("the simulator sees the sockets closed", () => sim.agentStreams.counts().metadataOpen === 0 && sim.inboxWatch.counts().open === 0);
    const pages = v.recorder.pages();
    assert.equal(pages["workspaces"]!.errors + pages["workspace"]!.errors, 0, JSON.stringify(v.recorder.failures()));
  });
});

test("while a page stays open it polls: the workspaces list again and again, and stops when the page is left", async () => {
  await withSim({}, async (sim) => {
    const m = await memberWithWorkspace(sim, "dreq2");
    const me = (await api(sim, "GET", "/api/v2/users/me")).body.username as string;
    const from = sim.core.requestLog.length;
    const list = /^GET \/workspaces\?q=owner%3Ame&limit=25&offset=0$/;
    const v = visit(sim, { ...m, owner: false, pages: ["workspaces"], random: scripted([0]) });
    await waitFor("the list fetched at least 4 times (one load, 3 polls)", () => (v.recorder.endpoints()["GET /workspaces"]?.count ?? 0) >= 4, 10_000);
    await v.stop();
    const log = logOf(sim, m.username, from);
    // The polls repeat the list only: the page's other requests and the global ones went out once.
    assert.equal(count(log, /^GET \/notifications\/inbox$/), 1);
    assert.equal(sim.dashboardApi.authcheckLog().filter((a) => a.user === m.username && "viewAllUsers" in a.results).length, 1);
    assert.equal(count(log, /^GET \/templates$/), 2);
    const polls = count(log, list);
    // Every answered poll is in the endpoint figures (one the stop cut short reached the server but has no answer).
    const recorded = v.recorder.endpoints()["GET /workspaces"]!.count;
    assert.ok(recorded >= 4 && recorded <= polls && polls - recorded <= 1, `${recorded} recorded of ${polls} sent`);
    assert.equal(v.recorder.pages()["workspaces"]!.count, 1, "polls are not page views");
    // The page was left (the session ended): while another user's open page polls 4 more times, this one sends
    // nothing more.
    const canary = visit(sim, { username: me, owner: true, token: sim.ownerToken, pages: ["workspaces"], random: scripted([0]) });
    await waitFor("another open page polled 5 times", () => count(logOf(sim, me, from), list) >= 5, 10_000);
    await canary.stop();
    assert.equal(count(logOf(sim, m.username, from), list), polls, "no poll after the page was left");
  });
});

test("an owner: stats, health and update check once; the health page polled; every admin page's requests", async () => {
  await withSim({}, async (sim) => {
    const me = (await api(sim, "GET", "/api/v2/users/me")).body.username as string;
    const from = sim.core.requestLog.length;
    // [templates, template, users, deployment, health, audit]: visit each once (pause 0 between), stay on health.
    const pick = (i: number) => (i + 0.5) / 6;
    const v = visit(sim, {
      username: me, owner: true, token: sim.ownerToken,
      pages: ["templates", "template", "users", "deployment", "health", "audit"],
      random: scripted([pick(0), 0, pick(1), 0, 0, pick(2), 0, pick(3), 0, pick(5), 0, pick(4)]),
    });
    const log = () => logOf(sim, me, from);
    await waitFor("the health page polled 3 times after its load, the inbox websocket open", () =>
      count(log(), /^GET \/debug\/health\?force=false$/) >= 5 && v.recorder.sockets()[WS_INBOX]?.opened === 1, 10_000);
    await v.stop();
    const lines = log().map(line);
    const has = (re: RegExp, n = 1) => assert.equal(lines.filter((l) => re.test(l)).length, n, `${re} x${n} in\n${lines.join("\n")}`);
    // Global, with the owner's permissions.
    has(/^GET \/deployment\/stats$/);
    has(/^GET \/updatecheck$/);
    has(/^GET \/notifications\/inbox$/);
    const site = sim.dashboardApi.authcheckLog().filter((a) => a.user === me && "viewDeploymentStats" in a.results);
    assert.equal(site.length, 1);
    assert.ok(Object.values(site[0]!.results).every(Boolean), "an owner may do everything");
    // templates
    has(/^GET \/templates\?q=$/);
    has(/^GET \/templates\/examples$/);
    // template: by name, then its active version, its resources and checks; an owner's workspaces of it
    has(/^GET \/organizations\/[^/]+\/templates\/[^/]+$/);
    has(/^GET \/templateversions\/[0-9a-f-]{36}$/);
    has(/^GET \/templateversions\/[0-9a-f-]{36}\/resources$/);
    has(/^GET \/workspaces\?q=template%3A/);
    assert.equal(sim.dashboardApi.authcheckLog().filter((a) => a.user === me && "canUpdateTemplate" in a.results).length, 1);
    // users: no q (no status:active), groups, auth methods, roles, config
    has(/^GET \/users\?limit=25&offset=0$/);
    assert.equal(lines.filter((l) => /^GET \/users\?.*q=/.test(l)).length, 0, "no status:active filter");
    has(/^GET \/groups$/);
    has(/^GET \/users\/authmethods$/);
    has(/^GET \/users\/roles$/);
    has(/^GET \/deployment\/config$/, 2); // users and deployment pages
    // deployment
    has(/^GET \/insights\/daus\?tz_offset=-?\d+$/);
    has(/^GET \/experiments\/available$/);
    // audit: no empty q
    has(/^GET \/audit\?limit=25&offset=0$/);
    // The users menus of templates and audit.
    has(/^GET \/users\?limit=25$/, 2);
    // Not sent by the frontend (embedded in the page or never asked).
    for (const re of [/^GET \/entitlements/, /^GET \/buildinfo/, /^GET \/appearance/, /^GET \/users\/me$/, /^GET \/regions/]) has(re, 0);
    const pages = v.recorder.pages();
    for (const p of ["templates", "template", "users", "deployment", "health", "audit"]) {
      assert.equal(pages[p]?.count, 1, `${p} viewed once`);
      assert.equal(pages[p]!.errors, 0, `${p}: ${JSON.stringify(v.recorder.failures())}`);
    }
    assert.deepEqual(v.recorder.sockets()[WS_INBOX], { opened: 1, failed: 0, held: 1, ended: 0 });
  });
});

test("a workspace still building: its build-log websocket is held, no timings yet; when the build ends the server closes it (ended)", async () => {
  // The build is held pending (fault) so the page surely finds it building, then cancelled to end the stream.
  await withSim({}, async (sim) => {
    sim.faults.set({ build: { stuckPendingRate: 1 } });
    const client = ownerClient(sim);
    let username: string;
    let token: string;
    try {
      [username] = (await createScaletestUsers(client, "dreq4", 1)) as [string];
      token = (await client.createToken(username, { token_name: "dash", lifetime: 3600e9 })).key;
    } finally {
      await client.close();
    }
    sim.faults.clear();
    const from = sim.core.requestLog.length;
    const v = visit(sim, { username, owner: false, token, pages: ["workspaces", "workspace"], random: scripted([0, 0, 0.99, 0]) });
    await waitFor("the build-log and workspace websockets open", () =>
      sim.buildLogs.openCount() >= 1 && v.recorder.sockets()[WS_BUILD_LOGS]?.opened === 1 && v.recorder.sockets()[WS_WORKSPACE]?.opened === 1, 10_000);
    await waitFor("the workspace page's view recorded", () => (v.recorder.pages()["workspace"]?.count ?? 0) >= 1, 10_000);
    const lines = logOf(sim, username, from).map(line);
    assert.equal(lines.filter((l) => /^GET \/workspacebuilds\/[^/]+\/logs\?follow=true&after=-1$/.test(l)).length, 1);
    assert.equal(lines.filter((l) => /\/timings$/.test(l)).length, 0, "timings only once the job is done");
    assert.deepEqual(v.recorder.sockets()[WS_BUILD_LOGS], { opened: 1, failed: 0, held: 0, ended: 0 });
    const ws = (await api(sim, "GET", `/api/v2/users/${username}/workspace/${username}`)).body;
    assert.equal((await api(sim, "PATCH", `/api/v2/workspacebuilds/${ws.latest_build.id}/cancel`)).status, 200);
    await waitFor("the server closed the build-log stream", () => v.recorder.sockets()[WS_BUILD_LOGS]?.ended === 1, 10_000);
    await v.stop();
    assert.deepEqual(v.recorder.sockets()[WS_BUILD_LOGS], { opened: 1, failed: 0, held: 0, ended: 1 });
    assert.deepEqual(v.recorder.sockets()[WS_WORKSPACE], { opened: 1, failed: 0, held: 1, ended: 0 });
  });
});

test("a refused websocket counts as failed and is named in the failures; the report shows the counts", async () => {
  await withSim({}, async (sim) => {
    sim.faults.set({ http: [{ method: "GET", path: "/api/v2/notifications/inbox/watch", status: 503 }] });
    const me = (await api(sim, "GET", "/api/v2/users/me")).body.username as string;
    const v = visit(sim, { username: me, owner: true, token: sim.ownerToken, pages: ["health"], random: scripted([0]) });
    await waitFor("the inbox websocket refused", () => v.recorder.sockets()[WS_INBOX]?.failed === 1, 10_000);
    await waitFor("the health page's view recorded", () => (v.recorder.pages()["health"]?.count ?? 0) >= 1, 10_000);
    await v.stop();
    assert.deepEqual(v.recorder.sockets()[WS_INBOX], { opened: 0, failed: 1, held: 0, ended: 0 });
    // The refused handshake is in the per-endpoint figures too (each injected fault recorded once).
    assert.deepEqual(v.recorder.endpoints()[WS_INBOX]!.by_status, { "503": 1 });
    assert.equal(v.recorder.endpoints()[WS_INBOX]!.errors, 1);
    const f = v.recorder.failures().find((x) => x.error.startsWith(WS_INBOX));
    assert.ok(f, JSON.stringify(v.recorder.failures()));
    assert.match(f.error, /503/);
    assert.ok(!f.error.includes(sim.ownerToken), "no token in the failure");
    // The metric set and the report carry the counts.
    const m = v.recorder.metricSet()["dashboard.websockets"];
    assert.equal(m?.type, "counter");
    const phase = { kind: "dashboard", extra: { dashboard: { websockets: v.recorder.sockets() } } } as unknown as ReportPhase;
    assert.match(dashboardSocketsMarkdown(phase), /\| WS \/notifications\/inbox\/watch \| 0 \| 1 \| 0 \| 0 \|/);
    assert.match(dashboardSocketsHtml(phase), /<td>WS \/notifications\/inbox\/watch<\/td><td class="num">0<\/td><td class="num fail">1<\/td>/);
    assert.equal(dashboardSocketsMarkdown({ kind: "dashboard", extra: { dashboard: {} } } as unknown as ReportPhase), "", "no section without websockets (browser mode)");
  });
});

test("a failed global request while the page is still loading is a failed view, not a crash of the run", async () => {
  await withSim({}, async (sim) => {
    // The inbox list fails at once; the page's own request answers 1.5 s later, so the session's global requests
    // have failed long before the view awaits them (a 503 there used to end the process: unhandled rejection).
    sim.faults.set({
      http: [{ method: "GET", path: "/api/v2/notifications/inbox", status: 503 }],
      latency: [{ method: "GET", path: "/api/v2/debug/health", latencyMs: 1500 }],
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      const me = (await api(sim, "GET", "/api/v2/users/me")).body.username as string;
      const v = visit(sim, { username: me, owner: true, token: sim.ownerToken, pages: ["health"], random: scripted([0]) });
      await waitFor("the health page's view recorded", () => (v.recorder.pages()["health"]?.count ?? 0) >= 1, 15_000);
      await v.stop();
      assert.deepEqual(unhandled, []);
      assert.equal(v.recorder.endpoints()["GET /notifications/inbox"]!.by_status["503"], 1);
      assert.equal(v.recorder.pages()["health"]!.errors, 1, "the view that met the 503 failed");
      assert.ok(v.recorder.failures().some((f) => f.error.startsWith("GET /notifications/inbox") && /503/.test(f.error)), JSON.stringify(v.recorder.failures()));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

test("the simulator's authcheck: each check evaluated for the caller; a check without a type or with any_org and an organization is a 400", async () => {
  await withSim({}, async (sim) => {
    const client = ownerClient(sim);
    let token: string;
    let userId: string;
    try {
      const [username] = (await createScaletestUsers(client, "dreq6", 1)) as [string];
      token = (await client.createToken(username, { token_name: "dash", lifetime: 3600e9 })).key;
      userId = (await api(sim, "GET", `/api/v2/users/${username}`)).body.id as string;
    } finally {
      await client.close();
    }
    const org = (await api(sim, "GET", "/api/v2/organizations")).body[0].id as string;
    const checks = {
      ownWorkspace: { object: { resource_type: "workspace", owner_id: userId, organization_id: org }, action: "update" },
      othersWorkspace: { object: { resource_type: "workspace", owner_id: "00000000-0000-4000-8000-000000000001" }, action: "read" },
      readTemplates: { object: { resource_type: "template", organization_id: org }, action: "read" },
      otherOrg: { object: { resource_type: "template", organization_id: "00000000-0000-4000-8000-000000000002" }, action: "read" },
      config: { object: { resource_type: "deployment_config" }, action: "read" },
    };
    const member = await api(sim, "POST", "/api/v2/authcheck", { checks }, token);
    assert.equal(member.status, 200);
    assert.deepEqual(member.body, { ownWorkspace: true, othersWorkspace: false, readTemplates: true, otherOrg: false, config: false });
    const owner = await api(sim, "POST", "/api/v2/authcheck", { checks });
    assert.ok(Object.values(owner.body).every((v) => v === true), JSON.stringify(owner.body));
    const before = sim.dashboardApi.counts();
    assert.equal((await api(sim, "POST", "/api/v2/authcheck", { checks: { x: { object: {}, action: "read" } } }, token)).status, 400);
    assert.equal((await api(sim, "POST", "/api/v2/authcheck", { checks: { x: { object: { resource_type: "template", any_org: true, organization_id: org }, action: "read" } } }, token)).status, 400);
    assert.deepEqual(sim.dashboardApi.counts(), before, "a refused authcheck evaluates nothing");
  });
});
