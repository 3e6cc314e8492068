// Secrets: the whole pipeline runs with a recognisable session token (and a few faults, so error paths
// write messages too); the token, the run's minted token and the scaletest users' tokens must appear
// nowhere: not in any file of the results folder (run.log, phase.log, result.json, report.html/md,
// summary.json, ...), not in the child's stdout/stderr, not in the metrics endpoint's body, and not in
// the process list (`ps -eo args`, sampled throughout, coder ssh --stdio children included).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { filesUnder, readJSON, simEnv, startScript, tempResults, tinyRunArgs, withReliabilitySim } from "./helpers/reliability.ts";

const TOKEN = "SECRETtok1-RecognisableOwnerSec22";

it("no token appears in results, logs, metrics, errors or the process list", async () => {
  await withReliabilitySim({ ownerToken: TOKEN }, async (sim) => {
    const tmp = tempResults("secrets");
    try {
      // Faults so that error messages (API errors, refused dials) are written as well.
      sim.faults.set({
        http: [
          { method: "POST", path: "/api/v2/users/*/workspaces", status: 500, count: 1 },
          { method: "GET", path: "/api/v2/workspaceagents/*/pty", status: 503, count: 1 },
          { method: "GET", path: "/api/v2/users/me", status: 503, count: 1 },
        ],
      });
      const secrets = new Set<string>([TOKEN, TOKEN.split("-")[1] as string]);
      const run = startScript("scripts/run.ts", tinyRunArgs("secrets", tmp.dir, ["--verbose", "--duration", "2s"]), simEnv(sim));
      const pid = run.child.pid as number;
      const psSamples: string[] = [];
      const metricsBodies: string[] = [];
      let running = true;
      void run.done.then(() => (running = false));
      while (running) {
        // Every key the deployment holds during the run is a secret (run token, scaletest users' tokens).
        for (const k of sim.state.apiKeys.values()) secrets.add(`${k.id}-${k.secret}`).add(k.secret);
        psSamples.push(execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }));
        const m = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(run.output().stderr);
        if (m?.[1] && metricsBodies.length < 5) {
          try {
            metricsBodies.push(await (await fetch(m[1])).text());
          } catch {
            // between phases the server may be closing
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const result = await run.done;
      assert.ok(result.code === 0 || result.code === 1, `the run finished: ${result.stderr.slice(-1500)}`);
      const runDir = join(tmp.dir, "secrets");
      const files = filesUnder(tmp.dir);
      for (const want of ["run.log", "summary.json", "report.html", "report.md", "run.json"]) {
        assert.ok(files.some((f) => f.endsWith(`/${want}`)), `${want} was written (so it was scanned)`);
      }
      assert.ok(files.filter((f) => f.endsWith("/phase.log")).length >= 4, "phase logs were written");
      assert.ok(metricsBodies.some((b) => b.includes("# HELP")), "the metrics endpoint was scraped");
      assert.ok(psSamples.some((s) => s.includes(`scripts/run.ts`)), "the process list was sampled while the run was up");
      assert.ok(/dial failed|500|503/.test(JSON.stringify(readJSON(join(runDir, "summary.json")))) || /500|503/.test(readFileSync(join(runDir, "run.log"), "utf8")), "errors were written");
      assert.ok(secrets.size >= 4, "the run token and users' tokens were seen");

      const sources: [string, string][] = [
        ...files.map((f) => [f, readFileSync(f, "latin1")] as [string, string]),
        ["stdout", result.stdout],
        ["stderr", result.stderr],
        ...metricsBodies.map((b, i) => [`metrics scrape ${i}`, b] as [string, string]),
        ...psSamples.map((s, i) => [`ps sample ${i}`, s] as [string, string]),
      ];
      const hits: string[] = [];
      for (const [where, text] of sources) {
        for (const s of secrets) if (text.includes(s) || text.includes(encodeURIComponent(s))) hits.push(`${where}: ${s.slice(0, 4)}…`);
      }
      assert.deepEqual(hits, [], "no secret anywhere");
      assert.ok(pid > 0);
    } finally {
      tmp.remove();
    }
  });
});
