// Runs the generated bounds precondition through real Terraform when it is installed (skipped otherwise; the
// rest of the template tests need no Terraform). Only the locals are evaluated: no providers, no cluster.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parameterSpecs } from "../template/tools/parameters.ts";
import { TEMPLATE_DIR } from "./helpers/template.ts";

const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;
const skip = terraform ? false : "terraform is not installed";

/** parameters.tf's locals, with each parameter's value read from var.v instead of the data source. */
function boundsModule(): string {
  const tf = readFileSync(join(TEMPLATE_DIR, "parameters.tf"), "utf8");
  const locals = tf.slice(tf.indexOf("locals {"), tf.indexOf("# Refuses to build"));
  return [
    'variable "v" { type = map(string) }',
    locals
      .replace(/try\(data\.coder_parameter\.([a-z0-9_]+)\[0\]\.value, "(?:[^"\\]|\\.)*"\)/g, 'var.v["$1"]')
      .replace(/data\.coder_parameter\.([a-z0-9_]+)\.value/g, 'var.v["$1"]'),
    'output "bad" { value = local.parameters_out_of_bounds }',
  ].join("\n");
}

function outOfBounds(dir: string, values: Record<string, string>): string[] {
  const defaults = Object.fromEntries(parameterSpecs().map((p) => [p.name, p.defaultValue]));
  writeFileSync(join(dir, "terraform.tfvars.json"), JSON.stringify({ v: { ...defaults, ...values } }));
  execFileSync("terraform", ["apply", "-auto-approve", "-input=false", "-no-color"], { cwd: dir, stdio: "pipe", env: { ...process.env, TF_IN_AUTOMATION: "1" } });
  const out = execFileSync("terraform", ["output", "-json", "bad"], { cwd: dir, encoding: "utf8" });
  return JSON.parse(out) as string[];
}

test("the bounds precondition accepts the defaults and names each parameter out of bounds", { skip, timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "scaletest-tf-"));
  try {
    writeFileSync(join(dir, "main.tf"), boundsModule());
    assert.deepEqual(outOfBounds(dir, {}), [], "every default is within bounds");
    assert.deepEqual(outOfBounds(dir, { ssh_bytes_per_tick: "4096", app_percentage: "12.5", tick_interval: "250ms" }), []);
    const bad = outOfBounds(dir, {
      tick_interval: "2h",
      duration: "0.5s",
      percentage: "0.001",
      ssh_bytes_per_tick: "0",
      metrics_wait: "11m",
      cleanup_timeout: "bogus",
    });
    assert.equal(bad.length, 6, bad.join("\n"));
    for (const text of ["Tick interval", "Traffic duration", "Percentage", "SSH bytes per tick", "Metrics linger", "Cleanup timeout"]) {
      assert.ok(bad.some((b) => b.startsWith(`${text} must be between`)), `${text} is reported: ${bad.join("; ")}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the template's Terraform files are in canonical format (terraform fmt)", { skip, timeout: 30_000 }, () => {
  const r = spawnSync("terraform", ["fmt", "-check", "-diff", "."], { cwd: TEMPLATE_DIR, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout);
});
