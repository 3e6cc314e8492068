// Issue 18, item 3, mid-run: user creation answered with a 100 MB error message that echoes the session
// token (the probe saw 801 MB written into the results folder, result.json and summary.txt 210 MB each, and
// 105 MB on stderr). The run must end with bounded memory, a few KiB per error in every file and on stderr,
// no fragment of the token anywhere, and its cleanup done.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { test } from "node:test";
import { FRAGMENT_LENGTH } from "../src/util/redact.ts";
import { filesUnder, scaletestLeft, simEnv, startScript, tempResults, withReliabilitySim } from "./helpers/reliability.ts";

const TOKEN = "HugeErrTk1-Qm3Rn5Sp7Tq9Ur1Vs3Wt5X";
const MB = 1024 * 1024;

function vmHwm(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // exited meanwhile
  }
}

test("a 100 MB error echoing the token on user creation: bounded memory, files and output; no token fragment; cleanup done", async () => {
  await withReliabilitySim({ ownerToken: TOKEN }, async (sim) => {
    let hugeAnswers = 0;
    sim.http.use((ctx) => {
      if (ctx.method !== "POST" || ctx.path !== "/api/v2/users" || hugeAnswers >= 2) return false;
      hugeAnswers++;
      const res = ctx.res;
      res.writeHead(500, { "content-type": "application/json" });
      res.write('{"message":"');
      const chunk = Buffer.from(`${TOKEN} `.repeat(2048));
      let sent = 0;
      const pump = (): void => {
        while (sent < 100 * MB && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once("drain", pump);
            return;
          }
        }
        if (!res.destroyed) res.end('"}');
      };
      res.on("error", () => {});
      pump();
      return true;
    });
    const tmp = tempResults("hostile-create");
    try {
      const args = ["--count", "3", "--template", "kubernetes-minimal", "--concurrency", "3", "--run-id", "huge1", "--results-dir", tmp.dir, "--metrics-address", "127.0.0.1:0"];
      const run = startScript("scenarios/create-workspaces.ts", args, simEnv(sim), 120_000);
      const pid = run.child.pid as number;
      let peak = 0;
      let running = true;
      void run.done.then(() => (running = false));
      while (running) {
        peak = Math.max(peak, vmHwm(pid));
        await new Promise((r) => setTimeout(r, 25));
      }
      const r = await run.done;
      assert.equal(r.signal, null, `the run ended by itself: ${r.stderr.slice(-1000)}`);
      assert.equal(r.code, 1, `two users could not be created: the phase fails (${r.stderr.slice(-1000)})`);
      assert.equal(hugeAnswers, 2, "both huge answers were sent");
      assert.ok(peak > 0 && peak < 300 * MB, `peak RSS ${(peak / MB).toFixed(0)} MB < 300 MB`);
      assert.ok(r.stderr.length + r.stdout.length < 64 * 1024, `output stays small (${r.stderr.length + r.stdout.length} bytes)`);
      const files = filesUnder(tmp.dir);
      assert.ok(files.some((f) => f.endsWith("/result.json")) && files.some((f) => f.endsWith("/summary.txt")), "the phase's files were written");
      let total = 0;
      for (const f of files) {
        const size = statSync(f).size;
        total += size;
        assert.ok(size < 256 * 1024, `${f} stays small (${size} bytes)`);
      }
      assert.ok(total < 1 * MB, `the results folder stays small (${total} bytes)`);
      console.log(`# huge error on user creation: exit ${r.code}, peak RSS ${(peak / MB).toFixed(0)} MB, results ${total} bytes, output ${r.stderr.length + r.stdout.length} bytes, ${r.ms} ms`);
      const texts: [string, string][] = [["stdout", r.stdout], ["stderr", r.stderr], ...files.map((f) => [f, readFileSync(f, "latin1")] as [string, string])];
      for (const [where, text] of texts) {
        for (let i = 0; i + FRAGMENT_LENGTH <= TOKEN.length; i++) {
          assert.ok(!text.includes(TOKEN.slice(i, i + FRAGMENT_LENGTH)), `a fragment of the token is in ${where}`);
        }
      }
      assert.match(readFileSync(files.find((f) => f.endsWith("/result.json"))!, "utf8"), /500/, "the error is recorded (its status), not dropped");
      assert.deepEqual(scaletestLeft(sim), { users: [], workspaces: [] }, "the user and workspace that were created are cleaned up");
    } finally {
      tmp.remove();
    }
  });
});
