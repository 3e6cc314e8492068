// The `npm test` runner (test/suite.ts): every test file runs exactly once, the known slowest first.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { basename } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { orderedTestFiles, SLOWEST } from "./suite.ts";

test("the suite runs every test file once, the listed slowest first, each listed file existing", () => {
  const dir = fileURLToPath(new URL(".", import.meta.url));
  const files = orderedTestFiles(dir).map((f) => basename(f));
  const all = readdirSync(dir).filter((f) => f.endsWith(".test.ts"));
  assert.deepEqual([...files].sort(), all.sort(), "every test file, none twice");
  for (const f of SLOWEST) assert.ok(all.includes(f), `${f} (listed as one of the slowest) exists`);
  assert.deepEqual(files.slice(0, SLOWEST.length), SLOWEST);
  const rest = files.slice(SLOWEST.length);
  assert.deepEqual(rest, [...rest].sort(), "the others by name");
});
