// Acceptance: the report of a capacity search, rendered in headless Chromium from a search the product ran
// against the simulator's capacity model: the capacity chart carries the limit line and the knee marker at
// the found step (read from the drawn Chart.js charts in the DOM); the screenshot is kept in test-output/.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { launchChromium } from "../src/dashboard/index.ts";
import { writeReport } from "../src/report/write.ts";
import { requireChromium } from "./helpers/chromium.ts";
import { runSmall, tempResults } from "./helpers/pipeline.ts";
import { withSim } from "./helpers/sim.ts";

const OUT_DIR = resolve("test-output");

test("the report's capacity chart draws the limit line and marks the knee at the found step", async (t) => {
  const chromium = requireChromium(t);
  if (!chromium) return;
  const dir = tempResults();
  try {
    // Past 6 live streams each echo waits 250 ms more per stream: tick p50 < 100ms holds at 6, breaks at 9.
    const r = await withSim({ preexisting: false, capacity: { connections: { knee: 6, perUnitMs: 250 } } }, (sim) =>
      runSmall(sim, dir, [
        "--run-id", "caprep", "--capacity", "--capacity-load", "web-terminal", "--workspaces", "9", "--create-concurrency", "9",
        "--capacity-steps", "3,6,9", "--capacity-max", "9", "--capacity-hold", "2s", "--tick-interval", "200ms",
        "--threshold", "web-terminal.tick.p50<100ms", "--cleanup-strategy", "on_stop",
      ]),
    );
    assert.equal(r.exitCode, 0, r.output);
    const cap = JSON.parse(readFileSync(join(r.runDir!, "capacity.json"), "utf8")) as { knee: number; first_bad: number };
    assert.equal(cap.knee, 6);
    assert.equal(cap.first_bad, 9);
    const written = writeReport(r.runDir!, { generatedAt: new Date("2026-01-01T00:00:00Z") });
    // The Markdown report says it in one line too.
    assert.match(readFileSync(written.markdown, "utf8"), /holds 6 web-terminal connections; at 9 web-terminal tick p50 was/);
    const browser = await launchChromium(chromium);
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on("pageerror", (x) => errors.push(x.message));
      await page.goto(pathToFileURL(written.html).href, { waitUntil: "load", timeout: 30_000 });
      await page.waitForFunction(() => document.body.getAttribute("data-charts-drawn") !== null, undefined, { timeout: 20_000 });
      const v = await page.evaluate(() => {
        type D = { label: string; data: { x: number; y: number | null }[]; borderDash?: number[] };
        const w = window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: D[] } } | undefined } };
        const canvases = Array.from(document.querySelectorAll<HTMLCanvasElement>("canvas[data-axis=capacity]"));
        return {
          summary: document.querySelector("#capacity")?.textContent ?? "",
          banner: document.querySelector("#verdict")?.textContent ?? "",
          sectionKnee: document.querySelector<HTMLElement>("#capacity")?.dataset.knee ?? "",
          kneeRow: document.querySelector<HTMLElement>("#capacity-steps tr.knee")?.dataset.load ?? "",
          charts: canvases.map((c) => ({
            expression: c.dataset.expression ?? "",
            knee: c.dataset.knee ?? "",
            limit: c.dataset.limit ?? "",
            datasets: (w.Chart.getChart(c)?.data.datasets ?? []).map((d) => ({ label: d.label, data: d.data, dash: (d.borderDash ?? []).length })),
          })),
        };
      });
      mkdirSync(OUT_DIR, { recursive: true });
      const shot = join(OUT_DIR, "capacity-report.png");
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 20_000);
      // The chart alone too, for a reader of the test output.
      await page.locator("canvas[data-expression='web-terminal.tick.p50<100ms']").screenshot({ path: join(OUT_DIR, "capacity-chart.png") });
      assert.deepEqual(errors, []);
      assert.match(v.summary, /holds 6 web-terminal connections; at 9 web-terminal tick p50 was \S+ > 100ms/);
      assert.match(v.banner, /^PASSCapacity search: holds 6 web-terminal connections; .* \(steps past the knee fail by design\)\./);
      assert.equal(v.sectionKnee, "6");
      assert.equal(v.kneeRow, "6");
      // One chart per threshold the steps were judged with (the traffic error-rate preset, and the tick limit).
      assert.deepEqual(v.charts.map((c) => c.expression).sort(), ["web-terminal.connection_error_rate<=0%", "web-terminal.tick.p50<100ms"]);
      for (const c of v.charts) {
        assert.equal(c.knee, "6");
        assert.ok(c.datasets.some((d) => d.label === "limit") && c.datasets.some((d) => d.label === "knee"), `${c.expression}: limit and knee drawn`);
      }
      const chart = v.charts.find((c) => c.expression === "web-terminal.tick.p50<100ms")!;
      assert.equal(chart.expression, "web-terminal.tick.p50<100ms");
      assert.equal(chart.knee, "6");
      assert.equal(chart.limit, "100");
      // The metric at every step, the dashed limit line at 100 ms across the loads, the knee line and marker at 6.
      const by = new Map(chart.datasets.map((d) => [d.label, d]));
      assert.deepEqual(by.get("web-terminal.tick.p50")!.data.map((p) => p.x), [3, 6, 9]);
      const limit = by.get("limit")!;
      assert.ok(limit.dash > 0, "the limit is dashed");
      assert.deepEqual(limit.data, [{ x: 3, y: 100 }, { x: 9, y: 100 }]);
      const knee = by.get("knee")!;
      assert.deepEqual(knee.data.map((p) => p.x), [6, 6]);
      const marker = by.get("knee value")!;
      assert.equal(marker.data[0]!.x, 6);
      const at6 = by.get("web-terminal.tick.p50")!.data.find((p) => p.x === 6)!.y;
      assert.equal(marker.data[0]!.y, at6);
      assert.ok(at6 !== null && at6 < 100, `the knee's value ${at6} is within the limit`);
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
