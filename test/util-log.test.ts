import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { clearSecrets, redact, redactDeep, redactError, registerSecret, REDACTED } from "../src/util/redact.ts";
import { Logger } from "../src/util/log.ts";
import { CaptureStream, tempDir } from "./helpers/results-tmp.ts";

const TOKEN = "Xy7abcdEFG-secret/token+v=1";

test("redact replaces registered secrets and their URL-encoded forms", () => {
  clearSecrets();
  assert.equal(redact(`token=${TOKEN}`), `token=${TOKEN}`, "nothing registered: unchanged");
  registerSecret(TOKEN);
  registerSecret("short"); // < 6 chars: ignored
  registerSecret(undefined);
  registerSecret("");
  const cases: [string, string][] = [
    [`Coder-Session-Token: ${TOKEN}`, `Coder-Session-Token: ${REDACTED}`],
    [`a ${TOKEN} b ${TOKEN}`, `a ${REDACTED} b ${REDACTED}`],
    [`https://x/?t=${encodeURIComponent(TOKEN)}&y=1`, `https://x/?t=${REDACTED}&y=1`],
    ["a short word", "a short word"],
    ["", ""],
  ];
  for (const [input, want] of cases) assert.equal(redact(input), want);
  clearSecrets();
});

test("a longer secret containing a shorter one is hidden whole", () => {
  clearSecrets();
  registerSecret("abcdef");
  registerSecret("abcdef123456");
  assert.equal(redact("x abcdef123456 y abcdef"), `x ${REDACTED} y ${REDACTED}`);
  clearSecrets();
});

test("redactDeep walks JSON values, keys, arrays and errors without mutating the input", () => {
  clearSecrets();
  registerSecret(TOKEN);
  const input = {
    url: `http://127.0.0.1/?token=${TOKEN}`,
    nested: { list: [1, true, null, `x${TOKEN}x`], [TOKEN]: "key" },
    err: new Error(`request with ${TOKEN} failed`),
    when: new Date(0),
  };
  const out = redactDeep(input);
  const text = JSON.stringify(out);
  assert.ok(!text.includes(TOKEN), text);
  assert.equal(out.url, `http://127.0.0.1/?token=${REDACTED}`);
  assert.deepEqual(out.nested.list, [1, true, null, `x${REDACTED}x`]);
  assert.equal((out.err as unknown as { message: string }).message, `request with ${REDACTED} failed`);
  assert.ok(text.includes("1970-01-01T00:00:00.000Z"));
  assert.equal(input.url, `http://127.0.0.1/?token=${TOKEN}`, "input untouched");
  const circ: Record<string, unknown> = { a: 1 };
  circ.self = circ;
  assert.deepEqual(redactDeep(circ), { a: 1, self: "[Circular]" });
  assert.equal(redactError(new Error(`bad ${TOKEN}`)), `bad ${REDACTED}`);
  clearSecrets();
});

test("logger.atLevel handed on unbound: the level's line, debug only when verbose, the message not re-formatted", () => {
  const out = new CaptureStream();
  const log = new Logger();
  log.setStream(out);
  const { atLevel } = log.child("notifications");
  atLevel("warn", "50%s done");
  atLevel("debug", "hidden debug");
  log.setVerbose(true);
  atLevel("debug", "shown debug");
  atLevel("error", "boom");
  const lines = out.text().trimEnd().split("\n");
  assert.equal(lines.length, 3, out.text());
  assert.match(lines[0]!, / WARN  \[notifications\] 50%s done$/);
  assert.match(lines[1]!, / DEBUG \[notifications\] shown debug$/);
  assert.match(lines[2]!, / ERROR \[notifications\] boom$/);
});

test("logger: ISO timestamps, levels, debug only when verbose, redaction, file tee", () => {
  clearSecrets();
  registerSecret(TOKEN);
  const tmp = tempDir();
  try {
    const out = new CaptureStream();
    const log = new Logger();
    log.setStream(out);
    const file = join(tmp.path, "phase", "phase.log");
    const stop = log.toFile(file);
    log.info("hello %s", "world");
    log.debug("hidden debug");
    log.warn(`token is ${TOKEN}`);
    log.setVerbose(true);
    log.debug("shown debug", { n: 1 });
    log.child("ssh-traffic").error("boom");
    stop();
    stop(); // idempotent
    log.info("after stop");
    const lines = out.text().trimEnd().split("\n");
    assert.equal(lines.length, 5, out.text());
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  hello world$/);
    assert.match(lines[1]!, / WARN  token is \[REDACTED\]$/);
    assert.match(lines[2]!, / DEBUG shown debug \{ n: 1 \}$/);
    assert.match(lines[3]!, / ERROR \[ssh-traffic\] boom$/);
    assert.match(lines[4]!, / INFO  after stop$/);
    assert.ok(!out.text().includes(TOKEN));
    const fileText = readFileSync(file, "utf8");
    assert.equal(fileText.trimEnd().split("\n").length, 4, fileText);
    assert.ok(fileText.includes("[REDACTED]") && !fileText.includes(TOKEN));
    assert.ok(!fileText.includes("after stop"));
    assert.ok(!fileText.includes("hidden debug"));
  } finally {
    tmp.cleanup();
    clearSecrets();
  }
});
