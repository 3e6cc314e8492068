// The agent metadata runs every second: its scripts must answer fast, so they read the run's state files with
// sh and awk instead of starting node. These tests run every metadata script exactly as main.tf declares it, with
// node/tsx/npx on PATH replaced by stand-ins that fail loudly, and hold the status/phase output to
// scripts/status.ts (the reference reader) on the same results folders. The README's table must list the same
// entries at the same intervals.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, TEMPLATE_DIR, parseTemplate } from "./helpers/template.ts";

type Block = Record<string, unknown>;

interface Metadata {
  key: string;
  name: string;
  interval: number;
  timeout: number;
  script: string;
}

/** The agent's metadata entries with their scripts resolved the way Terraform would (file(), locals). */
async function metadata(): Promise<Metadata[]> {
  const t = await parseTemplate();
  const agent = (((t.main.resource as Block).coder_agent as Record<string, Block[]>).main as Block[])[0] as Block;
  const locals = Object.assign({}, ...(t.main.locals as Block[])) as Record<string, string>;
  const resolve = (expr: string): string =>
    expr
      .replace(/\$\{file\("\$\{path\.module\}\/([^"]+)"\)\}/g, (_, f: string) => readFileSync(join(TEMPLATE_DIR, f), "utf8"))
      .replace(/\$\{local\.([a-z_]+)\}/g, (_, name: string) => resolve(locals[name] as string));
  return (agent.metadata as Block[]).map((m) => ({
    key: m.key as string,
    name: m.display_name as string,
    interval: m.interval as number,
    timeout: m.timeout as number,
    script: resolve(m.script as string),
  }));
}

function standIns(dir: string, marker: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const name of ["node", "tsx", "npx", "npm"]) {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >>${JSON.stringify(marker)}\necho "metadata started ${name}" >&2\nexit 97\n`);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(join(bin, "coder"), "#!/bin/sh\necho \"coder-stat $*\"\n");
  chmodSync(join(bin, "coder"), 0o755);
  return bin;
}

/** Results folders covering what the metadata must show. */
function fixtures(root: string): Record<string, string> {
  const make = (name: string, files: Record<string, string>) => {
    const dir = join(root, name);
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(join(dir, f, ".."), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  return {
    empty: make("empty", {}),
    badLatest: make("bad", { LATEST: "../etc\n" }),
    noState: make("nostate", { LATEST: "abc123\n", "abc123/run.json": "{}" }),
    running: make("running", {
      LATEST: "k3x9q2\n",
      "k3x9q2/state/status": "2025-01-01T00:00:00.000000000Z Preparing\n2025-01-01T00:00:01.000000000Z Running\n\n",
      "k3x9q2/state/phase": "2025-01-01T00:00:01Z START:1: Creating workspaces\n2025-01-01T00:01:01Z END:1: Creating workspaces\n2025-01-01T00:01:02Z START:2: Load scenario: SSH traffic\n",
    }),
    ended: make("ended", {
      LATEST: "z9\n",
      "z9/state/status": "2025-01-01T00:00:00Z Failed (exit=1) \n",
      "z9/state/phase": "2025-01-01T00:00:01Z START:1: Only phase\n2025-01-01T00:00:02Z END:1: Only phase\n",
    }),
  };
}

test("metadata scripts start no node or tsx and print what scripts/status.ts prints", { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "scaletest-metadata-"));
  const marker = join(dir, "started.log");
  try {
    const bin = standIns(dir, marker);
    const all = await metadata();
    const cases = fixtures(join(dir, "results"));
    const run = (m: Metadata, results: string) => {
      const r = spawnSync("sh", ["-c", m.script], {
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, SCALETEST_RESULTS_DIR: results },
        encoding: "utf8",
        timeout: 30_000,
      });
      assert.equal(r.status, 0, `${m.key}: ${r.stderr}`);
      return r.stdout;
    };
    const flags: Record<string, string[]> = { "00_scaletest_status": [], "01_scaletest_phase": ["--phase"], "02_scaletest_previous_phase": ["--previous-phase"] };
    for (const m of all) {
      for (const [name, results] of Object.entries(cases)) {
        const out = run(m, results);
        assert.ok(out.trim() !== "", `${m.key} prints something (${name})`);
        const f = flags[m.key];
        if (f) {
          const ref = execFileSync(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "scripts/status.ts"), ...f, "--results-dir", results], { encoding: "utf8" });
          assert.equal(out, ref, `${m.key} on ${name} agrees with scripts/status.ts`);
        }
      }
    }
    assert.ok(!existsSync(marker), `no metadata script started node/tsx: ${existsSync(marker) ? readFileSync(marker, "utf8") : ""}`);
    // The host entries say what they measure.
    const byKey = new Map(all.map((m) => [m.key, m]));
    assert.match(run(byKey.get("20_cpu_usage_host") as Metadata, cases.running as string), /^\d+%\n$/);
    assert.match(run(byKey.get("21_mem_usage_host") as Metadata, cases.running as string), /^\d+\.\d\/\d+\.\d GiB \(\d+%\)\n$/);
    assert.match(run(byKey.get("22_load_host") as Metadata, cases.running as string), /^[\d.]+ [\d.]+ [\d.]+ \(\d+ cores\)\n$/);
    // Their time, for the record (no bound asserted: the machine is shared).
    for (const key of ["00_scaletest_status", "01_scaletest_phase", "02_scaletest_previous_phase", "22_load_host"]) {
      const m = byKey.get(key) as Metadata;
      const n = 20;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) run(m, cases.running as string);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6 / n;
      process.stdout.write(`# ${key}: ${ms.toFixed(1)} ms per call (mean of ${n}, incl. spawn)\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the README's metadata table lists every entry at the template's interval, and each answers within its timeout's budget", async () => {
  const all = await metadata();
  const doc = readFileSync(join(TEMPLATE_DIR, "README.md"), "utf8");
  const block = /<!-- BEGIN metadata[^>]*-->([\s\S]*?)<!-- END metadata -->/.exec(doc)?.[1] ?? "";
  const rows = new Map([...block.matchAll(/^\| ([^|]+?) \| (\d+) s \|/gm)].map((m) => [m[1] as string, Number(m[2])]));
  assert.equal(rows.size, all.length, "one README row per metadata entry");
  for (const m of all) {
    assert.equal(rows.get(m.name), m.interval, `${m.name}: README says every ${rows.get(m.name)} s, main.tf ${m.interval} s`);
    assert.ok(m.timeout <= m.interval, `${m.name}: timeout within the interval`);
  }
  for (const key of ["00_scaletest_status", "01_scaletest_phase", "02_scaletest_previous_phase"]) {
    assert.equal(all.find((m) => m.key === key)?.interval, 1, `${key} every second, as Coder's runner`);
  }
});
