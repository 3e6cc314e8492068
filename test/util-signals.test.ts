import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "./helpers/wait-for.ts";

const mod = fileURLToPath(new URL("../src/util/signals.ts", import.meta.url));

// A child that works until stopped: it reports the signal through every API, then either keeps
// running (to test the forced second signal) or finishes gracefully.
function child(keepRunning: boolean) {
  const script = `
    import { stopSignal, onStopSignal, receivedStopSignal, isStopping, StopSignalError } from ${JSON.stringify(mod)};
    const timer = setInterval(() => {}, 1000);
    stopSignal().addEventListener("abort", () => {
      const r = stopSignal().reason;
      console.log("aborted", r instanceof StopSignalError, r.signal);
    });
    onStopSignal((s) => {
      console.log("handler", s, receivedStopSignal(), isStopping());
      onStopSignal((s2) => console.log("late handler", s2));
      ${keepRunning ? "" : "setTimeout(() => { clearInterval(timer); console.log('partial results written'); }, 50);"}
    });
    console.log("ready", receivedStopSignal());
  `;
  const p = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  p.stdout.on("data", (d) => (out += d));
  p.stderr.on("data", (d) => (err += d));
  let exitCode: number | null | undefined;
  // "close", not "exit": it comes after the child's stdout/stderr were read to the end.
  p.on("close", (code) => (exitCode = code));
  const detail = () => `stdout ${JSON.stringify(out)} stderr ${JSON.stringify(err)}`;
  // Bounded waits on what the child printed / its exit; a child that hangs is killed (by its own pid) so the
  // test fails with its output instead of hanging.
  const bounded = async <T>(cond: () => T | undefined, what: string): Promise<T> => {
    try {
      return await waitFor(cond, { what, timeoutMs: 60_000, detail });
    } catch (e) {
      p.kill("SIGKILL");
      throw e;
    }
  };
  const printed = (text: string) => bounded(() => out.includes(text) || undefined, `the child to print ${JSON.stringify(text)}`);
  const exited = () => bounded(() => (exitCode === undefined ? undefined : { code: exitCode }), "the child to exit").then((e) => e.code);
  return { p, printed, exited, out: () => out, err: () => err };
}

test("first signal aborts gracefully and is recorded; the process finishes its own work", async () => {
  const c = child(false);
  await c.printed("ready null");
  c.p.kill("SIGTERM");
  const code = await c.exited();
  assert.equal(code, 0, c.err());
  assert.match(c.out(), /aborted true SIGTERM/);
  assert.match(c.out(), /handler SIGTERM SIGTERM true/);
  assert.match(c.out(), /late handler SIGTERM/);
  assert.match(c.out(), /partial results written/);
  assert.match(c.err(), /WARN .*received SIGTERM: stopping gracefully/);
});

test("second signal forces exit 130", async () => {
  const c = child(true);
  await c.printed("ready null");
  c.p.kill("SIGINT");
  await c.printed("handler SIGINT");
  c.p.kill("SIGINT");
  const code = await c.exited();
  assert.equal(code, 130, c.err());
  assert.match(c.err(), /received SIGINT again/);
});
