// Acceptance: the report a platform team reads and forwards, rendered in headless Chromium from runs the
// product writes against the simulator — the demo's run and a failed one. Checks the DOM: one headline
// card per figure with its limit, failed thresholds first, every time chart spanning exactly the run,
// no stage chart mixing medians more than 100x apart. Screenshots land in test-output/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { launchChromium } from "../src/dashboard/index.ts";
import { MAX_SCALE_RATIO, MEDIAN_FLOOR_MS } from "../src/report/chart-data.ts";
import { writeReport } from "../src/report/write.ts";
import { requireChromium } from "./helpers/chromium.ts";
import { productRun } from "./helpers/product-run.ts";
import { tempDir } from "./helpers/results-tmp.ts";
import { reportMain } from "../scripts/report.ts";

const OUT_DIR = resolve("test-output");
const tmp = tempDir("scaletest-report-view-");
let DEMO = "";
let FAILED = "";
before(async () => {
  const demo = await productRun(tmp.path, "view1", [], {}, { coderdMetrics: true });
  assert.equal(demo.exitCode, 0, demo.output);
  // Builds of ~600 ms against a 500 ms provisioning limit: the run fails on that one threshold.
  const failed = await productRun(tmp.path, "view2", ["--threshold-provision-p95", "500ms", "--threshold-tick-p99", "10s"], { buildDuration: 600 }, { coderdMetrics: true });
  assert.equal(failed.exitCode, 1, failed.output);
  DEMO = demo.runDir;
  FAILED = failed.runDir;
});
after(() => tmp.cleanup());

interface PageView {
  cards: { id: string; ok: string; limit: string | null; text: string }[];
  thresholdRows: { text: string; failed: boolean }[];
  timeCharts: { id: string; min: number; max: number; datasets: { label: string; dash: number }[] }[];
  stageCharts: { id: string; labels: string[]; p50: (number | null)[] }[];
  errors: string[];
  drawn: number;
  canvases: number;
}

/** Renders a run's report.html in Chromium and reads what a reader sees; saves a full-page screenshot. */
async function view(chromium: string, runDir: string, shot: string): Promise<PageView> {
  const written = writeReport(runDir, { generatedAt: new Date("2026-01-01T00:00:00Z") });
  const browser = await launchChromium(chromium);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) errors.push(`network request ${r.url()}`);
    });
    await page.goto(pathToFileURL(written.html).href, { waitUntil: "load", timeout: 30_000 });
    await page.waitForFunction(() => document.body.getAttribute("data-charts-drawn") !== null, undefined, { timeout: 20_000 });
    // No named inner functions in here: tsx would wrap them in a helper the page does not have.
    const v = await page.evaluate(() => {
      type C = { scales: { x: { min: number; max: number } }; data: { labels: string[]; datasets: { label: string; data: unknown[]; borderDash?: number[] }[] } };
      const w = window as unknown as { Chart: { getChart(c: HTMLCanvasElement): C | undefined } };
      const canvases = Array.from(document.querySelectorAll("canvas"));
      return {
        cards: Array.from(document.querySelectorAll<HTMLElement>("#headline [data-card]")).map((el) => ({
          id: el.dataset.card!, ok: el.dataset.ok!, limit: el.dataset.limit ?? null, text: el.textContent ?? "",
        })),
        thresholdRows: Array.from(document.querySelectorAll("#thresholds tbody tr")).map((tr) => ({ text: tr.textContent ?? "", failed: tr.classList.contains("bad") })),
        timeCharts: canvases.filter((c) => c.dataset.axis === "time").map((c) => ({
          id: c.id, min: w.Chart.getChart(c)!.scales.x.min, max: w.Chart.getChart(c)!.scales.x.max,
          datasets: w.Chart.getChart(c)!.data.datasets.map((d) => ({ label: d.label, dash: (d.borderDash ?? []).length })),
        })),
        stageCharts: canvases.filter((c) => c.dataset.axis === "stages").map((c) => ({
          id: c.id, labels: w.Chart.getChart(c)!.data.labels, p50: w.Chart.getChart(c)!.data.datasets.find((d) => /p50$/.test(d.label))!.data as (number | null)[],
        })),
        drawn: Number(document.body.getAttribute("data-charts-drawn")),
        canvases: canvases.length,
      };
    });
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, shot), fullPage: true });
    assert.ok(statSync(join(OUT_DIR, shot)).size > 20_000);
    return { ...v, errors };
  } finally {
    await browser.close();
  }
}

function runDurationSec(runDir: string): number {
  return (JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as { duration_ms: number }).duration_ms / 1000;
}

/** What every report must hold, whatever the run. */
function commonChecks(v: PageView, runDir: string): void {
  assert.deepEqual(v.errors, []);
  assert.equal(v.drawn, v.canvases, "every chart drew");
  // Every time chart spans exactly the run: 0 .. its duration.
  const duration = runDurationSec(runDir);
  assert.ok(v.timeCharts.length >= 6, `time charts: ${v.timeCharts.map((c) => c.id).join(", ")}`);
  assert.ok(v.timeCharts.some((c) => c.id === "chart-timeline"));
  for (const c of v.timeCharts) {
    assert.equal(c.min, 0, `${c.id} starts at the run's start`);
    assert.ok(Math.abs(c.max - duration) < 1e-6, `${c.id} ends at ${c.max}s; the run lasted ${duration}s`);
  }
  // Throughput: achieved and the dashed target, both drawn (the caption promises the dashed line).
  const throughput = v.timeCharts.filter((c) => c.id.startsWith("chart-throughput"));
  assert.equal(throughput.length, 3, "one per traffic kind and one for the dashboard");
  const traffic = throughput.filter((c) => c.datasets.some((d) => d.label === "target"));
  assert.equal(traffic.length, 2);
  for (const c of traffic) {
    assert.deepEqual(c.datasets.map((d) => d.label), ["achieved", "target"]);
    assert.ok(c.datasets[1]!.dash > 0, "target is dashed");
  }
  assert.equal(throughput.filter((c) => c.datasets.map((d) => d.label).join() === "views,failed").length, 1);
  // Tick percentiles over time per traffic kind, page load percentiles over time for the dashboard.
  const latency = v.timeCharts.filter((c) => c.id.startsWith("chart-latency-time"));
  assert.equal(latency.length, 3);
  for (const c of latency) assert.deepEqual(c.datasets.map((d) => d.label), ["p50", "p95", "p99"]);
  // No stage chart mixes medians more than 100x apart.
  assert.ok(v.stageCharts.length >= 4);
  for (const c of v.stageCharts) {
    const medians = c.p50.filter((x): x is number => x !== null).map((x) => Math.max(x, MEDIAN_FLOOR_MS));
    const ratio = Math.max(...medians) / Math.min(...medians);
    assert.ok(ratio <= MAX_SCALE_RATIO, `${c.id} mixes ${c.labels.join(", ")}: medians ${medians.join(", ")} (${ratio.toFixed(0)}x)`);
  }
  // One card per headline figure.
  const labels = v.cards.map((c) => c.id);
  for (const id of ["create-workspaces:ready", "create-workspaces:provisioning-p95", "ssh-traffic:tick-p99", "web-terminal-traffic:tick-p99", "dashboard-traffic:page-p95", "run:errors"]) {
    assert.equal(v.cards.filter((c) => c.id === id).length, 1, `one card ${id}; cards: ${v.cards.map((c) => c.id).join(", ")}`);
  }
  assert.equal(new Set(labels).size, labels.length, "no figure twice");
  // A card judged by a threshold shows its limit.
  for (const c of v.cards.filter((x) => x.ok !== "none")) {
    assert.ok(c.limit, `${c.id} has a limit`);
    assert.ok(c.text.includes(c.limit!), `${c.id} shows its limit ${c.limit}: ${c.text}`);
  }
}

test("the demo's report: headline cards with limits, charts on the run's time axis and their own scales", async (t) => {
  const chromium = requireChromium(t);
  if (!chromium) return;
  const v = await view(chromium, DEMO, "report-view-demo.png");
  commonChecks(v, DEMO);
  const card = (id: string) => v.cards.find((c) => c.id === id)!;
  assert.equal(card("create-workspaces:ready").ok, "true");
  assert.match(card("create-workspaces:ready").text, /4 of 4/);
  // "provisioning p95 361ms of <2m": the figure, the limit and how close it came.
  assert.match(card("create-workspaces:provisioning-p95").text, /provisioning p95.*\d.*of <2m \(\d+% of the limit\)/);
  assert.equal(card("create-workspaces:provisioning-p95").limit, "2m");
  assert.match(card("dashboard-traffic:page-p95").text, /of <10s/);
  assert.ok(v.cards.every((c) => c.ok !== "false"));
  // coderd's API p95 and CPU are time charts like the others (commonChecks: drawn, on the run's axis).
  for (const id of ["chart-coderd-api-p95", "chart-coderd-cpu"]) {
    const c = v.timeCharts.find((x) => x.id === id);
    assert.ok(c, `${id} drawn`);
    assert.ok(c.datasets.length >= 1, `${id} has a line per replica`);
  }
  // The dashboard's per-second timeline accounts for every page view it counted.
  const rec = JSON.parse(readFileSync(join(DEMO, "05-dashboard-traffic", "result.json"), "utf8")) as { extra: { dashboard: { totals: { views: number }; timeline: { views: number; hist: string }[] } } };
  const dash = rec.extra.dashboard;
  assert.ok(dash.totals.views > 0);
  assert.equal(dash.timeline.reduce((a, x) => a + x.views, 0), dash.totals.views);
  assert.ok(dash.timeline.every((x) => x.hist.length > 0));
});

test("a failed run's report: the failed threshold's card and row come first, in red", async (t) => {
  const chromium = requireChromium(t);
  if (!chromium) return;
  const v = await view(chromium, FAILED, "report-view-failed.png");
  commonChecks(v, FAILED);
  assert.equal(v.cards[0]!.id, "create-workspaces:provisioning-p95");
  assert.equal(v.cards[0]!.ok, "false");
  assert.match(v.cards[0]!.text, /FAILED: .* of <500ms/);
  const firstPass = v.cards.findIndex((c) => c.ok !== "false");
  assert.ok(v.cards.slice(firstPass).every((c) => c.ok !== "false"), "failed cards are all first");
  assert.ok(v.thresholdRows[0]!.failed && /create\.provision\.p95<500ms/.test(v.thresholdRows[0]!.text));
  assert.ok(v.thresholdRows.slice(1).every((r) => !r.failed));
  // report.md: the headline and the threshold table, failed first, as plain tables that paste into a ticket.
  const md = readFileSync(join(FAILED, "report.md"), "utf8");
  const headline = md.indexOf("## Headline");
  assert.ok(headline > 0 && headline < md.indexOf("## Thresholds") && md.indexOf("## Thresholds") < md.indexOf("## Phases"));
  assert.match(md, /## Headline\n\n\|  \| figure \| phase \| value \| limit \| how close \|\n\| --- [^\n]*\n\| ✗ \*\*FAIL\*\* \| provisioning p95 \| create-workspaces \| [^|]+ \| 500ms \| [^|]+ of <500ms \(\d+% of the limit\) \|/);
  assert.match(md, /## Thresholds\n\n[^\n]*\n[^\n]*\n\| create-workspaces \| create\.provision\.p95<500ms \| [^|]+ \| 500ms \| ✗ \*\*FAIL\*\* \|/);
  // The tick p99 limit given on the command line judges each traffic kind's card.
  assert.equal(v.cards.find((c) => c.id === "ssh-traffic:tick-p99")!.limit, "10s");
});

test("the compare view of a fast-build and a slow-build run highlights the build stage, settings that differ first", async (t) => {
  const chromium = requireChromium(t);
  if (!chromium) return;
  const io = { out: (_: string) => {}, err: (_: string) => {} };
  // A = the demo run (builds of tens of ms), B = the failed run (builds of ~600 ms).
  assert.equal(await reportMain(["--compare", DEMO, FAILED], io, { PATH: process.env.PATH }), 0);
  const html = join(FAILED, "compare.html");
  const browser = await launchChromium(chromium);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) errors.push(`network request ${r.url()}`);
    });
    await page.goto(pathToFileURL(html).href, { waitUntil: "load", timeout: 30_000 });
    await page.waitForFunction(() => document.body.getAttribute("data-charts-drawn") !== null, undefined, { timeout: 20_000 });
    const v = await page.evaluate(() => {
      type C = { scales: { x: { min: number; max: number } }; data: { labels: string[]; datasets: { label: string }[] } };
      const w = window as unknown as { Chart: { getChart(c: HTMLCanvasElement): C | undefined } };
      const headings = Array.from(document.querySelectorAll("main > h2")).map((h) => h.textContent);
      return {
        headings,
        settings: Array.from(document.querySelectorAll("#settings-diff tbody th")).map((th) => th.textContent),
        diffs: Array.from(document.querySelectorAll("#differences tbody tr")).map((tr) => ({ key: (tr as HTMLElement).dataset.key, cls: tr.className })),
        stages: Array.from(document.querySelectorAll<HTMLCanvasElement>("canvas[data-axis=stages]")).map((c) => ({
          title: c.getAttribute("aria-label"), labels: w.Chart.getChart(c)!.data.labels, datasets: w.Chart.getChart(c)!.data.datasets.map((d) => d.label),
        })),
        time: Array.from(document.querySelectorAll<HTMLCanvasElement>("canvas[data-axis=time]")).map((c) => ({
          min: w.Chart.getChart(c)!.scales.x.min, max: w.Chart.getChart(c)!.scales.x.max, datasets: w.Chart.getChart(c)!.data.datasets.map((d) => d.label),
        })),
      };
    });
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, "report-view-compare.png"), fullPage: true });
    assert.deepEqual(errors, []);
    // The settings that differ come first, before any figure.
    assert.equal(v.headings[0], "Settings that differ");
    assert.ok(v.settings.includes("--threshold-provision-p95"), v.settings.join(", "));
    // The build stage got slower: listed as worse, and its bar marked in the build-stage chart.
    const worse = v.diffs.filter((d) => d.cls === "bad").map((d) => d.key);
    assert.ok(worse.includes("stage:create-workspaces:build:p50"), worse.join(", "));
    assert.equal(v.diffs[0]!.cls, "bad", "worse rows first");
    const build = v.stages.find((s) => /create-workspaces: build stages/.test(s.title ?? "") && s.labels.some((l) => /build$/.test(l)))!;
    assert.ok(build, v.stages.map((s) => s.title).join(" | "));
    assert.ok(build.labels.includes("▲ build"), build.labels.join(", "));
    assert.deepEqual(build.datasets, ["A p50", "A p95", "A p99", "B p50", "B p95", "B p99"]);
    // Both runs overlaid on time charts spanning the longer run.
    const longer = Math.max(runDurationSec(DEMO), runDurationSec(FAILED));
    assert.ok(v.time.length >= 5);
    for (const c of v.time) {
      assert.equal(c.min, 0);
      assert.ok(Math.abs(c.max - longer) < 1e-6);
      assert.ok(c.datasets.some((d) => d.startsWith("A ")) && c.datasets.some((d) => d.startsWith("B ")), c.datasets.join(", "));
    }
  } finally {
    await browser.close();
  }
});
