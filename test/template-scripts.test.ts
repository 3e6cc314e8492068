// Runs the template's startup.sh and shutdown.sh for real, in a scratch HOME, with a fake `coder` CLI and a
// fake project image whose entry points record what they were asked to do. Checks: the project is installed,
// the CLI is logged in with a minted token, the pipeline runs detached with its log in the results dir, the
// results server serves the latest report, and the shutdown script interrupts the pipeline and cleans up
// (strategy on_stop) the run it started.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, TEMPLATE_DIR } from "./helpers/template.ts";

const haveTools = ["bash", "setsid"].every((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0);

function write(path: string, text: string, mode?: number): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  if (mode) chmodSync(path, mode);
}

async function waitFor<T>(what: string, f: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("startup.sh starts the pipeline detached; shutdown.sh stops it and cleans up on_stop", { skip: haveTools ? false : "needs bash and setsid", timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "scaletest-template-"));
  const home = join(dir, "home");
  const image = join(dir, "image");
  const bin = join(dir, "bin");
  const calls = join(dir, "calls.log");
  let serverPid = "";
  let livePid = "";
  try {
    mkdirSync(home);
    // The fake image: entry points that record their arguments and environment.
    write(join(image, "package.json"), '{"name":"fake","type":"module"}\n');
    write(join(image, "package-lock.json"), '{"lockfileVersion":3}\n');
    mkdirSync(join(image, "node_modules"));
    // The real launcher (secrets out of the environment, then tsx from the project's own modules).
    write(join(image, "src/boot/register.mjs"), readFileSync(join(ROOT, "src/boot/register.mjs"), "utf8"));
    symlinkSync(join(ROOT, "node_modules", "tsx"), join(image, "node_modules", "tsx"));
    write(
      join(image, "scripts/run.ts"),
      `import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
const results = process.env.SCALETEST_RESULTS_DIR!;
const id = process.env.SCALETEST_RUN_ID!;
mkdirSync(results + "/" + id, { recursive: true });
writeFileSync(results + "/LATEST", id + "\\n");
writeFileSync(results + "/" + id + "/report.html", "<h1>report " + id + "</h1>");
appendFileSync(${JSON.stringify(calls)}, "run " + id + " workspaces=" + process.env.SCALETEST_WORKSPACES + " cwd=" + process.cwd() + "\\n");
console.log("pipeline running");
process.on("SIGINT", () => { appendFileSync(${JSON.stringify(calls)}, "run interrupted\\n"); process.exit(130); });
setInterval(() => {}, 1000);
`,
    );
    // The live report server (report.ts --serve): stays up until stopped, as the real one does.
    write(join(image, "scripts/report.ts"), `process.on("SIGTERM", () => process.exit(0));\nsetInterval(() => {}, 1000);\n`);
    // The orchestration around the pipeline (startup.sh's pipeline.sh wrapper), recording what they are asked.
    write(join(image, "scripts/scale-provisioners.ts"), `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(calls)}, "provisioners " + process.argv.slice(2).join(" ") + "\\n");\n`);
    write(join(image, "scripts/gather-logs.ts"), `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(calls)}, "gather-logs " + process.env.SCALETEST_RUN_ID + "\\n");\n`);
    write(
      join(image, "scripts/pprof.ts"),
      `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(calls)}, "pprof start " + process.env.SCALETEST_RUN_ID + "\\n");\nfor (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { appendFileSync(${JSON.stringify(calls)}, "pprof stop\\n"); process.exit(0); });\nsetInterval(() => {}, 1000);\n`,
    );
    write(join(image, "scenarios/cleanup.ts"), `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(calls)}, "cleanup " + process.argv.slice(2).join(" ") + "\\n");\n`);
    // A fake coder CLI: mints a token, records removals.
    write(
      join(bin, "coder"),
      `#!/usr/bin/env bash\necho "coder $*" >>${JSON.stringify(calls)}\nif [[ "$1 $2" == "tokens create" ]]; then echo "fake-id-fakesecret"; fi\n`,
      0o755,
    );
    const env = {
      PATH: `${bin}:${join(ROOT, "node_modules/.bin")}:${process.env.PATH}`,
      HOME: home,
      SCALETEST_RESULTS_DIR: join(home, "results"),
      SCALETEST_PROJECT_DIR: join(home, "scaletest-runner"),
      SCALETEST_IMAGE_DIR: image,
      SCALETEST_BUNDLE: "",
      SCALETEST_WORKSPACES: "7",
      SCALETEST_CLEANUP_STRATEGY: "on_stop",
      CODER_URL: "http://127.0.0.1:9",
      CODER_OWNER_SESSION_TOKEN: "owner-token",
      CODER_CONFIG_DIR: join(home, ".config/coderv2"),
    };
    const out = execFileSync("bash", [join(TEMPLATE_DIR, "startup.sh")], { env, encoding: "utf8", timeout: 30_000 });
    assert.match(out, /pipeline started: run [0-9a-f]{6}/);
    const runId = /run ([0-9a-f]{6})/.exec(out)?.[1] as string;
    const project = env.SCALETEST_PROJECT_DIR;
    assert.ok(existsSync(join(project, "scripts/run.ts")), "project copied from the image");
    assert.equal(readlinkSync(join(project, "node_modules")), join(image, "node_modules"), "image's modules reused");
    assert.equal(readFileSync(join(env.CODER_CONFIG_DIR, "session"), "utf8"), "fake-id-fakesecret");
    assert.equal(readFileSync(join(env.CODER_CONFIG_DIR, "url"), "utf8"), env.CODER_URL);
    assert.equal(readFileSync(join(project, ".env"), "utf8"), "CODER_SESSION_TOKEN=fake-id-fakesecret\n");
    serverPid = readFileSync(join(home, ".scaletest/results-server.pid"), "utf8").trim();
    livePid = readFileSync(join(home, ".scaletest/live-report.pid"), "utf8").trim();
    assert.ok(existsSync(`/proc/${livePid}`), "the live report server is running");
    // The pipeline runs on after startup.sh returned, with the parameters' env, logging into the results dir.
    await waitFor("the pipeline", () => (readFileSync(calls, "utf8").includes(`run ${runId} workspaces=7 cwd=${project}`) ? true : undefined));
    const log = join(env.SCALETEST_RESULTS_DIR, `logs/run-${runId}.log`);
    await waitFor("the pipeline's log", () => (existsSync(log) && readFileSync(log, "utf8").includes("pipeline running") ? true : undefined));
    assert.equal(readlinkSync(join(env.SCALETEST_RESULTS_DIR, "latest.log")), `logs/run-${runId}.log`);
    // The "Latest report" app.
    const page = await waitFor("the results server", () => {
      const r = spawnSync("node", ["-e", "fetch('http://127.0.0.1:21180/latest/report.html').then(r=>r.text()).then(t=>process.stdout.write(t))"], { encoding: "utf8" });
      return r.status === 0 && r.stdout ? r.stdout : undefined;
    });
    assert.equal(page, `<h1>report ${runId}</h1>`);
    // Through the app as Coder path-proxies it: the request's path after /apps/report/ is appended to the app's
    // URL. The root redirects (relatively, so the proxy prefix stays) to the latest report; run folders are reachable.
    const appUrl = /slug\s*=\s*"report"[\s\S]*?url\s*=\s*"([^"]+)"/.exec(readFileSync(join(TEMPLATE_DIR, "main.tf"), "utf8"))?.[1] as string;
    const viaApp = (rest: string) => {
      const r = spawnSync("node", ["-e", `fetch(${JSON.stringify(appUrl.replace("localhost", "127.0.0.1") + rest)}, { redirect: "manual" }).then(async r=>process.stdout.write(JSON.stringify({ s: r.status, l: r.headers.get("location"), b: await r.text() })))`], { encoding: "utf8" });
      return JSON.parse(r.stdout) as { s: number; l: string | null; b: string };
    };
    const root = viaApp("");
    assert.equal(root.s, 302);
    assert.equal(root.l, "latest/report.html", "a relative redirect keeps the proxy's prefix");
    assert.equal(viaApp(root.l as string).b, `<h1>report ${runId}</h1>`);
    assert.equal(viaApp(`${runId}/report.html`).b, `<h1>report ${runId}</h1>`, "a run folder's files through the app");
    assert.match(viaApp(`${runId}/`).b, /report\.html/, "a run folder's listing through the app");
    const escape = spawnSync("node", ["-e", "fetch('http://127.0.0.1:21180/..%2f..%2fetc/passwd').then(r=>process.stdout.write(String(r.status)))"], { encoding: "utf8" });
    assert.notEqual(escape.stdout, "200", "no path escapes the results dir");
    // A second start while it runs does not start another pipeline.
    const again = execFileSync("bash", [join(TEMPLATE_DIR, "startup.sh")], { env, encoding: "utf8", timeout: 30_000 });
    assert.match(again, /already running/);
    // Stop: the pipeline is interrupted, then the run is cleaned up and the token removed.
    const stop = execFileSync("bash", [join(TEMPLATE_DIR, "shutdown.sh")], { env, encoding: "utf8", timeout: 30_000 });
    assert.match(stop, /interrupting the pipeline/);
    const recorded = readFileSync(calls, "utf8");
    assert.match(recorded, /run interrupted\n/);
    assert.match(recorded, new RegExp(`cleanup --run-id ${runId}\\n`));
    assert.ok(recorded.indexOf("run interrupted") < recorded.indexOf("cleanup --run-id"), "cleanup after the pipeline stopped");
    // The orchestration: provisioners scaled and pprof started before the pipeline; after it stopped, pprof
    // stopped, logs gathered and provisioners restored, all before the shutdown's cleanup; restore-all at start.
    const at = (text: string) => {
      const i = recorded.indexOf(text);
      assert.ok(i >= 0, `${text} happened:\n${recorded}\nrun log:\n${readFileSync(log, "utf8")}`);
      return i;
    };
    assert.ok(at("provisioners restore-all") < at("provisioners up"), "a crashed run's provisioners are restored before a new run");
    assert.ok(at("provisioners up") < at(`run ${runId}`));
    assert.ok(at(`pprof start ${runId}`) >= 0);
    assert.ok(at("run interrupted") < at(`gather-logs ${runId}`));
    assert.ok(at("pprof stop") < at(`gather-logs ${runId}`));
    assert.ok(at(`gather-logs ${runId}`) < at("provisioners restore\n"));
    assert.ok(at("provisioners restore\n") < at("cleanup --run-id"), "the run's end finished before the stop's cleanup");
    assert.match(recorded, /coder tokens remove --delete scaletest-runner-\d+/);
    assert.ok(!recorded.includes("owner-token") && !out.includes("fake-id-fakesecret"), "tokens are not printed");
    // Another strategy: no cleanup at stop.
    const calls2 = readFileSync(calls, "utf8").length;
    execFileSync("bash", [join(TEMPLATE_DIR, "shutdown.sh")], { env: { ...env, SCALETEST_CLEANUP_STRATEGY: "always" }, encoding: "utf8" });
    assert.ok(!readFileSync(calls, "utf8").slice(calls2).includes("cleanup"), "strategy always: the pipeline cleans up itself");
  } finally {
    // The servers startup.sh left running, also when the test failed before it read their pids.
    const pidOf = (f: string) => (existsSync(join(home, ".scaletest", f)) ? readFileSync(join(home, ".scaletest", f), "utf8").trim() : "");
    for (const pid of new Set([serverPid, livePid, pidOf("results-server.pid"), pidOf("live-report.pid")])) {
      if (/^\d+$/.test(pid)) spawnSync("kill", [pid]);
    }
    const pid = existsSync(join(home, ".scaletest/pipeline.pid")) ? readFileSync(join(home, ".scaletest/pipeline.pid"), "utf8").trim() : "";
    // process.kill, not /bin/kill: procps-ng 4.0.2 reads `kill -KILL -12792` as kill(-1, SIGKILL), i.e. every process.
    if (/^\d+$/.test(pid)) {
      try {
        process.kill(-Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
