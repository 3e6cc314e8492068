import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Logger } from "../src/util/log.ts";
import { startProgress } from "../src/util/progress.ts";
import { clearSecrets, registerSecret } from "../src/util/redact.ts";
import { CaptureStream } from "./helpers/results-tmp.ts";
import { waitFor } from "./helpers/wait-for.ts";

test("plain mode: a log line every interval with the caller's renderer, then the final line", async () => {
  const out = new CaptureStream();
  const logger = new Logger();
  logger.setStream(out);
  const lineCount = () => out.text().trimEnd().split("\n").filter(Boolean).length;
  let done = 0;
  const p = startProgress({ label: "create-workspaces", intervalMs: 40, stream: out, logger });
  p.update(() => `${done}/10 done`);
  done = 3;
  // The interval's lines render the text at print time; wait for one instead of sleeping an interval or two.
  await waitFor(() => out.text().includes("3/10 done"), { what: "a periodic progress line", detail: () => out.text() });
  done = 10;
  p.done();
  p.done("ignored second done");
  const lines = out.text().trimEnd().split("\n");
  assert.ok(lines.length >= 2, out.text());
  for (const l of lines.slice(0, -1)) assert.match(l, /INFO  create-workspaces: 3\/10 done$/);
  assert.match(lines.at(-1)!, /INFO  create-workspaces: 10\/10 done$/);
  assert.ok(!out.text().includes("ignored"));
  // No lines after done: a witness progress with the same interval prints twice, so the first one's timer
  // (had it survived done()) would have come due at least once meanwhile.
  const n = lines.length;
  const witness = new CaptureStream();
  const wlog = new Logger();
  wlog.setStream(witness);
  const w = startProgress({ label: "witness", intervalMs: 40, stream: witness, logger: wlog });
  w.update("tick");
  await waitFor(() => witness.text().split("witness: tick").length - 1 >= 2, { what: "two witness lines", detail: () => witness.text() });
  w.done();
  assert.equal(lineCount(), n, "no lines after done");
});

test("TTY mode: redraws one live line, keeps log lines above it, redacts, ends with a log line", async () => {
  clearSecrets();
  registerSecret("tok-123456789");
  const out = new CaptureStream();
  const logger = new Logger();
  logger.setStream(out);
  const p = startProgress({ label: "ssh", tty: true, redrawMs: 20, stream: out, logger });
  p.update("1 conn tok-123456789");
  await waitFor(() => out.text().includes("ssh: 1 conn [REDACTED]"), { what: "the live line drawn", detail: () => JSON.stringify(out.text()) });
  logger.info("a log line while live");
  p.update("2 conns");
  await waitFor(() => out.text().includes("ssh: 2 conns"), { what: "the live line redrawn", detail: () => JSON.stringify(out.text()) });
  p.done("finished");
  const text = out.text();
  assert.ok(text.includes("ssh: 1 conn [REDACTED]"), text);
  assert.ok(text.includes("ssh: 2 conns"), text);
  assert.ok(!text.includes("tok-123456789"));
  // The live line was erased (ANSI erase-line) before the log line was written.
  const logAt = text.indexOf("a log line while live");
  assert.ok(logAt > 0 && text.slice(0, logAt).includes("\u001b[2K"), JSON.stringify(text.slice(0, logAt)));
  assert.match(text, /INFO  ssh: finished\n$/);
  clearSecrets();
});

test("progress timers do not keep the process alive", () => {
  const mod = fileURLToPath(new URL("../src/util/progress.ts", import.meta.url));
  const script = `import { startProgress } from ${JSON.stringify(mod)};
    const p = startProgress({ label: "x", intervalMs: 50 }); p.update("working");
    startProgress({ label: "y", tty: true, redrawMs: 50 }).update("live");`;
  // The timers fire every 50 ms forever; the child must still end by itself once its script is done. The
  // timeout only bounds a hang (it kills the child, which then fails the signal check).
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script + `\nconsole.log("script done");`], {
    timeout: 60_000,
    encoding: "utf8",
  });
  assert.equal(r.signal, null, `the child was still running after 60 s (killed by ${r.signal}): the progress timers keep it alive`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /script done/);
});
