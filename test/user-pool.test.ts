// Acceptance tests of the user pool: create-users makes the pool once; create-workspaces and the traffic
// scripts borrow its users (--user-pool) with a token minted per run and revoked after; a run's cleanup
// deletes the run's workspaces but never a pool user; an explicit cleanup of the pool does. Bad input
// (count out of bounds, unknown template, a pool too small or equal to the run) exits 2 before anything
// is created.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { CoderClient } from "../src/coder/index.ts";
import { cleanupRun } from "../src/cleanup/cleanup.ts";
import { PhaseRecord } from "../src/results/schema.ts";
import { leaseUsers, selectPoolUsers, templateAdminCount, UserPoolError } from "../src/users/index.ts";
import { api, withSim, type Sim } from "./helpers/sim.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function script(sim: Sim, dir: string, name: string, args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
  return execa(process.execPath, ["--import", "tsx", `scenarios/${name}.ts`, ...args], {
    cwd: ROOT,
    env: { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0", SCALETEST_METRICS_WAIT: "0s" },
    extendEnv: false,
    reject: false,
    timeout: 180_000,
  });
}

/** Token names per user, from the simulator's state (what GET /users/{user}/keys/tokens lists). */
function tokenNames(sim: Sim): string[] {
  return [...sim.state.apiKeys.values()].filter((k) => k.loginType === "token").map((k) => k.tokenName);
}

function poolUsers(sim: Sim, pool: string): string[] {
  return sim.state.liveUsers().filter((u) => u.username.startsWith(`scaletest-${pool}-`)).map((u) => u.username).sort();
}

describe("user pool (library)", () => {
  test("Coder's template-admin count: rounded, at least one when above 0", () => {
    assert.equal(templateAdminCount(20, 20), 4);
    assert.equal(templateAdminCount(3, 1), 1);
    assert.equal(templateAdminCount(10, 0), 0);
    assert.equal(templateAdminCount(5, 100), 5);
  });

  test("a lease mints one token per borrowed user, acting as that user, and revokes every one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pool-lib-"));
    try {
      await withSim({ preexisting: false }, async (sim) => {
        const made = await script(sim, dir, "create-users", ["--run-id", "plib", "--count", "3", "--template-admin-percentage", "0"]);
        assert.equal(made.exitCode, 0, made.stderr);
        const client = new CoderClient({ url: sim.url, token: sim.ownerToken });
        try {
          const tokensBefore = sim.counts().tokens;
          const users = await selectPoolUsers(client, { pool: "plib", runId: "rlib", count: 3 });
          assert.deepEqual(users.map((u) => u.username), ["scaletest-plib-0000", "scaletest-plib-0001", "scaletest-plib-0002"]);
          const lease = await leaseUsers(client, users, { runId: "rlib", purpose: "test" });
          assert.equal(sim.counts().tokens, tokensBefore + 3);
          assert.ok(tokenNames(sim).filter((n) => n.startsWith("scaletest-rlib-test")).length === 3);
          for (const l of lease.users) assert.equal((await l.client.me()).username, l.user.username);
          assert.deepEqual(await lease.release(), { minted: 3, revoked: 3, failed: 0 });
          assert.deepEqual(await lease.release(), { minted: 3, revoked: 3, failed: 0 });
          assert.equal(sim.counts().tokens, tokensBefore);
          // A run that crashed after minting: its cleanup revokes the tokens it minted for the borrowed owners
          // of its workspaces, deletes the workspaces, and keeps the pool users.
          const crashed = await leaseUsers(client, users.slice(0, 1), { runId: "rcrash", purpose: "create" });
          const org = await client.defaultOrganization();
          const tpl = await client.templateByName(org.id, "kubernetes-minimal");
          await crashed.users[0]!.client.createWorkspace("me", { name: "scaletest-rcrash-0000", template_version_id: tpl.active_version_id });
          assert.equal(tokenNames(sim).filter((n) => n.startsWith("scaletest-rcrash-")).length, 1);
          const c = await cleanupRun(client, { runId: "rcrash", concurrency: 2, timeoutMs: 60_000, jobTimeoutMs: 30_000, pollMs: 20 });
          assert.equal(c.exit_code, 0, c.failed.join(", "));
          assert.equal(c.workspaces.length, 1);
          assert.equal(c.users.length, 0);
          assert.deepEqual(c.tokens_deleted?.filter((t) => t.includes("scaletest-rcrash-")).length, 1);
          assert.deepEqual(tokenNames(sim).filter((n) => n.startsWith("scaletest-rcrash-")), []);
          assert.equal(poolUsers(sim, "plib").length, 3);
          await crashed.release();
          await assert.rejects(selectPoolUsers(client, { pool: "plib", runId: "rlib", count: 4 }), (e: unknown) => e instanceof UserPoolError && /holds 3 usable user\(s\); this run needs 4/.test((e as Error).message));
          await assert.rejects(selectPoolUsers(client, { pool: "plib", runId: "plib", count: 1 }), /is this run's own id/);
          await assert.rejects(selectPoolUsers(client, { pool: "nopool", runId: "rlib", count: 1 }), /holds no usable users/);
        } finally {
          await client.close();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a pool of 20 serves a create+traffic run, then a second one", () => {
  test("after both runs the pool's users exist and none of the runs' tokens does; bad input exits 2 first", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pool-e2e-"));
    try {
      await withSim({ preexisting: false }, async (sim) => {
        const start = sim.counts();
        // Bad input: nothing is created, exit 2 (the refused runs side by side: each only reads).
        const refused = [
          ["create-users", ["--run-id", "pool20", "--count", "0"], /--count \(SCALETEST_CREATE_USERS_COUNT\) must be at least 1/],
          ["create-users", ["--run-id", "pool20", "--count", "5001"], /--count \(SCALETEST_CREATE_USERS_COUNT\) must be at most 5000/],
        ] as const;
        // Each in a results folder of its own (a run folder is locked by the run that opened it).
        const own = () => mkdtempSync(join(dir, "refused-"));
        const refusedRuns = await Promise.all(refused.map(([name, args]) => script(sim, own(), name, [...args])));
        refused.forEach(([name, args, re], i) => {
          const r = refusedRuns[i]!;
          assert.equal(r.exitCode, 2, `${name} ${args.join(" ")}: ${r.stderr}`);
          assert.match(r.stderr, re);
        });
        assert.deepEqual(sim.counts(), start);

        const made = await script(sim, dir, "create-users", ["--run-id", "pool20", "--count", "20", "--template-admin-percentage", "10", "--output", "text"]);
        assert.equal(made.exitCode, 0, made.stderr);
        assert.match(made.stdout, /pool pool20: 20 of 20 user\(s\) made \(2 template admin\(s\)\)/);
        const pool = poolUsers(sim, "pool20");
        assert.equal(pool.length, 20);
        assert.equal(sim.state.liveUsers().filter((u) => u.roles.includes("template-admin")).length, 2);
        // The logins Coder's create-users makes leave no session behind.
        assert.equal(sim.counts().tokens, start.tokens);
        // The pool id is taken now; and runs the pool cannot serve are refused. All side by side: each only reads.
        const afterPool = sim.counts();
        const badRuns = [
          [["--run-id", "runa", "--count", "21", "--user-pool", "pool20"], /--user-pool pool20 holds 20 usable user\(s\); this run needs 21/],
          [["--run-id", "runa", "--count", "5", "--user-pool", "pool20", "--template", "nope"], /--template "nope" was not found/],
          [["--run-id", "pool20", "--count", "5", "--user-pool", "pool20"], /--user-pool pool20 is this run's own id/],
          [["--run-id", "runa", "--count", "5001", "--user-pool", "pool20"], /--count \(SCALETEST_WORKSPACES\) must be at most 5000/],
        ] as const;
        const [again, ...badOut] = await Promise.all([
          script(sim, own(), "create-users", ["--run-id", "pool20", "--count", "2"]),
          ...badRuns.map(([args]) => script(sim, own(), "create-workspaces", [...args])),
        ]);
        assert.equal(again!.exitCode, 2);
        assert.match(again!.stderr, /pool id pool20 is already in use/);
        badRuns.forEach(([args, re], i) => {
          const r = badOut[i]!;
          assert.equal(r.exitCode, 2, `${args.join(" ")}: ${r.stderr}`);
          assert.match(r.stderr, re);
          assert.ok(!r.stderr.includes(sim.ownerToken));
        });
        assert.deepEqual(sim.counts(), afterPool);

        for (const runId of ["runa", "runb"]) {
          const out = join(dir, `${runId}-create.json`);
          const created = await script(sim, dir, "create-workspaces", [
            "--run-id", runId, "--count", "20", "--concurrency", "10", "--user-pool", "pool20", "--template", "kubernetes-minimal", "--no-cleanup", "--output", `json:${out}`,
          ]);
          assert.equal(created.exitCode, 0, created.stderr);
          const rec = PhaseRecord.parse(JSON.parse(readFileSync(out, "utf8")));
          assert.deepEqual(rec.extra["user_pool"], { pool: "pool20", users: 20, tokens: { minted: 20, revoked: 20, failed: 0 } });
          // Every workspace is owned by a pool user, one each; no user of the run exists.
          const ws = sim.state.liveWorkspaces().filter((w) => w.name.startsWith(`scaletest-${runId}-`));
          assert.equal(ws.length, 20);
          const owners = ws.map((w) => sim.state.users.get(w.ownerId)!.username).sort();
          assert.deepEqual(owners, pool);
          assert.equal(sim.state.liveUsers().filter((u) => u.username.startsWith(`scaletest-${runId}-`)).length, 0);
          // The workspaces were created by the users themselves (their own tokens, not the Owner's).
          assert.ok(sim.core.requestLog.some((r) => r.method === "POST" && r.path === "/api/v2/users/me/workspaces"));

          // Traffic over the run's (pool-owned) workspaces; --target-users counts the pool's users.
          const traffic = await script(sim, dir, "web-terminal-traffic", [
            "--run-id", runId, "--user-pool", "pool20", "--target-users", "0:10", "--duration", "2s", "--tick-interval", "200ms", "--output", "text",
          ]);
          assert.equal(traffic.exitCode, 0, traffic.stderr + traffic.stdout);
          assert.match(traffic.stdout, /10 connection|connections: 10|10\/10/);

          // The run's cleanup deletes its workspaces, never a pool user.
          const cleaned = await script(sim, dir, "cleanup", ["--run-id", runId]);
          assert.equal(cleaned.exitCode, 0, cleaned.stderr);
          assert.equal(sim.state.liveWorkspaces().filter((w) => w.name.startsWith(`scaletest-${runId}-`)).length, 0);
          assert.deepEqual(poolUsers(sim, "pool20"), pool);
        }
        // After both runs: the pool's users exist, no token of either run does.
        assert.deepEqual(poolUsers(sim, "pool20"), pool);
        assert.deepEqual(tokenNames(sim).filter((n) => /^scaletest-run[ab]-/.test(n)), []);
        assert.equal(sim.counts().tokens, afterPool.tokens);
        for (const u of pool) {
          const keys = await api<unknown[]>(sim, "GET", `/api/v2/users/${u}/keys/tokens`);
          assert.deepEqual(keys.body, []);
        }
        // An explicit cleanup of the pool removes it.
        const drop = await script(sim, dir, "cleanup", ["--run-id", "pool20"]);
        assert.equal(drop.exitCode, 0, drop.stderr);
        assert.deepEqual(poolUsers(sim, "pool20"), []);
        assert.deepEqual(sim.counts(), start);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
