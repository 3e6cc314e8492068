import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { compareRuns, formatCompareText, renderCompareMarkdown, rowVerdict } from "../src/report/compare.ts";
import { loadReportModel } from "../src/report/model.ts";
import { reportMain, type Io } from "../scripts/report.ts";
import { copyRun, productRun } from "./helpers/product-run.ts";
import { tempDir } from "./helpers/results-tmp.ts";

// Two real runs against the simulator: builds of ~50 ms (A) and ~600 ms (B), everything else the same.
const tmp = tempDir("scaletest-compare-");
let A = "";
let B = "";
before(async () => {
  const a = await productRun(tmp.path, "ra", [], { buildDuration: 50 });
  const b = await productRun(tmp.path, "rb", ["--comment", "slower builds", "--threshold-provision-p95", "500ms"], { buildDuration: 600 });
  assert.equal(a.exitCode, 0, a.output);
  assert.equal(b.exitCode, 1, "B's builds miss its 500ms provisioning limit");
  A = a.runDir;
  B = b.runDir;
});
after(() => tmp.cleanup());

function capture(): Io & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return { out: (s) => void (out += s), err: (s) => void (err += s), stdout: () => out, stderr: () => err };
}

const ENV = { PATH: process.env.PATH };

test("rowVerdict: tolerance, absolute floor and direction", () => {
  assert.equal(rowVerdict(100, 109, "ms", "lower"), "same");
  assert.equal(rowVerdict(100, 111, "ms", "lower"), "worse");
  assert.equal(rowVerdict(100, 80, "ms", "lower"), "better");
  assert.equal(rowVerdict(2, 6, "ms", "lower"), "same", "4ms is within the 5ms floor");
  assert.equal(rowVerdict(1, 0.9, "ratio", "higher"), "same");
  assert.equal(rowVerdict(1, 0.8, "ratio", "higher"), "worse");
  assert.equal(rowVerdict(0, 0.002, "ratio", "lower"), "worse", "an error rate leaving zero is worse");
  assert.equal(rowVerdict(1000, 1500, "ops/s", "higher"), "better");
  assert.equal(rowVerdict(null, 5, "ms", "lower"), "n/a");
  assert.equal(rowVerdict(100, 115, "ms", "lower", { tolerance: 0.2 }), "same");
});

test("--compare flags the slower build stage of run B, lists the settings that differ and warns", () => {
  const a = loadReportModel(A);
  const b = loadReportModel(B);
  const c = compareRuns(a, b);
  const row = (key: string) => c.rows.find((r) => r.key === key)!;
  for (const p of ["p50", "p95"]) assert.equal(row(`stage:create-workspaces:build:${p}`).verdict, "worse", `build ${p}`);
  assert.equal(row("stage:create-workspaces:total:p95").verdict, "worse");
  // The provisioning threshold pairs across runs although its limit differs (2m vs 500ms).
  const prov = row("threshold:create-workspaces:create.provision.p95");
  assert.equal(prov.verdict, "worse");
  assert.equal(row("success:create-workspaces").verdict, "same");
  assert.equal(row("errors:ssh-traffic").verdict, "same");
  assert.ok(row("throughput:ssh-traffic:bytes"));
  // Not like for like: the settings that differ are listed.
  assert.deepEqual(c.settingsDiff.map((d) => d.setting).sort(), ["--comment", "--run-id", "--threshold-provision-p95", "--url"]);
  assert.equal(c.settingsDiff.find((d) => d.setting === "--threshold-provision-p95")!.b, "500ms");
  const text = formatCompareText(c);
  assert.match(text, /create-workspaces\s+build p95\s+.*WORSE/);
  assert.match(text, /not like for like/);
  assert.match(text, /--threshold-provision-p95\s+2m\s+500ms/);
  const md = renderCompareMarkdown(c);
  assert.match(md, /\| create-workspaces \| build p95 \| [^|]+ \| [^|]+ \| \+[^|]+ \| \+\d+% \| \*\*WORSE\*\* \|/);
  assert.match(md, /not like for like/);
  // A run against itself: every row "same", no settings differ.
  const same = compareRuns(a, a);
  assert.equal(same.counts.worse + same.counts.better + same.counts["n/a"], 0);
  assert.deepEqual(same.settingsDiff, []);
});

test("compare marks metrics present in only one run as n/a", () => {
  const t = tempDir("scaletest-compare-");
  try {
    const partial = copyRun(B, t.path, "part");
    rmSync(join(partial, "summary.json"));
    for (const d of readdirSync(partial).filter((d) => /ssh-traffic$/.test(d))) rmSync(join(partial, d), { recursive: true });
    const c = compareRuns(loadReportModel(A), loadReportModel(partial));
    const ssh = c.rows.find((r) => r.key === "stage:ssh-traffic:ssh.tick:p95")!;
    assert.equal(ssh.verdict, "n/a");
    assert.equal(ssh.b, null);
  } finally {
    t.cleanup();
  }
});

test("scripts/report.ts regenerates the latest run's report and compares runs", async () => {
  const aDir = A;
  const bDir = B;
  // Default: the run named in LATEST (rb, written last).
  let io = capture();
  assert.equal(await reportMain(["--results-dir", tmp.path], io, ENV), 0, io.stderr());
  assert.match(io.stdout(), /Run rb: FAIL/);
  assert.ok(existsSync(join(bDir, "report.html")) && existsSync(join(bDir, "report.md")));
  // By run id and by folder.
  io = capture();
  assert.equal(await reportMain(["--results-dir", tmp.path, "--run-id", "ra"], io, ENV), 0, io.stderr());
  assert.match(io.stdout(), /Run ra: PASS/);
  io = capture();
  assert.equal(await reportMain([aDir], io, { ...ENV, SCALETEST_RESULTS_DIR: "/nonexistent" }), 0, io.stderr());

  io = capture();
  const json = join(tmp.path, "out", "compare.json");
  assert.equal(await reportMain(["--results-dir", tmp.path, "--compare", "ra", bDir, "--output", `json:${json}`], io, ENV), 0, io.stderr());
  assert.match(io.stdout(), /build p95 .*WORSE/);
  assert.ok(existsSync(join(bDir, "compare.md")));
  const parsed = JSON.parse(readFileSync(json, "utf8")) as { rows: { key: string; verdict: string }[] };
  assert.equal(parsed.rows.find((r) => r.key === "stage:create-workspaces:build:p95")?.verdict, "worse");
  io = capture();
  assert.equal(await reportMain(["--results-dir", tmp.path, "--compare", "ra", "rb", "--fail-on-worse"], io, ENV), 1);
  io = capture();
  assert.equal(await reportMain(["--results-dir", tmp.path, "--compare", "ra", "ra", "--fail-on-worse"], io, ENV), 0);

  // Bad input: one clear message, exit 2.
  io = capture();
  assert.equal(await reportMain(["--results-dir", tmp.path, "--compare", "ra"], io, ENV), 2);
  assert.match(io.stderr(), /--compare needs two runs/);
  io = capture();
  assert.equal(await reportMain(["--results-dir", join(tmp.path, "empty")], io, ENV), 2);
  assert.match(io.stderr(), /no run found/);
  io = capture();
  assert.equal(await reportMain(["--results-dir", tmp.path, "zzz"], io, ENV), 2);
  assert.match(io.stderr(), /no run folder "zzz"/);
});

test("re-judging a failed run the product wrote: a looser limit passes it, one row per threshold", async () => {
  const t = tempDir("scaletest-rejudge-");
  try {
    const dir = copyRun(B, t.path, "rj");
    const before = loadReportModel(dir);
    assert.equal(before.verdict, "fail");
    const failed = before.thresholds.find((x) => x.expression === "create.provision.p95<500ms")!;
    assert.equal(failed.ok, false);
    let io = capture();
    assert.equal(await reportMain([dir, "--threshold-provision-p95", "10m"], io, { ...ENV, SCALETEST_THRESHOLD_CREATE_SUCCESS: "100" }), 0, io.stderr());
    assert.match(io.stdout(), /Run rb: PASS/);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(md, /\| create-workspaces \| create\.provision\.p95<10m \| [^|]+ \| 10m \| ✓ pass \|/);
    // The changed limit replaced its row: exactly one provisioning row, and the old FAIL is gone.
    assert.equal(md.match(/^\| create-workspaces \| create\.provision\.p95/gm)!.length, 1, md);
    assert.doesNotMatch(md, /500ms \| ✗/);
    // One row per threshold; env thresholds do not re-judge (the success rate keeps its recorded 99%).
    const rows = md.split("\n").filter((l) => /^\| [a-z-]+ \| [a-z.]+/.test(l) && /✓|✗/.test(l));
    const ids = rows.map((l) => l.split("|")[1]!.trim() + l.split("|")[2]!.trim().replace(/(<=|>=|<|>)[^<>=]*$/, ""));
    assert.equal(new Set(ids).size, ids.length, rows.join("\n"));
    assert.match(md, /create\.success_rate>=99%/);
    // A tighter limit fails it again; without flags the recorded verdict stands.
    io = capture();
    assert.equal(await reportMain([dir, "--threshold-provision-p95", "1ms"], io, ENV), 0);
    assert.match(io.stdout(), /Run rb: FAIL/);
    io = capture();
    assert.equal(await reportMain([dir], io, ENV), 0);
    assert.match(io.stdout(), /Run rb: FAIL/);
  } finally {
    t.cleanup();
  }
});
