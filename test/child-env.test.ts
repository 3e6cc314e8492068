// No child process inherits a secret it does not need (issue 18, item 6): the real entry point runs the
// pipeline (SSH traffic through the coder CLI, web-terminal) with tsx's transform cache off, so its esbuild
// service runs. Throughout the run, every process below the runner has its environment read from
// /proc/<pid>/environ: no 12-character fragment of the Owner's token, the Grafana token or the agent token
// may appear in any of them, nor any scale-test user's token; the run's own token only in the coder CLI,
// which needs it.
//  - Started as the template starts it (`node --import src/boot/register.mjs`): from the first sample on,
//    esbuild's service included (the secrets leave the environment before tsx starts).
//  - Started as `node --import tsx` or with the tsx CLI (a shebang, by hand): tsx starts esbuild before any of
//    our code runs, so the check starts once the config is loaded (the results folder exists): from then on
//    no child holds a secret (the loader thread's copy is scrubbed and that esbuild service replaced).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { FRAGMENT_LENGTH } from "../src/util/redact.ts";
import { ROOT, simEnv, startScript, tempResults, tinyRunArgs, withReliabilitySim, type ChildResult, type Started } from "./helpers/reliability.ts";

const OWNER = "OwnSECRET1-ChildEnvOwnerSecret22a";
const GRAFANA = "glsa_GrafanaSECRET_child_env_0123456789";
const AGENT = "AgentSECRET-child-env-fedcba9876543210";

interface Seen {
  pid: number;
  cmdline: string;
  env: string;
  /** The coder CLI or one of its own children. */
  coderCli: boolean;
}

function readProc(pid: number, what: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${what}`, "utf8");
  } catch {
    return null; // exited meanwhile
  }
}

/** Every process below `root` (not `root` itself), with its environment, read now. */
function descendants(root: number): Seen[] {
  const out: Seen[] = [];
  const walk = (pid: number, parentCmd: string, coderCli: boolean): void => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      const children = (readProc(pid, `task/${tid}/children`) ?? "").trim().split(/\s+/).filter(Boolean).map(Number);
      for (const c of children) {
        const cmdline = (readProc(c, "cmdline") ?? "").replace(/\0/g, " ").trim();
        const env = readProc(c, "environ");
        const cli = coderCli || cmdline.includes("fake-coder");
        // A child caught between fork and exec still shows its parent's memory: only a process that runs
        // a program of its own is judged.
        if (env !== null && cmdline !== "" && cmdline !== parentCmd) out.push({ pid: c, cmdline, env, coderCli: cli });
        walk(c, cmdline, cli);
      }
    }
  };
  walk(root, (readProc(root, "cmdline") ?? "").replace(/\0/g, " ").trim(), false);
  return out;
}

function fragments(secret: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + FRAGMENT_LENGTH <= secret.length; i++) out.push(secret.slice(i, i + FRAGMENT_LENGTH));
  return out;
}

function leaks(env: string, secret: string): boolean {
  return fragments(secret).some((f) => env.includes(f));
}

/** The `tsx` CLI, as the template's startup.sh runs an entry point. */
function startWithTsxCli(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Started {
  return wrap(spawn(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, script), ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] }), timeoutMs);
}

function wrap(child: ReturnType<typeof spawn>, timeoutMs: number): Started {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const t0 = Date.now();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise<ChildResult>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    }),
  );
  return { child, output: () => ({ stdout, stderr }), done };
}

/** The process that runs our code: the node started with the script (under the tsx CLI, its child). */
function runnerPid(started: Started, script: string): number | null {
  const pid = started.child.pid!;
  const own = (readProc(pid, "cmdline") ?? "").replace(/\0/g, " ");
  if (own.includes("--import")) return pid;
  const below = descendants(pid).find((p) => p.cmdline.includes(script) && !p.cmdline.includes("tsx/dist/cli"));
  return below?.pid ?? null;
}

const LAUNCHERS = ["register.mjs", "node --import tsx", "tsx CLI"] as const;

function start(launcher: (typeof LAUNCHERS)[number], script: string, args: string[], env: NodeJS.ProcessEnv): Started {
  if (launcher === "tsx CLI") return startWithTsxCli(script, args, env, 180_000);
  if (launcher === "node --import tsx") return startScript(script, args, env, 180_000);
  const child = spawn(process.execPath, ["--import", join(ROOT, "src", "boot", "register.mjs"), join(ROOT, script), ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  return wrap(child, 180_000);
}

// The three launchers side by side: each has a simulator, a results folder and a process tree of its own, and
// most of a run is spent waiting on its phases.
describe("no child of the runner inherits a secret it does not need", { concurrency: LAUNCHERS.length }, () => {
  for (const launcher of LAUNCHERS) {
    test(`no child of the runner inherits a secret it does not need (${launcher})`, async () => {
      await withReliabilitySim({ ownerToken: OWNER }, async (sim) => {
        const tmp = tempResults("child-env");
        try {
          const runId = { "register.mjs": "envreg", "node --import tsx": "envnode", "tsx CLI": "envcli" }[launcher];
          const args = tinyRunArgs(runId, tmp.dir, ["--scenarios", "ssh,web-terminal", "--duration", "3s", "--workspaces", "2"]);
          // No transform cache: esbuild's service runs (and is checked) whatever earlier runs cached.
          const env = simEnv(sim, { CODER_OWNER_SESSION_TOKEN: OWNER, GRAFANA_API_TOKEN: GRAFANA, CODER_AGENT_TOKEN: AGENT, TSX_DISABLE_CACHE: "1" });
          const script = "scripts/run.ts";
          const run = start(launcher, script, args, env);
          const strictFromStart = launcher === "register.mjs";
          const runDir = join(tmp.dir, runId);
          let finished = false;
          void run.done.then(() => (finished = true));
          const seen = new Map<string, Seen>();
          const userTokens = new Set<string>();
          let runToken: string | null = null;
          let sawEsbuild = false;
          let sawCoderCli = false;
          let samples = 0;
          // Sampled until the run ends (bounded by the run's own timeout above).
          while (!finished) {
            const root = runnerPid(run, script);
            if (root !== null) {
              // Judged from the first sample (register.mjs) or once the config is loaded (the run folder exists).
              const judged = strictFromStart || existsSync(runDir);
              for (const p of descendants(root)) {
                if (judged) seen.set(`${p.pid} ${p.cmdline}`, p);
                if (p.cmdline.includes("esbuild")) sawEsbuild = true;
                if (p.coderCli) sawCoderCli = true;
              }
              samples++;
            }
            for (const k of sim.state.apiKeys.values()) {
              if (k.tokenName === `scaletest-runner-${runId}`) runToken = `${k.id}-${k.secret}`;
              else if (k.secret !== OWNER && !OWNER.endsWith(k.secret)) userTokens.add(`${k.id}-${k.secret}`);
            }
            await new Promise((r) => setTimeout(r, 25));
          }
          const r = await run.done;
          assert.equal(r.code, 0, `the run passed: ${r.stderr.slice(-1500)}`);
          assert.ok(samples >= 5, `the children were sampled throughout the run (${samples} samples)`);
          assert.ok(sawEsbuild, "tsx's esbuild service was among the children");
          if (strictFromStart) assert.ok([...seen.values()].some((p) => p.cmdline.includes("esbuild")), "esbuild's environment was read");
          assert.ok(sawCoderCli, "the coder CLI was among the children (ssh traffic)");
          assert.ok(runToken, "the run minted its token");
          for (const p of seen.values()) {
            for (const [name, secret] of [["the Owner's token", OWNER], ["the Grafana token", GRAFANA], ["the agent token", AGENT]] as const) {
              assert.ok(!leaks(p.env, secret), `${name} reached child ${p.pid} (${p.cmdline.slice(0, 120)})`);
            }
            for (const t of userTokens) assert.ok(!leaks(p.env, t), `a scale-test user's token reached child ${p.pid} (${p.cmdline.slice(0, 120)})`);
            if (!p.coderCli) assert.ok(!leaks(p.env, runToken!), `the run token reached child ${p.pid} (${p.cmdline.slice(0, 120)}), which does not need it`);
          }
          // And the coder CLI got the run token it needs (so the check above had something to find).
          assert.ok([...seen.values()].some((p) => p.coderCli && leaks(p.env, runToken!)), "the coder CLI runs with the run token");
          assert.ok(existsSync(join(tmp.dir, runId, "summary.json")));
        } finally {
          tmp.remove();
        }
      });
    });
  }
});

test("src/boot/register.mjs takes every secret variable out of the environment (the secret settings' and SECRET_ENV_VARS)", async () => {
  const { settingEntries } = await import("../src/config/schema.ts");
  const { SECRET_ENV_VARS } = await import("../src/util/redact.ts");
  const text = readFileSync(join(ROOT, "src", "boot", "register.mjs"), "utf8");
  const m = /export const NAMES = (\[[^\]]*\]);/.exec(text);
  assert.ok(m, "register.mjs lists NAMES");
  const names = new Set(JSON.parse(m[1]!) as string[]);
  const want = new Set([...settingEntries().filter(([, s]) => s.secret).map(([, s]) => s.env), ...SECRET_ENV_VARS]);
  assert.deepEqual([...names].sort(), [...want].sort());
});
