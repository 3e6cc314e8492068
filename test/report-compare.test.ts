import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compareRuns, formatCompareText, renderCompareMarkdown, rowVerdict } from "../src/report/compare.ts";
import { loadReportModel } from "../src/report/model.ts";
import { reportMain, type Io } from "../scripts/report.ts";
import { writeFixtureRun } from "./helpers/report-fixture.ts";
import { tempDir } from "./helpers/results-tmp.ts";

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

test("--compare flags the slower build stage of run B and nothing outside provisioning", () => {
  const tmp = tempDir("scaletest-compare-");
  try {
    const a = loadReportModel(writeFixtureRun(tmp.path, { runId: "base" }));
    const b = loadReportModel(writeFixtureRun(tmp.path, { runId: "slow", buildSlowdown: 3 }));
    const c = compareRuns(a, b);
    const row = (key: string) => c.rows.find((r) => r.key === key)!;
    for (const p of ["p50", "p95", "p99"]) {
      const r = row(`stage:create-workspaces:build:${p}`);
      assert.equal(r.verdict, "worse", `build ${p}`);
      assert.ok(r.changePct! > 100, `build ${p} changed ${r.changePct}%`);
    }
    assert.equal(row("stage:create-workspaces:total:p95").verdict, "worse");
    assert.equal(row("threshold:create-workspaces:provisioning p95").verdict, "worse");
    for (const s of ["create", "queue", "agent"]) assert.equal(row(`stage:create-workspaces:${s}:p95`).verdict, "same", s);
    assert.equal(row("success:create-workspaces").verdict, "same");
    // The build stage only sits in provisioning: every other row is unchanged.
    const worse = c.rows.filter((r) => r.verdict === "worse").map((r) => r.key);
    for (const k of worse) assert.match(k, /create-workspaces:(build|total|provisioning p95)/);
    const others = c.rows.filter((r) => r.phase !== "create-workspaces");
    assert.ok(others.length > 20);
    for (const r of others) assert.equal(r.verdict, "same", r.key);
    // Throughput and error rates are compared too.
    assert.equal(row("throughput:ssh-traffic:bytes").verdict, "same");
    assert.equal(row("throughput:dashboard-traffic:ops").unit, "ops/s");
    assert.equal(row("errors:ssh-traffic").verdict, "same");
    assert.equal(c.counts.worse, worse.length);

    const text = formatCompareText(c);
    assert.match(text, /create-workspaces\s+build p95\s+.*WORSE/);
    assert.match(text, /B is WORSE than A in \d+ metrics/);
    const md = renderCompareMarkdown(c);
    assert.match(md, /\| create-workspaces \| build p95 \| [^|]+ \| [^|]+ \| \+[^|]+ \| \+\d+% \| \*\*WORSE\*\* \|/);

    // Identical runs: every row "same".
    const same = compareRuns(a, loadReportModel(writeFixtureRun(tmp.path, { runId: "again" })));
    assert.equal(same.counts.worse + same.counts.better + same.counts["n/a"], 0);
  } finally {
    tmp.cleanup();
  }
});

test("compare marks metrics present in only one run as n/a", () => {
  const tmp = tempDir("scaletest-compare-");
  try {
    const a = loadReportModel(writeFixtureRun(tmp.path, { runId: "full" }));
    const b = loadReportModel(writeFixtureRun(tmp.path, { runId: "part", unfinished: true }));
    const c = compareRuns(a, b);
    const ssh = c.rows.find((r) => r.key === "stage:ssh-traffic:tick:p95")!;
    assert.equal(ssh.verdict, "n/a");
    assert.equal(ssh.b, null);
    assert.equal(b.verdict, "incomplete");
  } finally {
    tmp.cleanup();
  }
});

test("scripts/report.ts regenerates the latest run's report and compares runs", async () => {
  const tmp = tempDir("scaletest-report-cli-");
  try {
    const aDir = writeFixtureRun(tmp.path, { runId: "ra" });
    const bDir = writeFixtureRun(tmp.path, { runId: "rb", buildSlowdown: 2.5 });
    // Default: the run named in LATEST (rb, written last).
    let io = capture();
    assert.equal(await reportMain(["--results-dir", tmp.path], io, ENV), 0, io.stderr());
    // 2.5x slower builds push provisioning p95 past the 2m threshold.
    assert.match(io.stdout(), /Run rb: FAIL/);
    assert.ok(existsSync(join(bDir, "report.html")) && existsSync(join(bDir, "report.md")));
    assert.ok(!existsSync(join(aDir, "report.html")));
    // By run id and by folder.
    io = capture();
    assert.equal(await reportMain(["--results-dir", tmp.path, "--run-id", "ra"], io, ENV), 0, io.stderr());
    assert.match(io.stdout(), /Run ra: PASS/);
    assert.ok(existsSync(join(aDir, "report.md")));
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
  } finally {
    tmp.cleanup();
  }
});

test("report.ts --threshold-* flags re-judge the recorded data", async () => {
  const tmp = tempDir("scaletest-report-cli-");
  try {
    const dir = writeFixtureRun(tmp.path, { runId: "rj" });
    let io = capture();
    // Fixture provisioning p95 is about 66s: a 1m limit fails it, the dashboard limit still passes.
    assert.equal(await reportMain([dir, "--threshold-provision-p95", "1m", "--threshold-dashboard-p95", "300ms"], io, { ...ENV, SCALETEST_THRESHOLD_CREATE_SUCCESS: "100" }), 0, io.stderr());
    assert.match(io.stdout(), /Run rj: FAIL/);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(md, /\| create-workspaces \| provisioning p95 \| p95<1m \| 1m0\ds \| \*\*FAIL\*\* \|/);
    assert.match(md, /\| dashboard-traffic \| dashboard p95 \| p95<300ms \| \d+ms \| pass \|/);
    assert.match(md, /thresholds re-judged/);
    // Each check appears once (replaced, not duplicated); env thresholds do not re-judge.
    assert.equal(md.match(/provisioning p95 \|/g)!.length, 1);
    assert.match(md, /create success \| >=99% \|/);
    // Without flags the recorded verdicts stand.
    io = capture();
    assert.equal(await reportMain([dir], io, ENV), 0);
    assert.match(io.stdout(), /Run rj: PASS/);
  } finally {
    tmp.cleanup();
  }
});
