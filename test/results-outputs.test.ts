import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseOutputSpecs, writeOutputs } from "../src/results/outputs.ts";
import { clearSecrets, registerSecret } from "../src/util/redact.ts";
import { CaptureStream, tempDir } from "./helpers/results-tmp.ts";

test("parseOutputSpecs follows Coder's --output rules", () => {
  const ok: [string[], ReturnType<typeof parseOutputSpecs>][] = [
    [[], [{ format: "text" }]],
    [["text"], [{ format: "text" }]],
    [["json"], [{ format: "json" }]],
    [["json:-"], [{ format: "json" }]],
    [["json:out/r.json"], [{ format: "json", path: "out/r.json" }]],
    [["json:/tmp/a.json", "text"], [{ format: "text" }, { format: "json", path: "/tmp/a.json" }]],
    [["text:a.txt", "json:C:\\x.json"], [{ format: "text", path: "a.txt" }, { format: "json", path: "C:\\x.json" }]],
  ];
  for (const [input, want] of ok) assert.deepEqual(parseOutputSpecs(input), want, input.join(" "));
  const bad: [string[], RegExp][] = [
    [["html"], /format must be one of text, json/],
    [["xml:a.xml"], /format must be one of/],
    [[""], /format must be one of/],
    [["text", "json"], /both "text" and "json" write to stdout/],
    [["text", "json:-"], /write to stdout/],
    [["json:"], /empty path/],
    [["json:a.json", "text:./a.json"], /same file/],
  ];
  for (const [input, re] of bad) assert.throws(() => parseOutputSpecs(input), re, input.join(" "));
});

test("writeOutputs writes files atomically (creating folders) and stdout, all redacted", async () => {
  clearSecrets();
  const token = "sekret-token-0123456789";
  registerSecret(token);
  const tmp = tempDir();
  try {
    const stdout = new CaptureStream();
    const specs = parseOutputSpecs(["json:" + join(tmp.path, "deep/dir/r.json"), "text", "text:" + join(tmp.path, "r.txt")]);
    const content = { json: { total_runs: 1, note: `auth ${token}` }, text: `Test results: ${token}\n` };
    await writeOutputs(specs, content, stdout);
    const json = readFileSync(join(tmp.path, "deep/dir/r.json"), "utf8");
    assert.deepEqual(JSON.parse(json), { total_runs: 1, note: "auth [REDACTED]" });
    assert.ok(json.endsWith("}\n"));
    assert.equal(readFileSync(join(tmp.path, "r.txt"), "utf8"), "Test results: [REDACTED]\n");
    assert.equal(stdout.text(), "Test results: [REDACTED]\n");
    // No temp files left behind.
    assert.deepEqual(readdirSync(join(tmp.path, "deep/dir")), ["r.json"]);
    // Overwrite replaces the whole file.
    await writeOutputs(parseOutputSpecs(["json:" + join(tmp.path, "deep/dir/r.json")]), { json: { a: 1 }, text: "" }, stdout);
    assert.deepEqual(JSON.parse(readFileSync(join(tmp.path, "deep/dir/r.json"), "utf8")), { a: 1 });
  } finally {
    tmp.cleanup();
    clearSecrets();
  }
});

test("writeOutputs gives a clear error for an unwritable path", async () => {
  const tmp = tempDir();
  try {
    // A regular file where a folder is needed fails even for root.
    const file = join(tmp.path, "not-a-dir");
    writeFileSync(file, "x");
    await assert.rejects(
      writeOutputs(parseOutputSpecs(["json:" + join(file, "x.json")]), { json: {}, text: "" }),
      /cannot write json output to .*x\.json \((ENOTDIR|EEXIST)\)/,
    );
  } finally {
    tmp.cleanup();
  }
});
