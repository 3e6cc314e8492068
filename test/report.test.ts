import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chartData, histogram } from "../src/report/chart-data.ts";
import { chartJsSource, renderHtml, scriptJson } from "../src/report/html.ts";
import { renderMarkdown } from "../src/report/markdown.ts";
import { loadReportModel } from "../src/report/model.ts";
import { writeReport } from "../src/report/write.ts";
import { buildPhaseRecord, writePhaseRecord } from "../src/results/summary.ts";
import { openResultsDir } from "../src/results/dir.ts";
import { requireChromium } from "./helpers/chromium.ts";
import { launchChromium } from "../src/dashboard/index.ts";
import { writeFixtureRun } from "./helpers/report-fixture.ts";
import { tempDir } from "./helpers/results-tmp.ts";

const XSS = `evil </script><img src=x onerror="window.__xss=1"> & \u2028 <!-- end`;
const OUT_DIR = resolve("test-output");

test("loadReportModel reads every phase, threshold, build time and timeline of a run folder", () => {
  const tmp = tempDir("scaletest-report-");
  try {
    const runDir = writeFixtureRun(tmp.path, { runId: "rpt1", workspaces: 30 });
    const m = loadReportModel(runDir);
    assert.equal(m.runId, "rpt1");
    assert.equal(m.verdict, "pass");
    assert.deepEqual(m.phases.map((p) => p.name), ["create-workspaces", "ssh-traffic", "web-terminal-traffic", "dashboard-traffic", "cleanup"]);
    assert.deepEqual(m.phases.map((p) => p.kind), ["create", "traffic", "traffic", "dashboard", "cleanup"]);
    const create = m.phases[0]!;
    assert.equal(create.buildTimes.length, 30);
    assert.equal(create.totals.pass, 30);
    assert.deepEqual(Object.keys(create.stages), ["create", "queue", "build", "agent", "total"]);
    const ssh = m.phases[1]!;
    assert.equal(ssh.timeline.length, 60);
    // Timeline points are aligned on the run start, not the phase start.
    assert.ok(ssh.timeline[0]!.t > 60, `ssh timeline starts at ${ssh.timeline[0]!.t}s after the run start`);
    assert.ok(ssh.throughput.bytesPerSec! > 0 && ssh.throughput.opsPerSec! > 0);
    assert.equal(ssh.errorRate, 0);
    assert.equal(m.thresholds.length, 7);
    const success = m.thresholds.find((t) => t.name === "create success")!;
    assert.equal(success.unit, "ratio");
    assert.equal(success.direction, "higher");
    assert.equal(m.thresholds.find((t) => t.name === "dashboard p95")!.unit, "ms");
    assert.equal(m.status, "Complete");
    assert.equal(m.phase, "Cleanup [done]");
    assert.deepEqual(m.warnings, []);
  } finally {
    tmp.cleanup();
  }
});

test("a run in progress or with a broken phase still gives a report, with notes", () => {
  const tmp = tempDir("scaletest-report-");
  try {
    const runDir = writeFixtureRun(tmp.path, { runId: "rpt2", unfinished: true });
    const dir = openResultsDir(tmp.path, "rpt2");
    // A phase folder whose scenario died before writing result.json, and one with corrupt JSON.
    dir.phaseDir("ssh-traffic");
    writeFileSync(join(dir.phaseDir("app-traffic"), "result.json"), "{ not json");
    // A phase that errored immediately: no stages, no extra.
    const now = new Date();
    writePhaseRecord(dir, buildPhaseRecord({ runId: "rpt2", phase: "dashboard-traffic", startedAt: now, endedAt: now, error: new Error("API unreachable") }));
    const m = loadReportModel(runDir);
    assert.equal(m.verdict, "fail");
    assert.deepEqual(m.phases.map((p) => [p.name, p.status]), [
      ["create-workspaces", "pass"],
      ["ssh-traffic", "running"],
      ["app-traffic", "running"],
      ["dashboard-traffic", "error"],
    ]);
    assert.ok(m.warnings.some((w) => /summary\.json is missing/.test(w)));
    assert.ok(m.warnings.some((w) => /not valid JSON/.test(w)));
    const md = renderMarkdown(m);
    assert.match(md, /Error: API unreachable/);
    assert.match(md, /INCOMPLETE|FAIL/);
    const html = renderHtml(m);
    assert.match(html, /API unreachable/);
    // No timeline for traffic -> a "no data" note instead of an empty canvas.
    assert.doesNotMatch(html, /id="chart-throughput"/);
    assert.match(html, /No per-second timeline was recorded/);
  } finally {
    tmp.cleanup();
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
  const tmp = tempDir("scaletest-report-");
  try {
    const runDir = writeFixtureRun(tmp.path, { runId: "rpt3", comment: XSS });
    const html = renderHtml(loadReportModel(runDir));
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
    assert.equal(JSON.parse(data).runId, "rpt3");
    assert.equal(scriptJson("</script><!--\u2028"), '"\\u003c/script\\u003e\\u003c!--\\u2028"');
    assert.ok(chartJsSource().length > 100_000);
  } finally {
    tmp.cleanup();
  }
});

test("report.html renders its charts in headless Chromium (screenshot in test-output/)", async (t) => {
  const chromium = requireChromium(t);
  if (!chromium) return;
  const tmp = tempDir("scaletest-report-");
  const browser = await launchChromium(chromium);
  try {
    const runDir = writeFixtureRun(tmp.path, { runId: "rpt4", comment: XSS });
    const written = writeReport(runDir, { generatedAt: new Date("2025-03-01T11:00:00Z") });
    assert.ok(statSync(written.markdown).size > 500);
    assert.match(readFileSync(written.markdown, "utf8"), /# Scale test report: run rpt4/);
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
    assert.deepEqual(Object.keys(result.charts).sort(), ["chart-builds-0", "chart-latency", "chart-throughput", "chart-timeline"]);
    assert.equal(result.drawn, "4");
    for (const [id, c] of Object.entries(result.charts)) {
      assert.notEqual(c.type, "none", `${id} has no Chart.js instance`);
      assert.ok(c.width > 100, `${id} has width ${c.width}`);
      assert.ok(c.painted > 1000, `${id} looks blank (${c.painted} painted pixels)`);
    }
    assert.equal(result.charts["chart-timeline"]!.type, "bar");
    assert.equal(result.charts["chart-throughput"]!.type, "line");
    assert.equal(result.charts["chart-throughput"]!.datasets, 3);
    assert.equal(result.charts["chart-latency"]!.datasets, 4);
    assert.equal(result.thresholdRows, 7);
    assert.match(result.verdict ?? "", /PASS/);
    mkdirSync(OUT_DIR, { recursive: true });
    const shot = join(OUT_DIR, "report.png");
    await page.screenshot({ path: shot, fullPage: true });
    writeFileSync(join(OUT_DIR, "report.html"), readFileSync(written.html));
    assert.ok(statSync(shot).size > 20_000);
  } finally {
    await browser.close();
    tmp.cleanup();
  }
});

test("chartData has one timeline bar per phase, in run-relative seconds", () => {
  const tmp = tempDir("scaletest-report-");
  try {
    const m = loadReportModel(writeFixtureRun(tmp.path, { runId: "rpt5" }));
    const c = chartData(m);
    assert.equal(c.timeline!.length, 5);
    assert.equal(c.timeline![0]!.start, 1);
    for (const b of c.timeline!) assert.ok(b.end >= b.start);
    assert.equal(c.builds![0]!.count, 40);
    assert.equal(c.throughput!.map((s) => s.measure).join(","), "bytes,bytes,ops");
    assert.ok(c.latency!.some((g) => g.label === "dashboard-traffic · workspaces"));
  } finally {
    rmSync(tmp.path, { recursive: true, force: true });
  }
});
