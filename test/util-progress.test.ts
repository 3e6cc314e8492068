import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Logger } from "../src/util/log.ts";
import { startProgress } from "../src/util/progress.ts";
import { clearSecrets, registerSecret } from "../src/util/redact.ts";
import { CaptureStream } from "./helpers/results-tmp.ts";

test("plain mode: a log line every interval with the caller's renderer, then the final line", async () => {
  const out = new CaptureStream();
  const logger = new Logger();
  logger.setStream(out);
  let done = 0;
  const p = startProgress({ label: "create-workspaces", intervalMs: 40, stream: out, logger });
  p.update(() => `${done}/10 done`);
  done = 3;
  await sleep(110);
  done = 10;
  p.done();
  p.done("ignored second done");
  const lines = out.text().trimEnd().split("\n");
  assert.ok(lines.length >= 2 && lines.length <= 5, out.text());
  assert.match(lines[0]!, /INFO  create-workspaces: 3\/10 done$/);
  assert.match(lines.at(-1)!, /INFO  create-workspaces: 10\/10 done$/);
  assert.ok(!out.text().includes("ignored"));
  const n = lines.length;
  await sleep(100);
  assert.equal(out.text().trimEnd().split("\n").length, n, "no lines after done");
});

test("TTY mode: redraws one live line, keeps log lines above it, redacts, ends with a log line", async () => {
  clearSecrets();
  registerSecret("tok-123456789");
  const out = new CaptureStream();
  const logger = new Logger();
  logger.setStream(out);
  const p = startProgress({ label: "ssh", tty: true, redrawMs: 20, stream: out, logger });
  p.update("1 conn tok-123456789");
  await sleep(70);
  logger.info("a log line while live");
  p.update("2 conns");
  await sleep(70);
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
  const t0 = Date.now();
  execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    timeout: 20_000,
    stdio: "pipe",
  });
  assert.ok(Date.now() - t0 < 15_000);
});
