// The template's provider lock file: every provider main.tf requires is locked, at a version its constraint
// allows (what `terraform init` checks, done here without the registry), with h1 and zh hashes of the right
// shape and nothing else locked; and `coder templates push` uploads it (Coder's archive keeps this one hidden
// file), so the provisioner installs exactly the locked builds.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { LOCK_FILE, uploadFiles } from "../template/tools/bundle.ts";
import { parseLockFile, satisfies } from "../template/tools/lockfile.ts";
import { TEMPLATE_DIR, parseTemplate } from "./helpers/template.ts";

const REGISTRY = "registry.terraform.io";
const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;

async function requiredProviders(): Promise<Record<string, { source: string; version: string }>> {
  const t = await parseTemplate();
  const block = (t.main["terraform"] as { required_providers?: Record<string, { source: string; version: string }>[] }[])[0];
  return block?.required_providers?.[0] ?? {};
}

test("Terraform's constraint rules, as the lock check applies them", () => {
  assert.ok(satisfies("2.38.0", "~> 2.30"));
  assert.ok(!satisfies("3.0.0", "~> 2.30"));
  assert.ok(!satisfies("2.29.9", "~> 2.30"));
  assert.ok(satisfies("0.13.1", "~> 0.11"));
  assert.ok(!satisfies("1.0.0", "~> 0.11"));
  assert.ok(satisfies("2.38.1", "~> 2.38.0"));
  assert.ok(!satisfies("2.39.0", "~> 2.38.0"));
  assert.ok(satisfies("2.5.3", ">= 2.4.0, < 3.0.0"));
  assert.ok(!satisfies("2.3.9", ">= 2.4.0, < 3.0.0"));
  assert.ok(!satisfies("3.0.0", ">= 2.4.0, < 3.0.0"));
  assert.ok(satisfies("0.13.1", "0.13.1") && !satisfies("0.13.2", "= 0.13.1") && satisfies("0.13.2", "!= 0.13.1"));
  assert.throws(() => satisfies("2.x", "~> 2.0"), /not a version/);
});

test("the lock file locks exactly main.tf's providers, each at a version its constraint allows", async () => {
  const required = await requiredProviders();
  assert.deepEqual(Object.keys(required).sort(), ["coder", "kubernetes", "time"]);
  const locked = await parseLockFile(readFileSync(join(TEMPLATE_DIR, LOCK_FILE), "utf8"));
  assert.deepEqual([...locked.keys()].sort(), Object.values(required).map((r) => `${REGISTRY}/${r.source}`).sort(), "one lock entry per required provider, nothing else");
  for (const [name, r] of Object.entries(required)) {
    const entry = locked.get(`${REGISTRY}/${r.source}`);
    assert.ok(entry, `${name} (${r.source}) is locked`);
    assert.ok(satisfies(entry.version, r.version), `${name}: locked ${entry.version} satisfies main.tf's "${r.version}"`);
    // The recorded constraints are main.tf's (terraform init rewrites the entry otherwise).
    assert.equal(entry.constraints, r.version, `${name}: the lock records main.tf's constraint`);
    const h1 = entry.hashes.filter((h) => h.startsWith("h1:"));
    const zh = entry.hashes.filter((h) => h.startsWith("zh:"));
    assert.ok(h1.length >= 1 && zh.length >= 1, `${name}: h1 and zh hashes`);
    assert.equal(h1.length + zh.length, entry.hashes.length, `${name}: only h1/zh hashes`);
    for (const h of h1) assert.match(h, /^h1:[A-Za-z0-9+/]{43}=$/, `${name}: ${h}`);
    for (const h of zh) assert.match(h, /^zh:[0-9a-f]{64}$/, `${name}: ${h}`);
    assert.equal(new Set(entry.hashes).size, entry.hashes.length, `${name}: no duplicate hash`);
  }
});

test("coder templates push uploads the lock file (the one hidden file Coder's archive keeps), and git keeps it", () => {
  const files = uploadFiles(TEMPLATE_DIR).map((p) => relative(TEMPLATE_DIR, p));
  assert.ok(files.includes(LOCK_FILE), `uploaded: ${files.join(", ")}`);
  assert.ok(files.includes("main.tf"));
  assert.ok(!files.some((f) => f.split("/").some((part) => part.startsWith(".") && part !== LOCK_FILE)), "no other hidden file");
  const ignored = readFileSync(join(TEMPLATE_DIR, ".gitignore"), "utf8").split("\n").map((l) => l.trim());
  assert.ok(!ignored.some((l) => l.replace(/^\//, "") === LOCK_FILE), "template/.gitignore does not ignore the lock file");
});

test("real Terraform reads the lock file and selects the locked versions for main.tf's providers", { skip: terraform ? false : "terraform is not installed", timeout: 60_000 }, async () => {
  const required = await requiredProviders();
  const dir = mkdtempSync(join(tmpdir(), "scaletest-lock-"));
  try {
    copyFileSync(join(TEMPLATE_DIR, LOCK_FILE), join(dir, LOCK_FILE));
    const lines = Object.entries(required).map(([n, r]) => `    ${n} = { source = ${JSON.stringify(r.source)}, version = ${JSON.stringify(r.version)} }`);
    writeFileSync(join(dir, "main.tf"), `terraform {\n  required_providers {\n${lines.join("\n")}\n  }\n}\n`);
    // No registry here: `terraform providers` reads the lock file and reports the locked packages as not installed,
    // naming each selected version; a lock file it cannot read is an error of its own.
    const r = spawnSync("terraform", ["providers", "-no-color"], { cwd: dir, encoding: "utf8", env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" }, timeout: 50_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    assert.doesNotMatch(out, /failed to read dependency lock file/, out);
    const locked = await parseLockFile(readFileSync(join(TEMPLATE_DIR, LOCK_FILE), "utf8"));
    for (const e of locked.values()) assert.ok(out.includes(`${e.address} ${e.version}`), `terraform selected ${e.address} ${e.version}:\n${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
