// Dashboard traffic against the simulated deployment: api mode (the calls each page makes), browser mode (a
// real headless Chromium on the simulator's minimal dashboard pages), thresholds and the scenario script.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import {
  CODER_TARGETS, DASHBOARD_PAGES, FRONTEND_ENDPOINTS, LANDING_TARGET, endpointOf, launchChromium, renderDashboardText, runDashboardTraffic,
  type BrowserView, type DashboardOptions,
} from "../src/dashboard/index.ts";
import { seededRandom } from "../src/util/random.ts";
import { evaluate } from "../src/thresholds/index.ts";
import { getRegistry } from "../src/metrics/index.ts";
import { requireChromium } from "./helpers/chromium.ts";
import { createScaletestUsers, ownerClient } from "./helpers/dashboard.ts";
import { createRunningWorkspace, FAST, withSim } from "./helpers/sim.ts";

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), "dashboard-test-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const base = (sim: { ownerToken: string }, over: Partial<DashboardOptions> = {}): DashboardOptions => ({
  mode: "api",
  hostToken: sim.ownerToken,
  runId: "dash1",
  concurrency: 3,
  durationMs: 1500,
  thinkTimeMs: 50,
  intervalMs: 300,
  jitterMs: 100,
  screenshotDir: join(tmp, "shots"),
  ...over,
});

const ALL_ENDPOINTS = new Set(FRONTEND_ENDPOINTS);

/** The duration shown right after `anchor` (e.g. "page=workspaces 312ms", "observed 1.2s"), in ms. */
function shownMs(text: string, anchor: string): number {
  const m = new RegExp(`${anchor.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s+(\\d+(?:\\.\\d+)?)(ms|s)\\b`).exec(text);
  assert.ok(m, `no duration after ${anchor} in ${text}`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

describe("dashboard traffic, api mode", () => {
  test("scaletest users browse the member pages concurrently; per-page and per-endpoint percentiles; tokens deleted", async () => {
    await withSim({}, async (sim) => {
      const client = ownerClient(sim);
      try {
        const users = await createScaletestUsers(client, "dash1", 3);
        const minted = (): number => [...sim.state.apiKeys.values()].filter((k) => k.tokenName.startsWith("scaletest-dashboard-")).length;
        const tokensBefore = minted();
        const keysBefore = sim.state.apiKeys.size;
        const sessionKeys = (): number => sim.core.requestLog.filter((e) => e.method === "POST" && /^\/api\/v2\/users\/me\/keys$/.test(e.path)).length;
        // 3 s: enough views (~30 even on a busy machine) that each of the 4 member pages is picked at least once.
        const r = await runDashboardTraffic(client, base(sim, { concurrency: 4, durationMs: 3000 }));
        assert.equal(r.identity_source, "scaletest-users");
        assert.deepEqual([...r.users].sort(), users);
        assert.equal(minted(), tokensBefore, "every minted token is deleted at the end");
        // The session keys the frontend makes for app links (once per session) are deleted when each user leaves.
        assert.ok(sessionKeys() > 0, "the workspaces page fetched a session key for its running workspaces' apps");
        assert.equal(sim.state.apiKeys.size, keysBefore, "no key of any kind is left behind");
        // Members see the member pages only (as in Coder's dashboard); each got views and percentiles.
        assert.deepEqual(Object.keys(r.pages).sort(), ["template", "templates", "workspace", "workspaces"]);
        for (const [page, s] of Object.entries(r.pages)) {
          assert.ok(s.count > 0, `page ${page} has views`);
          assert.equal(s.errors, 0, `page ${page} has no errors`);
          assert.ok(s.latency.p50 > 0 && s.latency.p50 <= s.latency.p95 && s.latency.p95 <= s.latency.p99 && s.latency.p99 <= s.latency.max);
        }
        assert.ok(r.pages["workspaces"]!.count >= 4, "every virtual user lands on /workspaces first");
        // Errors only: latency limits on an unslowed page would be upper wall-clock windows (the next test
        // checks that a slowed page fails its p95 limit).
        assert.equal(evaluate(["dashboard.error_rate{*}<=0%"], r.metrics)[0]!.ok, true);
        for (const ep of Object.keys(r.endpoints)) assert.ok(ALL_ENDPOINTS.has(ep), `${ep} is in the page table`);
        assert.equal(r.endpoints["GET /workspaces"]!.by_status["200"], r.endpoints["GET /workspaces"]!.count);
        assert.ok(r.endpoints["GET /users/{user}/workspace/{workspacename}"]!.count > 0);
        // Websocket counts beside the endpoints: every virtual user held its inbox websocket for its session.
        const inbox = r.websockets["WS /notifications/inbox/watch"]!;
        assert.equal(inbox.opened, 4);
        assert.equal(inbox.failed, 0);
        assert.equal(inbox.held, 4);
        assert.ok(r.websockets["WS /workspaces/{workspace}/watch-ws"]!.opened > 0);
        assert.deepEqual(r.metrics["dashboard.websockets"]?.type, "counter");
        assert.match(renderDashboardText(r), /Websockets \(held = open until the page was left[^\n]*\n.*WS \/notifications\/inbox\/watch\s+4\s+0\s+4\s+0/s);
        const sockets = await getRegistry().getSingleMetricAsString("scaletest_dashboard_websockets_total");
        assert.match(sockets, /endpoint="WS \/notifications\/inbox\/watch",event="held"\} [1-9]/);
        assert.equal(r.interrupted, false);
        assert.equal(r.totals.errors, 0);
        const metrics = await getRegistry().getSingleMetricAsString("scaletest_dashboard_page_seconds");
        assert.match(metrics, /scaletest_dashboard_page_seconds_count\{page="workspaces",mode="api"\} [1-9]/);
        const req = await getRegistry().getSingleMetricAsString("scaletest_dashboard_request_seconds");
        assert.match(req, /endpoint="GET \/templates",status="200"/);
        // Coder's own series beside ours, by Coder's action names.
        const coder = await getRegistry().getSingleMetricAsString("coderd_scaletest_dashboard_duration_seconds");
        assert.match(coder, /coderd_scaletest_dashboard_duration_seconds_count\{action="workspace_list"\} [1-9]/);
        assert.match(coder, /coderd_scaletest_dashboard_duration_seconds_bucket\{le="2.5",action="workspace_list"\}/, "Prometheus default buckets, as Coder's");
        const statuses = await getRegistry().getSingleMetricAsString("coderd_scaletest_dashboard_statuses_total");
        assert.match(statuses, /coderd_scaletest_dashboard_statuses_total\{action="template_list",code="200"\} [1-9]/);
        assert.ok(getRegistry().getSingleMetric("coderd_scaletest_dashboard_errors_total"));
      } finally {
        await client.close();
      }
    });
  });

  test("300 ms on the workspaces list shows in that page's p95 and fails --p95 200ms naming the page", async () => {
    await withSim({}, async (sim) => {
      sim.faults.set({ latency: [{ method: "GET", path: "/api/v2/workspaces", latencyMs: 300 }] });
      const client = ownerClient(sim);
      // One visitor on a scripted path, so every page below is visited however few views a busy machine allows:
      // it lands on workspaces, then goes templates, health (an admin page), workspaces, templates, ... (the visitor
      // draws `random` for the page, then for the pause).
      const path = [1, 2, 0].map((i) => (i + 0.5) / 3); // indices into [workspaces, templates, health]
      let draws = 0;
      const random = () => {
        const n = draws++;
        return n % 2 === 1 ? 0.5 : path[(n / 2 - 1 + 3) % 3]!;
      };
      try {
        const r = await runDashboardTraffic(
          client,
          base(sim, {
            useHostLogin: true,
            concurrency: 1,
            durationMs: 2000,
            pages: ["workspaces", "templates", "health"],
            random,
          }),
        );
        assert.equal(r.identity_source, "host");
        const ws = r.pages["workspaces"]!;
        assert.ok(ws.latency.p95 >= 300, `workspaces p95 ${ws.latency.p95} reflects the 300 ms`);
        assert.ok(r.endpoints["GET /workspaces"]!.latency.p50 >= 300);
        // The owner also visits the admin pages; those are not slowed down.
        assert.ok(r.pages["health"]!.count >= 1, "owner visits the admin page health");
        // Pages without the latency are faster than the slowed one (an ordering, not a window: a busy machine
        // slows every page alike).
        assert.ok(r.pages["templates"]!.latency.p95 < ws.latency.p95, `templates p95 ${r.pages["templates"]!.latency.p95} vs workspaces ${ws.latency.p95}`);
        // Judged by the one evaluator: the p95 holds for every page and fails naming the slowed page with its
        // measured value (>= the injected 300 ms); every other page's verdict is its recorded value vs the limit.
        const [row] = evaluate(["dashboard.page.p95<200ms"], r.metrics);
        assert.equal(row!.ok, false);
        assert.ok(row!.failing.includes("page=workspaces"), row!.message);
        for (const page of ["templates", "health"]) {
          assert.equal(row!.failing.includes(`page=${page}`), r.pages[page]!.latency.p95 >= 200, row!.message);
        }
        assert.ok(row!.observed!.value >= 300);
        assert.match(row!.message, /dashboard\.page\.p95<200ms: FAILED: .*page=workspaces \S+ \(limit <200ms\)/);
        assert.ok(shownMs(row!.message, "page=workspaces") >= 300, row!.message);
      } finally {
        await client.close();
      }
    });
  });

  test("a missing Chromium fails with the install command, and minted tokens are still deleted", async () => {
    await withSim({}, async (sim) => {
      const client = ownerClient(sim);
      try {
        await createScaletestUsers(client, "dash3", 1);
        const tokensBefore = sim.counts().tokens;
        await assert.rejects(
          runDashboardTraffic(client, base(sim, { mode: "browser", runId: "dash3", chromiumPath: join(tmp, "no-chromium") })),
          /could not start Chromium at .*no-chromium.*apt-get install -y chromium/,
        );
        assert.equal(sim.counts().tokens, tokensBefore);
        await assert.rejects(
          runDashboardTraffic(client, base(sim, { mode: "browser", intervalMs: 100, jitterMs: 100 })),
          /--jitter \(100ms\) must be less than --interval \(100ms\)/,
        );
      } finally {
        await client.close();
      }
    });
  });

  test("endpointOf maps browser URLs to the route templates of the page table", () => {
    assert.equal(endpointOf("GET", "/api/v2/templates/0b8c7c3e-1111-4222-8333-944444444444"), "GET /templates/{template}");
    assert.equal(endpointOf("GET", "/api/v2/users/alice/workspace/dev"), "GET /users/{user}/workspace/{workspacename}");
    assert.equal(endpointOf("GET", "/api/v2/workspaces"), "GET /workspaces");
    assert.equal(endpointOf("GET", "/api/v2/users/authmethods"), "GET /users/authmethods");
    assert.equal(endpointOf("GET", "/api/v2/workspaceagents/0b8c7c3e-1111-4222-8333-944444444444/x"), "GET /workspaceagents/{id}/x");
  });

  test("the scenario script exits non-zero and its summary names the threshold, page and value", async () => {
    await withSim({}, async (sim) => {
      sim.faults.set({ latency: [{ method: "GET", path: "/api/v2/workspaces", latencyMs: 300 }] });
      const resultsDir = join(tmp, "results");
      const err = await run(
        "node",
        [
          "--import", "tsx", "scenarios/dashboard-traffic.ts",
          "--mode", "api", "--concurrency", "2", "--duration", "1500ms", "--think-time", "50ms",
          "--p95", "200ms", "--use-host-login", "--run-id", "dscript", "--results-dir", resultsDir, "--metrics-address", "",
        ],
        { cwd: process.cwd(), env: { ...process.env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken }, timeout: 30_000 },
      ).then(
        () => undefined,
        (e: { code?: number; stdout?: string; stderr?: string }) => e,
      );
      assert.ok(err, "the script fails when a threshold fails");
      assert.equal(err.code, 1);
      assert.match(err.stdout ?? "", /✗ dashboard\.page\.p95<200ms\s+observed \S+, limit 200ms \(failed for [^)]*page=workspaces/);
      assert.ok(shownMs(err.stdout ?? "", "observed") >= 300, "the summary shows the injected 300 ms");
      assert.ok(!(err.stdout ?? "").includes(sim.ownerToken) && !(err.stderr ?? "").includes(sim.ownerToken), "token never printed");
      const phase = join(resultsDir, "dscript", readdirSync(join(resultsDir, "dscript")).find((d) => d.endsWith("dashboard-traffic"))!);
      const rec = JSON.parse(readFileSync(join(phase, "result.json"), "utf8"));
      assert.equal(rec.status, "fail");
      // The owner's template page lists the template's workspaces too (slowed alike), so it may fail beside it.
      assert.ok(rec.thresholds.some((t: { expression: string; ok: boolean; failed_label: string }) =>
        t.expression === "dashboard.page.p95<200ms" && !t.ok && t.failed_label.split("; ").includes("page=workspaces")));
      assert.ok(rec.extra.dashboard.pages.workspaces.latency.p95 >= 300);
    });
  });
});

describe("dashboard traffic, browser mode (real headless Chromium)", () => {
  test("several scaletest users browse the simulator's pages; per-page percentiles from the browser", async (t) => {
    const chromiumPath = requireChromium(t);
    if (!chromiumPath) return;
    await withSim({}, async (sim) => {
      const client = ownerClient(sim);
      try {
        await createScaletestUsers(client, "dash2", 3);
        const tokensBefore = sim.counts().tokens;
        const r = await runDashboardTraffic(
          client,
          base(sim, { mode: "browser", runId: "dash2", chromiumPath, durationMs: 3500, intervalMs: 100, jitterMs: 50 }),
        );
        assert.equal(r.mode, "browser");
        assert.equal(r.users.length, 3);
        assert.equal(sim.counts().tokens, tokensBefore, "minted tokens deleted");
        assert.equal(r.totals.errors, 0, JSON.stringify(r.failures));
        assert.ok(r.pages["workspaces"]!.count >= 3, "each browser context landed on /workspaces");
        assert.ok(Object.keys(r.pages).length >= 2, `visited several pages: ${Object.keys(r.pages).join(", ")}`);
        for (const s of Object.values(r.pages)) assert.ok(s.latency.p95 > 0 && s.latency.p95 <= s.latency.max);
        // The simulator's pages fetch the endpoints of the page table (and the workspace's build list), with the cookie.
        assert.ok(r.endpoints["GET /workspaces"]!.by_status["200"]! >= 3);
        for (const ep of Object.keys(r.endpoints)) {
          assert.ok(ALL_ENDPOINTS.has(ep) || ep === "GET /workspaces/{id}/builds", `${ep} is in the page table`);
        }
      } finally {
        await client.close();
      }
    });
  });

  test("a fixed --rand-seed clicks the same targets of Coder's list in the same order; every view is measured", async (t) => {
    const chromiumPath = requireChromium(t);
    if (!chromiumPath) return;
    await withSim(FAST, async (sim) => {
      await createRunningWorkspace(sim, "seeded-a");
      await createRunningWorkspace(sim, "seeded-b");
      const client = ownerClient(sim);
      try {
        // Each run stops after its tenth view (the duration is only a bound), so a slow machine compares as many.
        const VIEWS = 10;
        const runOnce = async () => {
          const views: BrowserView[] = [];
          const stop = new AbortController();
          const r = await runDashboardTraffic(
            client,
            base(sim, {
              mode: "browser", chromiumPath, useHostLogin: true, concurrency: 1, durationMs: 60_000, intervalMs: 120, jitterMs: 60,
              random: seededRandom(11),
              onView: (v) => {
                views.push(v);
                if (views.length === VIEWS) stop.abort();
              },
            }),
            { signal: stop.signal },
          );
          return { r, views };
        };
        const first = await runOnce();
        const second = await runOnce();
        for (const { r, views } of [first, second]) {
          assert.equal(r.totals.errors, 0, JSON.stringify(r.failures));
          // Every view is a measured page view (the landing plus one per click), and none is of ours alone.
          assert.equal(views.length, r.totals.views);
          assert.equal(views[0]!.action, "workspace_list", "the session lands on the workspaces list");
          for (const v of views.slice(1)) assert.ok(CODER_TARGETS.some((c) => c.action === v.action), v.action);
          for (const [page, s] of Object.entries(r.pages)) assert.ok(s.count > 0 && s.latency.max > 0, page);
        }
        assert.equal(first.views.length, VIEWS);
        assert.equal(second.views.length, VIEWS);
        const trail = (vs: BrowserView[]) => vs.map((v) => `${v.action} ${v.url}`);
        assert.deepEqual(trail(second.views), trail(first.views));
        assert.ok(new Set(first.views.map((v) => v.page)).size >= 3, `several pages: ${trail(first.views).join(", ")}`);
      } finally {
        await client.close();
      }
    });
  });

  test("the simulator's pages carry every click target and element of Coder's list (a scripted walk)", async (t) => {
    const chromiumPath = requireChromium(t);
    if (!chromiumPath) return;
    await withSim(FAST, async (sim) => {
      await createRunningWorkspace(sim, "walk-a");
      const browser = await launchChromium(chromiumPath);
      try {
        const context = await browser.newContext();
        await context.addCookies([{ name: "coder_session_token", value: sim.ownerToken, url: sim.url }]);
        const page = await context.newPage();
        await page.goto(`${sim.url}/`);
        await page.waitForSelector(LANDING_TARGET.waitFor, { state: "attached", timeout: 10_000 });
        const byAction = new Map(CODER_TARGETS.map((c) => [c.action, c]));
        // A path through the dashboard on which each of Coder's targets (starter templates aside) is clickable.
        const walk = [
          "workspace_details", "workspace_build_details", "template_list", "template_details", "template_docs",
          "template_files", "template_versions", "template_version_details", "user_list", "workspace_list",
        ];
        for (const action of walk) {
          const target = byAction.get(action)!;
          assert.ok((await page.locator(target.clickOn).count()) > 0, `${page.url()} offers ${action} (${target.clickOn})`);
          await page.locator(target.clickOn).first().click({ timeout: 10_000 });
          await page.waitForSelector(target.waitFor, { state: "attached", timeout: 10_000 });
          assert.equal(await page.locator('[role="alert"]').count(), 0, `${action}: no error on ${page.url()}`);
        }
        // The simulator serves no starter templates (no examples endpoint), so that target never shows.
        assert.equal(await page.locator(byAction.get("starter_templates")!.clickOn).count(), 0);
      } finally {
        await browser.close();
      }
    });
  });

  test("a simulator page without Coder's UI elements is a failed view (no marker of ours decides)", async (t) => {
    const chromiumPath = requireChromium(t);
    if (!chromiumPath) return;
    await withSim(FAST, async (sim) => {
      await createRunningWorkspace(sim, "bare-a");
      // The workspace page answers 200 and makes its calls, but renders its builds without Coder's elements.
      sim.dashboardPages.omitLandmarks.add("workspace");
      const client = ownerClient(sim);
      try {
        const r = await runDashboardTraffic(
          client,
          base(sim, {
            mode: "browser", chromiumPath, useHostLogin: true, concurrency: 1, durationMs: 2500, intervalMs: 100, jitterMs: 50,
            pages: ["workspaces", "workspace"], pageTimeoutMs: 800, screenshotDir: join(tmp, "shots-landmark"),
          }),
        );
        assert.equal(r.pages["workspaces"]!.errors, 0, "the simulator's other pages carry Coder's elements");
        const ws = r.pages["workspace"]!;
        assert.ok(ws.count >= 1 && ws.errors === ws.count, `every workspace view failed (${ws.errors}/${ws.count})`);
        assert.equal(ws.by_status["no_landmark"], ws.count);
        const f = r.failures.find((x) => x.page === "workspace")!;
        assert.match(f.error, /never showed Coder's UI element tr\[role="button"\]\[data-testid\^="build-"\]/);
        assert.match(f.url, /^\/@/);
        // Coder's own series count it as a failed workspace_details action.
        const errors = await getRegistry().getSingleMetric("coderd_scaletest_dashboard_errors_total")!.get();
        assert.ok(errors.values.some((v) => v.labels["action"] === "workspace_details" && v.value >= ws.count));
      } finally {
        await client.close();
      }
    });
  });

  test("an info alert beside Coder's element and a 404 the page renders without do not fail the view", async (t) => {
    const chromiumPath = requireChromium(t);
    if (!chromiumPath) return;
    await withSim({}, async (sim) => {
      // A templates page as Coder's may render it: an info alert (role=alert, as all of Coder's alerts) shows
      // first, an optional call answers 404, then the rows appear.
      sim.core.preHandlers.unshift((ctx) => {
        if (ctx.method !== "GET" || ctx.path !== "/templates") return false;
        const body = '<!doctype html><html><body><nav><a href="/workspaces">Workspaces</a> <a href="/templates" class="active">Templates</a></nav>' +
          '<div role="alert">Info: a banner</div><main id="m"></main><script>fetch("/api/v2/optional-thing").then(() => fetch("/api/v2/templates"))' +
          '.then((r) => r.json()).then((ts) => { setTimeout(() => { document.getElementById("m").innerHTML = "<table><tbody class=\\"MuiTableBody-root\\">" + ' +
          'ts.map((x) => "<tr role=\\"button\\" data-testid=\\"template-" + x.id + "\\"><td>" + x.name + "</td></tr>").join("") + "</tbody></table>"; }, 200); });</script></body></html>';
        ctx.res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
        ctx.res.end(body);
        return true;
      });
      const client = ownerClient(sim);
      try {
        const r = await runDashboardTraffic(
          client,
          base(sim, {
            mode: "browser", chromiumPath, useHostLogin: true, concurrency: 1, durationMs: 2000, intervalMs: 100, jitterMs: 50,
            pages: ["workspaces", "templates"], screenshotDir: join(tmp, "shots-info"),
          }),
        );
        const tpl = r.pages["templates"]!;
        assert.ok(tpl.count >= 1, "the templates page was opened");
        assert.equal(r.totals.errors, 0, JSON.stringify(r.failures));
        assert.equal(r.endpoints["GET /optional-thing"]!.by_status["404"], tpl.count, "the 404 is counted for its endpoint");
        // Timed to the rows (after the 200 ms the page takes to render them), not to the alert.
        assert.ok(tpl.latency.min >= 200, `templates view timed to its rows: ${tpl.latency.min} ms`);
      } finally {
        await client.close();
      }
    });
  });

  test("a 500 on one page's API call fails that page and keeps a screenshot", async (t) => {
    const chromiumPath = requireChromium(t);
    if (!chromiumPath) return;
    await withSim({}, async (sim) => {
      // Only the templates page calls GET /organizations.
      sim.faults.set({ http: [{ method: "GET", path: "/api/v2/organizations", status: 500 }] });
      const client = ownerClient(sim);
      const shots = join(tmp, "shots-500");
      try {
        const r = await runDashboardTraffic(
          client,
          base(sim, {
            mode: "browser",
            chromiumPath,
            useHostLogin: true,
            concurrency: 1,
            durationMs: 2500,
            intervalMs: 100,
            jitterMs: 50,
            // From the workspaces list only the Templates nav link is a target, from the templates list only Workspaces.
            pages: ["workspaces", "templates"],
            screenshotDir: shots,
          }),
        );
        assert.equal(r.pages["workspaces"]!.errors, 0);
        const tpl = r.pages["templates"]!;
        assert.ok(tpl.count >= 1 && tpl.errors === tpl.count, `every templates view failed (${tpl.errors}/${tpl.count})`);
        assert.equal(tpl.by_status["500"], tpl.count);
        assert.equal(r.endpoints["GET /organizations"]!.by_status["500"], tpl.count);
        const f = r.failures[0]!;
        assert.equal(f.page, "templates");
        assert.match(f.error, /GET \/organizations answered HTTP 500/);
        assert.ok(f.screenshot && existsSync(f.screenshot), "screenshot kept");
        assert.ok(f.screenshot.startsWith(shots));
        assert.deepEqual([...readFileSync(f.screenshot).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
        // Every page on its own: the error rate fails naming the page; over all pages it is diluted.
        const [each] = evaluate(["dashboard.error_rate<=0%"], r.metrics);
        assert.equal(each!.ok, false);
        assert.deepEqual(each!.failing, ["page=templates"]);
      } finally {
        await client.close();
      }
    });
  });
});
