import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chartData, histogram } from "../src/report/chart-data.ts";
import { chartJsSource, renderHtml, scriptJson } from "../src/report/html.ts";
import { renderMarkdown } from "../src/report/markdown.ts";
import { loadReportModel } from "../src/report/model.ts";
import { writeReport } from "../src/report/write.ts";
import { requireChromium } from "./helpers/chromium.ts";
import { launchChromium } from "../src/dashboard/index.ts";
import { copyRun, productRun } from "./helpers/product-run.ts";
import { tempDir } from "./helpers/results-tmp.ts";

const XSS = `evil </script><img src=x onerror="window.__xss=1"> & \u2028 <!-- end`;
const OUT_DIR = resolve("test-output");

// One real run (the pipeline against the simulator) that every test below reads or copies.
const tmp = tempDir("scaletest-report-");
let RUN = "";
before(async () => {
  const r = await productRun(tmp.path, "rpt1", ["--comment", XSS, "--cleanup-strategy", "always"]);
  assert.equal(r.exitCode, 0, r.output);
  RUN = r.runDir;
});
after(() => tmp.cleanup());

test("loadReportModel reads every phase, threshold, build time and timeline of a run folder", () => {
  const m = loadReportModel(RUN);
  assert.equal(m.runId, "rpt1");
  assert.equal(m.origin, "pipeline");
  assert.equal(m.verdict, "pass");
  assert.deepEqual(m.phases.filter((p) => p.dir).map((p) => p.name), ["prepare", "create-workspaces", "ssh-traffic", "web-terminal-traffic", "dashboard-traffic", "report", "cleanup"]);
  const byName = (n: string) => m.phases.find((p) => p.name === n)!;
  assert.deepEqual(["create-workspaces", "ssh-traffic", "dashboard-traffic", "cleanup"].map((n) => byName(n).kind), ["create", "traffic", "dashboard", "cleanup"]);
  const create = byName("create-workspaces");
  assert.equal(create.buildTimes.length, 4);
  assert.equal(create.totals.pass, 4);
  assert.deepEqual(Object.keys(create.stages).filter((k) => create.stages[k]!.count > 0), ["user", "login", "create", "queue", "build", "agent", "total"]);
  const ssh = byName("ssh-traffic");
  assert.ok(ssh.timeline.length >= 1);
  // Timeline points are aligned on the run start, not the phase start.
  assert.ok(ssh.timeline[0]!.t > 0, `ssh timeline starts at ${ssh.timeline[0]!.t}s after the run start`);
  assert.ok(ssh.throughput.bytesPerSec! > 0 && ssh.throughput.opsPerSec! > 0);
  assert.equal(ssh.errorRate, 0);
  // Every threshold the run was judged with, each with its expression, observed value and limit.
  const exprs = m.thresholds.map((t) => t.expression);
  assert.ok(exprs.includes("create.success_rate>=99%"), exprs.join(" "));
  assert.ok(exprs.includes("create.provision.p95<2m"), exprs.join(" "));
  assert.ok(exprs.includes("ssh.connection_error_rate<=0%"), exprs.join(" "));
  assert.ok(exprs.includes("cleanup.remaining<=0"), exprs.join(" "));
  const success = m.thresholds.find((t) => t.expression.startsWith("create.success_rate"))!;
  assert.equal(success.unit, "ratio");
  assert.equal(success.direction, "higher");
  assert.equal(success.observed, 1);
  assert.equal(m.thresholds.find((t) => t.metric === "create.provision")!.unit, "ms");
  assert.equal(m.status, "Complete");
  assert.match(m.phase, /^Cleanup \(always\) \[done\]$/);
  // The settings table is by flag name with Go durations.
  assert.equal(m.settings["--duration"], "2s");
  assert.equal(m.settings["--workspaces"], "4");
  assert.equal(m.settings["--token"], "[set]");
  assert.deepEqual(m.warnings, []);
});

test("a run in progress or with a broken phase still gives a report, with notes naming the file and field", () => {
  const t = tempDir("scaletest-report-");
  try {
    const runDir = copyRun(RUN, t.path, "rpt2");
    rmSync(join(runDir, "summary.json"));
    // A phase folder whose scenario died before writing result.json, one with corrupt JSON, one from another version.
    mkdirSync(join(runDir, "20-app-traffic"));
    mkdirSync(join(runDir, "21-ssh-traffic"));
    writeFileSync(join(runDir, "21-ssh-traffic", "result.json"), "{ not json");
    mkdirSync(join(runDir, "22-dashboard-traffic"));
    writeFileSync(join(runDir, "22-dashboard-traffic", "result.json"), JSON.stringify({ schema: "scaletest-phase/v1", phase: "dashboard-traffic" }));
    const m = loadReportModel(runDir);
    assert.equal(m.verdict, "incomplete");
    const status = (n: string) => m.phases.find((p) => p.name === n)!.status;
    assert.equal(status("app-traffic"), "running");
    assert.equal(status("ssh-traffic"), "unknown");
    assert.equal(status("dashboard-traffic"), "unknown");
    assert.ok(m.warnings.some((w) => /summary\.json is missing/.test(w)));
    assert.ok(m.warnings.some((w) => /21-ssh-traffic\/result\.json cannot be read \(content: not valid JSON/.test(w)), m.warnings.join("\n"));
    assert.ok(m.warnings.some((w) => /22-dashboard-traffic\/result\.json cannot be read \(field "schema"/.test(w)), m.warnings.join("\n"));
    // The earlier attempts stay listed.
    assert.equal(m.phases.find((p) => p.name === "ssh-traffic")!.otherAttempts.length, 1);
    assert.match(renderMarkdown(m), /INCOMPLETE/);
    // run.json that does not match the schema is an error naming the file and the field.
    const run = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
    writeFileSync(join(runDir, "run.json"), JSON.stringify({ ...run, settings: 5 }));
    assert.throws(() => loadReportModel(runDir), /run\.json: field "settings"/);
  } finally {
    t.cleanup();
  }
});

test("loadReportModel fails clearly for a missing folder", () => {
  assert.throws(() => loadReportModel("/nonexistent/run"), /run folder .* does not exist/);
});

test("histogram bins are nice, cover every value and sum to the count", () => {
  const values = [1000, 1500, 2200, 9999, 10_000, 4000];
  const bins = histogram(values, 10);
  assert.equal(bins.reduce((a, b) => a + b.count, 0), values.length);
  assert.equal(bins[0]!.from, 1000);
  assert.equal(bins[1]!.from - bins[0]!.from, 1000);
  assert.ok(bins.at(-1)!.to > 10_000 - 1);
  assert.deepEqual(histogram([], 10), []);
  assert.equal(histogram([5, 5, 5]).length, 1);
});

test("the HTML is self-contained and escapes embedded text", () => {
  {
    const html = renderHtml(loadReportModel(RUN));
    // Chart.js is inlined with its licence header; no source map reference.
    assert.match(html, /Chart\.js v4[\s\S]{0,200}Released under the MIT License/);
    assert.doesNotMatch(html, /sourceMappingURL/);
    // Nothing is loaded from anywhere: no src/href attributes or CSS url() to any URL.
    assert.doesNotMatch(html, /<[a-z][^>]*\s(?:src|href)\s*=/i);
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    assert.doesNotMatch(css, /url\(|@import/i);
    // Exactly the three script elements we wrote (the comment cannot close or open one).
    assert.equal(html.match(/<script/gi)!.length, 3);
    assert.equal(html.match(/<\/script/gi)!.length, 3);
    assert.ok(!html.includes("<img"), "markup from the comment must be escaped");
    assert.ok(html.includes("evil &lt;/script&gt;&lt;img"));
    const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    assert.doesNotMatch(data, /[<>]/);
    assert.equal(JSON.parse(data).runId, "rpt1");
    assert.equal(scriptJson("</script><!--\u2028"), '"\\u003c/script\\u003e\\u003c!--\\u2028"');
    assert.ok(chartJsSource().length > 100_000);
  }
});

test("report.html renders its charts in headless Chromium (screenshot in test-output/)", async (t) => {
  const chromium = requireChromium(t);
  if (!chromium) return;
  const t2 = tempDir("scaletest-report-");
  const browser = await launchChromium(chromium);
  try {
    const runDir = copyRun(RUN, t2.path, "rpt4");
    const written = writeReport(runDir, { generatedAt: new Date("2025-03-01T11:00:00Z") });
    assert.ok(statSync(written.markdown).size > 500);
    assert.match(readFileSync(written.markdown, "utf8"), /# Scale test report: run rpt1/);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(written.html).href, { waitUntil: "load", timeout: 20_000 });
    await page.waitForFunction(() => document.body.getAttribute("data-charts-drawn") !== null, undefined, { timeout: 10_000 });
    const result = await page.evaluate(() => {
      const w = window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { config: { type: string }; data: { datasets: unknown[] } } | undefined }; __xss?: number };
      const out: Record<string, { type: string; datasets: number; painted: number; width: number }> = {};
      for (const c of Array.from(document.querySelectorAll("canvas"))) {
        const chart = w.Chart.getChart(c);
        const ctx = c.getContext("2d")!;
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) painted++;
        out[c.id] = { type: chart?.config.type ?? "none", datasets: chart?.data.datasets.length ?? 0, painted, width: c.width };
      }
      return { charts: out, drawn: document.body.getAttribute("data-charts-drawn"), xss: w.__xss ?? 0, thresholdRows: document.querySelectorAll("#thresholds tbody tr").length, verdict: document.getElementById("verdict")!.textContent };
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith("file:")), [], "the page must not request anything from the network");
    assert.equal(result.xss, 0);
    const expected = chartData(loadReportModel(runDir));
    const ids = ["chart-timeline", ...expected.builds!.map((_, i) => `chart-builds-${i}`), ...expected.stageCharts.map((c) => c.id), ...expected.timeCharts.map((c) => c.id)];
    assert.deepEqual(Object.keys(result.charts).sort(), ids.sort());
    assert.equal(result.drawn, String(ids.length));
    for (const [id, c] of Object.entries(result.charts)) {
      assert.notEqual(c.type, "none", `${id} has no Chart.js instance`);
      assert.ok(c.width > 100, `${id} has width ${c.width}`);
      assert.ok(c.painted > 1000, `${id} looks blank (${c.painted} painted pixels)`);
    }
    assert.equal(result.charts["chart-timeline"]!.type, "bar");
    // Achieved and target per traffic phase; p50/p95/p99 per stage chart.
    for (const c of expected.timeCharts.filter((t) => /^chart-throughput/.test(t.id))) assert.equal(result.charts[c.id]!.datasets, 2);
    for (const c of expected.stageCharts) assert.equal(result.charts[c.id]!.datasets, 3);
    assert.equal(result.thresholdRows, loadReportModel(runDir).thresholds.length);
    assert.match(result.verdict ?? "", /PASS/);
    mkdirSync(OUT_DIR, { recursive: true });
    const shot = join(OUT_DIR, "report.png");
    await page.screenshot({ path: shot, fullPage: true });
    writeFileSync(join(OUT_DIR, "report.html"), readFileSync(written.html));
    assert.ok(statSync(shot).size > 20_000);
  } finally {
    await browser.close();
    t2.cleanup();
  }
});

test("chartData has one timeline bar per phase, in run-relative seconds", () => {
  const m = loadReportModel(RUN);
  const c = chartData(m);
  assert.equal(c.timeline!.length, m.phases.length);
  assert.ok(c.timeline![0]!.start >= 0);
  for (const b of c.timeline!) assert.ok(b.end >= b.start);
  assert.equal(c.builds![0]!.count, 4);
  assert.deepEqual(c.timeCharts.filter((t) => /throughput/.test(t.id)).map((t) => t.phase), ["ssh-traffic", "web-terminal-traffic", "dashboard-traffic"]);
  assert.ok(c.stageCharts.some((g) => g.phase === "dashboard-traffic" && g.bars.some((b) => /^dashboard\.page\{page=/.test(b.stage))), JSON.stringify(c.stageCharts.map((g) => g.title)));
});
