// Acceptance: the live report. During a ~30 s pipeline run against the simulator, the page the live server
// serves (opened in headless Chromium) shows the current phase, and its polling moves the last point of
// the charts along the time axis; when the run ends the page is the final report and stops polling.
// Every wait is for an observable condition under a bounded deadline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { launchChromium } from "../src/dashboard/index.ts";
import { livePage, startLiveServer } from "../src/report/live.ts";
import { requireChromium } from "./helpers/chromium.ts";
import { productRun } from "./helpers/product-run.ts";
import { tempDir } from "./helpers/results-tmp.ts";

const OUT_DIR = resolve("test-output");

test("the live page follows a running pipeline: current phase, charts growing, then the final report", async (t) => {
  const chromium = requireChromium(t);
  if (!chromium) return;
  const tmp = tempDir("scaletest-report-live-");
  // Before any run: a page saying so (it refreshes until one starts).
  assert.match(livePage({ resultsDir: tmp.path }), /No run has started yet/);
  const server = await startLiveServer({ address: "127.0.0.1:0", resultsDir: tmp.path, refreshMs: 1000 });
  const browser = await launchChromium(chromium);
  let run: Promise<{ exitCode: number; output: string }> | null = null;
  try {
    // Three load phases of 8 s each: a run of about 30 s.
    run = productRun(tmp.path, "live1", ["--duration", "8s"]);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => {
      if (!r.url().startsWith(server.url)) errors.push(`request outside the live server: ${r.url()}`);
    });
    await page.goto(server.url, { waitUntil: "load", timeout: 30_000 });
    // The waiting page refreshes itself into the live page once the run folder exists.
    await page.waitForSelector("#live-phase", { timeout: 60_000 });
    // The current phase: a traffic phase, while it runs.
    await page.waitForFunction(() => /-traffic$/.test(document.getElementById("live-phase")?.textContent ?? ""), undefined, { timeout: 60_000, polling: 200 });
    const phase = await page.evaluate(() => document.getElementById("live-phase")!.textContent);
    const read = () =>
      page.evaluate(() => {
        type C = { scales: { x: { max: number } }; data: { datasets: { data: [number, number][] }[] } };
        const w = window as unknown as { Chart: { getChart(c: HTMLCanvasElement): C | undefined } };
        const c = w.Chart.getChart(document.getElementById("chart-timeline") as HTMLCanvasElement);
        const bars = c ? c.data.datasets[0]!.data : [];
        return { polls: Number(document.body.getAttribute("data-live-polls") ?? "0"), lastEnd: bars.length ? bars[bars.length - 1]![1] : null, xMax: c ? c.scales.x.max : null };
      });
    const first = await read();
    assert.ok(first.lastEnd !== null && first.xMax !== null, "the phase timeline is drawn while the run goes");
    // Polling moves the last point along the time axis (and the axis with it).
    await page.waitForFunction(
      (before) => {
        type C = { scales: { x: { max: number } }; data: { datasets: { data: [number, number][] }[] } };
        const w = window as unknown as { Chart: { getChart(c: HTMLCanvasElement): C | undefined } };
        const c = w.Chart.getChart(document.getElementById("chart-timeline") as HTMLCanvasElement);
        if (!c) return false;
        const bars = c.data.datasets[0]!.data;
        return Number(document.body.getAttribute("data-live-polls") ?? "0") > before.polls && bars[bars.length - 1]![1] > before.lastEnd! && c.scales.x.max > before.xMax!;
      },
      first,
      { timeout: 30_000, polling: 200 },
    );
    const later = await read();
    assert.ok(later.lastEnd! > first.lastEnd!, `last point ${first.lastEnd} -> ${later.lastEnd}`);
    assert.match(phase ?? "", /^(ssh|web-terminal)-traffic$|^dashboard-traffic$/);
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, "report-live-running.png"), fullPage: true });

    const done = await run;
    run = null;
    assert.equal(done.exitCode, 0, done.output);
    // At the end the page is the final report: verdict in, polling stopped.
    await page.waitForFunction(() => document.body.getAttribute("data-live-final") === "1", undefined, { timeout: 30_000, polling: 200 });
    const final = await page.evaluate(() => ({ verdict: document.getElementById("verdict")!.textContent, live: document.getElementById("live") !== null, cards: document.querySelectorAll("#headline [data-card]").length }));
    assert.match(final.verdict ?? "", /PASS/);
    assert.equal(final.live, false);
    assert.ok(final.cards >= 6);
    await page.screenshot({ path: join(OUT_DIR, "report-live-final.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    if (run) await run.catch(() => undefined);
    await browser.close();
    await server.close();
    tmp.cleanup();
  }
});

test("the live server answers only GET / and /healthz", async () => {
  const tmp = tempDir("scaletest-report-live-");
  const server = await startLiveServer({ address: "127.0.0.1:0", resultsDir: tmp.path });
  try {
    assert.equal((await fetch(server.url + "healthz")).status, 200);
    assert.equal((await fetch(server.url + "nope")).status, 404);
    assert.equal((await fetch(server.url, { method: "POST" })).status, 405);
    const r = await fetch(server.url);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /No run has started yet/);
  } finally {
    await server.close();
    tmp.cleanup();
  }
  await assert.rejects(startLiveServer({ address: "nonsense", resultsDir: "." }), /host:port/);
});
