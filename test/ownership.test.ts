// The strict ownership rule (src/util/ownership.ts) against look-alikes made through the API: a workspace
// of an ordinary user named like the run, a workspace named `scaletest-prod`, users `scaletest-h1-admin2`
// and `scaletest-ops`, and a `scaletest-h1-0001` user with a foreign email (who also owns a workspace named
// like the run's). They must survive `cleanup --run-id h1`, `cleanup --all` and every traffic scenario, and
// the simulator's request log must show no request at all addressed to any of them after they exist.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { Sim } from "../sim/index.ts";
import type { CoderClient, User, Workspace } from "../src/coder/index.ts";
import { createWorkspaces } from "../src/create/index.ts";
import { isScaletestUser, Ownership } from "../src/util/ownership.ts";
import { clientFor, liveScaletest, startFastSim } from "./helpers/create-sim.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function childEnv(sim: Sim, resultsDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
  return {
    ...env,
    CODER_URL: sim.url,
    CODER_SESSION_TOKEN: sim.ownerToken,
    SCALETEST_RESULTS_DIR: resultsDir,
    SCALETEST_METRICS_ADDRESS: "127.0.0.1:0",
    SCALETEST_CODER_BINARY: join(ROOT, "test", "fake-coder", "coder"),
    NO_COLOR: "1",
  };
}

function runScenario(sim: Sim, dir: string, script: string, args: string[]) {
  return execa(process.execPath, ["--import", "tsx", join("scenarios", script), ...args], {
    cwd: ROOT, env: childEnv(sim, dir), extendEnv: false, reject: false, timeout: 90_000,
  });
}

interface Decoys {
  users: User[];
  workspaces: Workspace[];
}

/** Creates a user (password login) through the API, as any admin could. */
async function makeUser(client: CoderClient, orgId: string, username: string, email: string): Promise<User> {
  return client.createUser({ username, email, name: "", password: "Decoy-password-123!", login_type: "password", organization_ids: [orgId] } as never);
}

async function makeWorkspace(client: CoderClient, owner: string, name: string, templateId: string): Promise<Workspace> {
  const ws = await client.createWorkspace(owner, { name, template_id: templateId } as never);
  await client.waitForAgents(ws.id, { timeoutMs: 30_000, pollMs: 50 });
  return ws;
}

/**
 * Request-log entries (from `from` on) that address a decoy: its user, workspace, build or agent id, or its
 * name, in path, query or host (a terminal is dialed by agent id, a delete by workspace id, ssh by name).
 */
function requestsToDecoys(sim: Sim, decoys: Decoys, from: number): string[] {
  const names = [...decoys.users.map((u) => u.username), ...decoys.workspaces.map((w) => w.name)];
  const wsIds = new Set(decoys.workspaces.map((w) => w.id));
  const ids = [
    ...decoys.users.map((u) => u.id),
    ...wsIds,
    ...[...sim.state.agents.values()].filter((a) => wsIds.has(a.workspaceId)).map((a) => a.id),
    ...[...sim.state.builds.values()].filter((b) => wsIds.has(b.workspaceId)).map((b) => b.id),
  ];
  assert.ok(ids.length >= decoys.users.length + 3 * decoys.workspaces.length, "every decoy workspace has a build and an agent to look for");
  const nameRes = names.map((n) => new RegExp(`(^|[^a-z0-9-])${n}($|[^a-z0-9-])`, "i"));
  const hits: string[] = [];
  for (const r of sim.core.requestLog.slice(from)) {
    let text = `${r.path} ${r.query} ${r.host}`;
    try {
      text = decodeURIComponent(text.replace(/\+/g, " "));
    } catch {
      // keep the raw text
    }
    if (ids.some((id) => text.includes(id)) || nameRes.some((re) => re.test(text))) hits.push(`${r.method} ${r.path}?${r.query}`);
  }
  return hits;
}

function assertDecoysLive(sim: Sim, decoys: Decoys, after: string): void {
  for (const u of decoys.users) assert.equal(sim.state.users.get(u.id)?.deleted, false, `user ${u.username} survives ${after}`);
  for (const w of decoys.workspaces) assert.equal(sim.state.workspaces.get(w.id)?.deleted, false, `workspace ${w.owner_name}/${w.name} survives ${after}`);
}

describe("ownership rule (unit)", () => {
  const user = (id: string, username: string, email: string) => ({ id, username, email }) as User;
  test("a user is the run's only with the exact name pattern and the exact scale-test email", () => {
    assert.ok(isScaletestUser(user("1", "scaletest-h1-0001", "h1-0001@scaletest.local"), { runId: "h1" }));
    assert.ok(isScaletestUser(user("1", "scaletest-h1-0001", "h1-0001@scaletest.local"), { all: true }));
    assert.ok(!isScaletestUser(user("1", "scaletest-h1-0001", "h1-0001@scaletest.local"), { runId: "h2" }));
    assert.ok(!isScaletestUser(user("1", "scaletest-h1-0001", "h1-0001@evil.example"), { runId: "h1" }));
    assert.ok(!isScaletestUser(user("1", "scaletest-h1-0001", "h1-0002@scaletest.local"), { runId: "h1" }));
    assert.ok(!isScaletestUser(user("1", "scaletest-h1-admin2", "h1-admin2@scaletest.local"), { all: true }));
    assert.ok(!isScaletestUser(user("1", "scaletest-ops", "ops@scaletest.local"), { all: true }));
  });
  test("a workspace is the run's only when named exactly and owned by a verified scale-test user (its own run's or one it reused), or the runner", () => {
    const own = new Ownership(
      { all: true },
      [user("u1", "scaletest-h1-0001", "h1-0001@scaletest.local"), user("u2", "scaletest-h2-0001", "h2-0001@scaletest.local"), user("u3", "scaletest-h3-0001", "x@y.z")],
      "runner",
    );
    assert.deepEqual([...own.users.keys()], ["u1", "u2"]);
    assert.ok(own.ownsWorkspace({ name: "scaletest-h1-0001", owner_id: "u1" }));
    assert.ok(own.ownsWorkspace({ name: "scaletest-h1-0007", owner_id: "runner" }), "--use-host-login workspaces");
    // --reuse-users: run h2 created this workspace for a user of run h1 (a verified scale-test user).
    assert.ok(own.ownsWorkspace({ name: "scaletest-h2-0001", owner_id: "u1" }), "owner reused from another run");
    const h2 = new Ownership({ runId: "h2" }, [user("u1", "scaletest-h1-0001", "h1-0001@scaletest.local"), user("u2", "scaletest-h2-0001", "h2-0001@scaletest.local")], "runner");
    assert.deepEqual([...h2.users.keys()], ["u2"], "only the run's own users are its to delete");
    assert.ok(h2.ownsWorkspace({ name: "scaletest-h2-0005", owner_id: "u1" }));
    assert.ok(!h2.ownsWorkspace({ name: "scaletest-h1-0001", owner_id: "u1" }), "another run's workspace");
    assert.ok(!own.ownsWorkspace({ name: "scaletest-h3-0001", owner_id: "u3" }), "unverified owner");
    assert.ok(!own.ownsWorkspace({ name: "scaletest-h1-9999", owner_id: "alice" }));
    assert.ok(!own.ownsWorkspace({ name: "scaletest-prod", owner_id: "runner" }));
    assert.ok(!own.ownsWorkspace({ name: "scaletest-h1-0001-x", owner_id: "u1" }));
  });
});

describe("decoys survive cleanup and traffic (simulator, real entry points)", () => {
  let sim: Sim;
  let client: CoderClient;
  let dir: string;
  let decoys: Decoys;
  let logFrom = 0;

  before(async () => {
    sim = await startFastSim({ daemons: 4 });
    client = clientFor(sim);
    dir = mkdtempSync(join(tmpdir(), "ownership-test-"));
    const created = await createWorkspaces(client, {
      runId: "h1", count: 1, template: "kubernetes-minimal", concurrency: 2, timeoutMs: 30_000, jobTimeoutMs: 20_000, retry: 0, pollMs: 50, noCleanup: true,
    } as never, { progress: false } as never);
    assert.ok(created, "run h1 created");
    assert.deepEqual(liveScaletest(sim, "scaletest-h1-").workspaces, ["scaletest-h1-0000"]);
    const org = await client.defaultOrganization();
    const template = await client.templateByName(org.id, "kubernetes-minimal");
    // alice and bob are the simulator's ordinary pre-existing users.
    const alice = await client.user("alice");
    const bob = await client.user("bob");
    const admin2 = await makeUser(client, org.id, "scaletest-h1-admin2", "h1-admin2@scaletest.local");
    const ops = await makeUser(client, org.id, "scaletest-ops", "ops@scaletest.local");
    const foreign = await makeUser(client, org.id, "scaletest-h1-0001", "h1-0001@evil.example");
    decoys = {
      users: [alice, bob, admin2, ops, foreign],
      workspaces: [
        await makeWorkspace(client, "alice", "scaletest-h1-9999", template.id),
        await makeWorkspace(client, "bob", "scaletest-prod", template.id),
        await makeWorkspace(client, "scaletest-h1-0001", "scaletest-h1-0001", template.id),
      ],
    };
    logFrom = sim.core.requestLog.length;
  });
  after(async () => {
    await client?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The traffic runs only read and connect: they run side by side, each with a results folder of its own (a
  // run folder is locked by the run that opened it); the cleanups below run after all of them. The runs
  // with --run-id h1 take turns: each mints the run's token by name, replacing the one before.
  describe("traffic", { concurrency: 4 }, () => {
    let h1Turn: Promise<unknown> = Promise.resolve();
    const inTurn = <T>(fn: () => Promise<T>): Promise<T> => {
      const p = h1Turn.then(fn);
      h1Turn = p.catch(() => {});
      return p;
    };
    for (const [script, extra] of [
      ["web-terminal-traffic.ts", ["--duration", "1s", "--tick-interval", "100ms"]],
      ["ssh-traffic.ts", ["--duration", "1s", "--tick-interval", "100ms"]],
      ["app-traffic.ts", ["--duration", "1s", "--tick-interval", "100ms"]],
      ["dashboard-traffic.ts", ["--mode", "api", "--concurrency", "2", "--duration", "1s", "--think-time", "20ms"]],
    ] as const) {
      for (const scope of [["--run-id", "h1"], []] as const) {
        test(`${script} ${scope.join(" ") || "(every run)"} touches no decoy`, async () => {
          const run = () => runScenario(sim, mkdtempSync(join(dir, "traffic-")), script, [...scope, ...extra]);
          const r = scope.length ? await inTurn(run) : await run();
          assert.equal(r.exitCode, 0, `${script} ran: ${r.stderr.slice(-1500)}`);
          assertDecoysLive(sim, decoys, script);
          assert.deepEqual(requestsToDecoys(sim, decoys, logFrom), [], "no request addressed a decoy");
        });
      }
    }
  });

  test("cleanup --run-id h1 removes the run and nothing else", async () => {
    const r = await runScenario(sim, dir, "cleanup.ts", ["--run-id", "h1", "--output", "harness:-"]);
    assert.equal(r.exitCode, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { workspaces_deleted: number; users_deleted: number };
    assert.equal(json.workspaces_deleted, 1);
    assert.equal(json.users_deleted, 1);
    assert.equal(liveScaletest(sim, "scaletest-h1-0000").workspaces.length, 0, "the run's own workspace is gone");
    assertDecoysLive(sim, decoys, "cleanup --run-id h1");
    assert.deepEqual(requestsToDecoys(sim, decoys, logFrom), []);
  });

  test("cleanup --all removes every run's resources and nothing else", async () => {
    const before = sim.core.requestLog.length;
    await createWorkspaces(client, {
      runId: "h2", count: 2, template: "kubernetes-minimal", concurrency: 2, timeoutMs: 30_000, jobTimeoutMs: 20_000, retry: 0, pollMs: 50, noCleanup: true,
    } as never, { progress: false } as never);
    assert.ok(sim.core.requestLog.length > before, "the request log records requests");
    const r = await runScenario(sim, dir, "cleanup.ts", ["--all", "--output", "harness:-"]);
    assert.equal(r.exitCode, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { workspaces_deleted: number; users_deleted: number };
    assert.equal(json.workspaces_deleted, 2);
    assert.equal(json.users_deleted, 2);
    assert.deepEqual(liveScaletest(sim, "scaletest-h2-"), { users: [], workspaces: [] });
    assertDecoysLive(sim, decoys, "cleanup --all");
    assert.deepEqual(requestsToDecoys(sim, decoys, logFrom), []);
  });
});
