import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { withSettingsTable } from "../scripts/docs.ts";
import { settingEntries } from "../src/config/index.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

test("README's settings table is the schema's (run `npm run docs` after changing a setting)", () => {
  assert.equal(readme, withSettingsTable(readme));
  for (const [, s] of settingEntries()) {
    assert.ok(readme.includes(`\`--${s.flag}\``), `README names --${s.flag}`);
    assert.ok(readme.includes(`\`${s.env}\``), `README names ${s.env}`);
  }
});

test("README shows the two commands a newcomer needs", () => {
  assert.match(readme, /npm ci && npm run demo/);
  assert.match(readme, /npm test/);
});
