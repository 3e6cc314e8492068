import { test } from "node:test";
import assert from "node:assert/strict";
import { BadInputError } from "../src/util/errors.ts";
import {
  abortingFailures,
  catalogMarkdown,
  evaluate,
  evaluateOne,
  mergeThresholds,
  METRIC_CATALOG,
  parseThreshold,
  parseThresholds,
  splitThresholdList,
  ThresholdSyntaxError,
  thresholdsFor,
  validateThresholds,
} from "../src/thresholds/index.ts";
import {
  counter,
  gauge,
  latency,
  samplesSeries,
  rate,
  ratio,
  value,
  type MetricSet,
} from "../src/results/metric-set.ts";

// ---- parsing -------------------------------------------------------------------------------------------

test("parse: metric names with dots, stat split only when the last segment is a stat", () => {
  const a = parseThreshold("create.provision.p95<2m");
  assert.equal(a.metric, "create.provision");
  assert.equal(a.stat, "p95");
  assert.equal(a.op, "<");
  assert.deepEqual(a.limit, { kind: "duration", value: 120_000, text: "2m" });
  assert.deepEqual(a.selector, { kind: "each" });
  assert.equal(a.abort, null);
  assert.equal(a.noData, "fail");

  const b = parseThreshold("ssh.connection_error_rate<=1%");
  assert.equal(b.metric, "ssh.connection_error_rate");
  assert.equal(b.stat, null);
  assert.equal(b.op, "<=");
  assert.equal(b.limit.kind, "percent");
  assert.equal(b.limit.value, 0.01);

  const c = parseThreshold("web-terminal.tick.p99<100ms");
  assert.equal(c.metric, "web-terminal.tick");
  assert.equal(c.stat, "p99");

  // A metric whose last segment is not a stat keeps it.
  assert.equal(parseThreshold("coderd.api.latency.p95 < 1m30s").metric, "coderd.api.latency");
  assert.equal(parseThreshold("coderd.api.latency.p95 < 1m30s").limit.value, 90_000);
  assert.equal(parseThreshold("create.success_rate>=99%").stat, null);
  assert.equal(parseThreshold("create.success_rate>=99%").op, ">=");
  assert.equal(parseThreshold("cleanup.remaining==0").op, "==");
  assert.equal(parseThreshold("x.y>5").op, ">");
  // Aliases resolve to the canonical stat, and the expression is shown canonically.
  assert.equal(parseThreshold("dashboard.page.avg<1s").stat, "mean");
  assert.equal(parseThreshold("dashboard.page.med<1s").expression, "dashboard.page.p50<1s");
  assert.equal(parseThreshold("  dashboard.page.p95  <=  500ms ").expression, "dashboard.page.p95<=500ms");
});

test("parse: selectors, limits of every kind, options", () => {
  const one = parseThreshold("dashboard.page{page:workspaces}.p95<500ms");
  assert.equal(one.metric, "dashboard.page");
  assert.deepEqual(one.selector, { kind: "labels", labels: { page: "workspaces" } });
  assert.equal(one.stat, "p95");
  const all = parseThreshold("dashboard.page{*}.p95<500ms");
  assert.deepEqual(all.selector, { kind: "all" });
  assert.equal(all.expression, "dashboard.page{*}.p95<500ms");
  const two = parseThreshold("m{b:2, a:1}.max<1s");
  assert.deepEqual(two.selector, { kind: "labels", labels: { b: "2", a: "1" } });
  assert.equal(two.expression, "m{a:1,b:2}.max<1s", "labels sorted in the canonical form");
  assert.deepEqual(parseThreshold("dashboard.error_rate{*}<=0%").selector, { kind: "all" });

  assert.deepEqual(parseThreshold("ssh.bytes>=4KiB").limit, { kind: "bytes", value: 4096, text: "4KiB" });
  assert.deepEqual(parseThreshold("ssh.throughput>=10MB/s").limit, { kind: "bytes/s", value: 10e6, text: "10MB/s" });
  assert.deepEqual(parseThreshold("ssh.drops<=3").limit, { kind: "number", value: 3, text: "3" });
  assert.equal(parseThreshold("x.p99<1h2m3.5s").limit.value, 3_723_500);
  assert.equal(parseThreshold("x.p99<250us").limit.value, 0.25);
  assert.equal(parseThreshold("x.rate<=0.5%").limit.value, 0.005);

  const ab = parseThreshold("web-terminal.tick.p99<100ms;abort");
  assert.deepEqual(ab.abort, { delayMs: 0 });
  assert.equal(ab.expression, "web-terminal.tick.p99<100ms;abort");
  const delayed = parseThreshold("web-terminal.tick.p99<100ms; abort=30s");
  assert.deepEqual(delayed.abort, { delayMs: 30_000 });
  assert.equal(delayed.expression, "web-terminal.tick.p99<100ms;abort=30s");
  const nd = parseThreshold("create.command.p95<1s;nodata=pass");
  assert.equal(nd.noData, "pass");
  assert.equal(nd.expression, "create.command.p95<1s;nodata=pass");
});

test("parse: every bad form throws a ThresholdSyntaxError (a BadInputError) naming the expression and the problem", () => {
  const bad: [string, RegExp][] = [
    ["", /empty expression/],
    ["create.provision.p95", /no comparison/],
    ["create.provision.p95<", /limit is missing/],
    ["create.provision.p95 = 2m", /"= " is not an operator/],
    ["create.provision.p95=<2m", /"=<" is not an operator/],
    ["create.provision.p95!=2m", /"!=" is not an operator/],
    ["create.provision.p95<2m<3m", /more than one comparison/],
    ["<2m", /metric name is missing/],
    [".p95<2m", /not a metric name/],
    ["create..provision.p95<2m", /not a metric name/],
    ["create provision.p95<2m", /contains spaces/],
    ["create.provision.p95<2 minutes", /is not a value/],
    ["create.provision.p95<fast", /is not a value/],
    ["create.success_rate>=120%", /above 100%/],
    ["dashboard.page{page:workspaces.p95<1s", /not closed/],
    ["dashboard.page}.p95<1s", /without "\{"/],
    ["dashboard.page{}.p95<1s", /empty \{\}/],
    ["dashboard.page{workspaces}.p95<1s", /label:value pairs/],
    ["dashboard.page{page:}.p95<1s", /label page needs a value/],
    ["dashboard.page{1x:a}.p95<1s", /not a label name/],
    ["dashboard.page{page:a,page:b}.p95<1s", /given twice/],
    ["dashboard.page{page:a}.p96x<1s", /only \.<stat> may follow/],
    ["dashboard.page{page:a}p95<1s", /only \.<stat> may follow/],
    ["x.p95<1s;abort=soon", /delay must be a duration/],
    ["x.p95<1s;abort;abort", /given twice/],
    ["x.p95<1s;nodata=maybe", /nodata must be pass or fail/],
    ["x.p95<1s;abortOnFail", /unknown option ";abortOnFail"/],
  ];
  for (const [expr, why] of bad) {
    assert.throws(
      () => parseThreshold(expr),
      (e: unknown) => {
        assert.ok(e instanceof ThresholdSyntaxError, `${expr}: ${String(e)}`);
        assert.ok(e instanceof BadInputError);
        assert.equal(e.expression, expr.trim() || expr);
        assert.match(e.message, why, expr);
        assert.ok(e.message.includes(`"${expr.trim()}"`), `names the expression: ${e.message}`);
        return true;
      },
    );
  }
  // Several bad ones are reported together.
  assert.throws(() => parseThresholds(["a.p95<1s", "b.p95<", "c<<1"]), (e: unknown) => {
    assert.ok(e instanceof BadInputError);
    assert.match(e.message, /2 bad thresholds/);
    assert.match(e.message, /"b\.p95<"/);
    assert.match(e.message, /"c<<1"/);
    return true;
  });
});

test("validateThresholds refuses unknown metrics, labels, stats and limits that do not fit the metric", () => {
  const cases: [string, RegExp][] = [
    ["create.provison.p95<2m", /unknown metric create\.provison \(create metrics: create\.user, .*create\.provision/],
    ["dashbord.page.p95<1s", /unknown metric dashbord\.page \(metrics start with create, ssh/],
    ["create.provision<2m", /create\.provision is a latency: name a stat, e\.g\. create\.provision\.p95/],
    ["create.provision.rate<2m", /\.rate does not apply to the latency create\.provision/],
    ["create.provision.p95<120000", /limit 120000 is a plain number but the value is a time: write a duration/],
    ["create.success_rate>=0.99", /write a percentage such as 1%/],
    ["create.success_rate.p95>=99%", /\.p95 does not apply to create\.success_rate \(a rate\)/],
    ["ssh.connection_error_rate<=5s", /is a duration but the value is a rate/],
    ["dashboard.page{route:x}.p95<1s", /dashboard\.page has no label route: its labels are page/],
    ["create.provision{page:x}.p95<1s", /create\.provision has no labels/],
    ["ssh.drops<=1%", /write a plain number/],
  ];
  for (const [expr, why] of cases) {
    assert.throws(() => validateThresholds([expr]), (e: unknown) => e instanceof BadInputError && why.test(e.message) && e.message.includes(expr), expr);
  }
  // A plain 0 is 0 in any unit: accepted on a rate, a time or a size, and judged as such.
  assert.deepEqual(
    validateThresholds(["workspace-updates.error_rate<=0", "create.provision.min>0", "ssh.bytes{direction:write}>0"]).map((s) => s.limit.value),
    [0, 0, 0],
  );
  assert.deepEqual(
    evaluate(["workspace-updates.error_rate<=0"], { "workspace-updates.error_rate": rate(ratio(0, 4)) }).map((r) => [r.ok, r.observed?.text]),
    [[true, "0%"]],
  );
  assert.equal(evaluate(["workspace-updates.error_rate<=0"], { "workspace-updates.error_rate": rate(ratio(1, 4)) })[0]!.ok, false);
  const ok = validateThresholds([
    "create.provision.p95<2m",
    "create.provision.count>=10",
    "create.success_rate>=99%",
    "web-terminal.tick.p99<100ms;abort=10s",
    "dashboard.page{page:workspaces}.p95<500ms",
    "dashboard.error_rate{*}<=0%",
    "ssh.throughput{direction:read}>=1MiB/s",
    "app.bytes{direction:write}>=1000",
    "cleanup.remaining==0",
    "cleanup.failures.count<=0",
  ]);
  assert.equal(ok.length, 10);
});

// ---- evaluation ----------------------------------------------------------------------------------------

function pages(values: Record<string, number[]>): MetricSet {
  return {
    "dashboard.page": latency(...Object.entries(values).map(([page, v]) => samplesSeries(v, { page }))),
  };
}

test("a labelled metric: the threshold holds for every label value and fails naming the value", () => {
  const set = pages({ workspaces: [100, 120, 900, 950], templates: [50, 60, 70, 80], users: [10] });
  const [r] = evaluate(["dashboard.page.p95<500ms"], set);
  assert.ok(r);
  assert.equal(r.ok, false);
  assert.deepEqual(r.failing, ["page=workspaces"]);
  assert.equal(r.observed?.unit, "ms");
  assert.ok(r.observed && r.observed.value >= 900, `worst p95 ${r.observed?.value}`);
  assert.match(r.message, /^dashboard\.page\.p95<500ms: FAILED: page=workspaces 9\d\dms \(limit <500ms\)$/);
  assert.deepEqual(
    r.series.map((s) => [s.labels.page, s.ok]),
    [["templates", true], ["users", true], ["workspaces", false]],
  );
  assert.equal(r.limit.value, 500);

  // The same values with a looser limit pass, naming the worst page.
  const [loose] = evaluate(["dashboard.page.p95<1s"], set);
  assert.equal(loose?.ok, true);
  assert.match(loose!.message, /ok, worst page=workspaces 9\d\dms/);

  // One page by label.
  const [tpl] = evaluate(["dashboard.page{page:templates}.p95<500ms"], set);
  assert.equal(tpl?.ok, true);
  assert.equal(tpl?.observed?.value, 80);
  assert.equal(tpl?.observed?.text, "80ms");
  const [ws] = evaluate(["dashboard.page{page:workspaces}.max<=950ms"], set);
  assert.equal(ws?.ok, true, "max is exact (950), so <=950ms holds");
  assert.equal(ws?.observed?.value, 950);
});

test("the {*} aggregate merges histograms (never averages percentiles)", () => {
  // 90 fast views on one page and 10 slow views on another: the merged p95 is slow, while the average of
  // the two pages' p95s would be ~(50+1000)/2.
  const set = pages({ fast: Array(90).fill(50), slow: Array(10).fill(1000) });
  const [all] = evaluate(["dashboard.page{*}.p95<600ms"], set);
  assert.equal(all?.ok, false);
  assert.equal(all?.observed?.value, 1000);
  const [p50] = evaluate(["dashboard.page{*}.p50<60ms"], set);
  assert.equal(p50?.ok, true);
  // HDR reports a bucket's highest equivalent value: 50 ms reads back within 3 significant digits.
  assert.ok(p50!.observed!.value >= 50 && p50!.observed!.value <= 50.05, String(p50?.observed?.value));
  const [mean] = evaluate(["dashboard.page{*}.mean<150ms"], set);
  assert.equal(mean?.observed?.value, 145, "exact mean over both pages: (90*50 + 10*1000)/100");
  assert.equal(mean?.ok, true);
  const [count] = evaluate(["dashboard.page{*}.count>=100"], set);
  assert.equal(count?.observed?.value, 100);
  assert.equal(count?.observed?.unit, "count");
  assert.equal(count?.ok, true);
});

test("rates are recomputed from numerators and denominators; counters summed; gauges take the largest", () => {
  const set: MetricSet = {
    "dashboard.error_rate": rate(ratio(1, 100, { page: "a" }), ratio(3, 4, { page: "b" })),
    "dashboard.views": counter("count", value(100, { page: "a" }), value(4, { page: "b" })),
    "ssh.throughput": gauge("bytes/s", value(2048, { direction: "read" }), value(1024, { direction: "write" })),
  };
  // Per page: b fails at 75%.
  const [each] = evaluate(["dashboard.error_rate<=1%"], set);
  assert.equal(each?.ok, false);
  assert.deepEqual(each?.failing, ["page=b"]);
  assert.equal(each?.observed?.text, "75%");
  assert.equal(each?.series.find((s) => s.labels.page === "a")?.ok, true, "1 of 100 is exactly <= 1%");
  // Aggregate: 4 of 104, not the mean of 1% and 75%.
  const [all] = evaluate(["dashboard.error_rate{*}<=4%"], set);
  assert.equal(all?.observed?.value, 4 / 104);
  assert.equal(all?.observed?.text, "3.85%");
  assert.equal(all?.ok, true);
  const [views] = evaluate(["dashboard.views{*}>=104"], set);
  assert.equal(views?.observed?.value, 104);
  assert.equal(views?.ok, true);
  const [tp] = evaluate(["ssh.throughput{*}>=2KiB/s"], set);
  assert.equal(tp?.observed?.value, 2048);
  assert.equal(tp?.observed?.text, "2 KiB/s");
  assert.equal(tp?.ok, true);
  const [tpEach] = evaluate(["ssh.throughput>=2KiB/s"], set);
  assert.deepEqual(tpEach?.failing, ["direction=write"]);

  // Percent limits compare exactly: 99 of 100 is >= 99%.
  const create: MetricSet = { "create.success_rate": rate(ratio(99, 100)) };
  assert.equal(evaluate(["create.success_rate>=99%"], create)[0]?.ok, true);
  assert.equal(evaluate(["create.success_rate>99%"], create)[0]?.ok, false);
  assert.equal(evaluate(["create.success_rate>=99.5%"], create)[0]?.message, "create.success_rate>=99.5%: FAILED: create.success_rate 99% (limit >=99.5%)");
});

test("no data: fails by default and says so; ;nodata=pass lets it pass; a rate over 0 and an absent label are no data", () => {
  const set: MetricSet = {
    "ssh.connection_error_rate": rate(ratio(0, 0)),
    "create.command": latency(samplesSeries([])),
    ...pages({ workspaces: [10] }),
  };
  const [missing, zeroRate, empty, absent, allowed, count] = evaluate(
    [
      "create.provision.p95<2m",
      "ssh.connection_error_rate<=1%",
      "create.command.p95<1s",
      "dashboard.page{page:users}.p95<1s",
      "create.provision.p95<2m;nodata=pass",
      "create.command.count==0",
    ],
    set,
  );
  assert.equal(missing?.ok, false);
  assert.equal(missing?.noData, true);
  assert.equal(missing?.observed, null);
  assert.equal(missing?.message, "create.provision.p95<2m: no data (create.provision was not recorded): FAILED");
  assert.equal(zeroRate?.noData, true);
  assert.equal(zeroRate?.ok, false);
  assert.equal(empty?.noData, true);
  assert.match(absent!.message, /no dashboard\.page series with page=users \(recorded: page=workspaces\)/);
  assert.equal(absent?.ok, false);
  assert.equal(allowed?.ok, true);
  assert.equal(allowed?.noData, true);
  assert.match(allowed!.message, /allowed by ;nodata=pass/);
  assert.equal(count?.ok, true, "the count of an empty histogram is 0, not no data");
  assert.equal(count?.noData, false);
});

test("a spec that does not fit the metric fails with a message saying so", () => {
  const set: MetricSet = { "coderd.api": latency(samplesSeries([5])) };
  const r = evaluateOne(parseThreshold("coderd.api<1s"), set);
  assert.equal(r.ok, false);
  assert.match(r.message, /coderd\.api is a latency: name a stat/);
  const r2 = evaluateOne(parseThreshold("coderd.api.p95<=1%"), set);
  assert.equal(r2.ok, false);
  assert.match(r2.message, /limit 1% is a percent/);
  // A metric outside the catalog works like any other once it is recorded (future server-side metrics).
  assert.equal(evaluateOne(parseThreshold("coderd.api.p95<1s"), set).ok, true);
});

test("re-evaluation from the results file (a JSON round trip) gives the same verdicts and values", () => {
  const samples = Array.from({ length: 500 }, (_, i) => 1 + ((i * 37) % 1000) * 1.7);
  const live: MetricSet = {
    "web-terminal.tick": latency(samplesSeries(samples)),
    ...pages({ a: samples.slice(0, 250), b: samples.slice(250) }),
    "web-terminal.connection_error_rate": rate(ratio(1, 20)),
  };
  const specs = [
    "web-terminal.tick.p99<1s",
    "web-terminal.tick.p95<2s",
    "web-terminal.tick.max<2s",
    "web-terminal.tick.mean<900ms",
    "dashboard.page.p95<1.6s",
    "dashboard.page{*}.p50<1s",
    "web-terminal.connection_error_rate<=5%",
  ];
  const onFile = JSON.parse(JSON.stringify(live)) as MetricSet;
  assert.equal(typeof (onFile["web-terminal.tick"] as { series: { histogram: unknown }[] }).series[0]!.histogram, "string");
  const a = evaluate(specs, live);
  const b = evaluate(specs, onFile);
  assert.deepEqual(b, a);
  assert.deepEqual(a.map((r) => r.ok), [false, true, true, true, false, true, true]);
  // Without the exact figures (a bare encoded histogram) the values stay within HDR's 3-digit precision.
  const bare: MetricSet = {
    "web-terminal.tick": latency({ labels: {}, histogram: (onFile["web-terminal.tick"] as { series: { histogram: string }[] }).series[0]!.histogram }),
  };
  for (const stat of ["p50", "p95", "p99", "max", "mean", "min"]) {
    const x = evaluate([`web-terminal.tick.${stat}<1h`], live)[0]!.observed!.value;
    const y = evaluate([`web-terminal.tick.${stat}<1h`], bare)[0]!.observed!.value;
    assert.ok(Math.abs(x - y) <= x * 0.002 + 0.002, `${stat}: ${x} vs ${y}`);
  }
});

test("series with the same labels (e.g. shards) are merged before being judged", () => {
  const set: MetricSet = {
    "dashboard.page": latency(samplesSeries([100, 100], { page: "a" }), samplesSeries([900, 900], { page: "a" })),
  };
  const [r] = evaluate(["dashboard.page.max<1s"], set);
  assert.equal(r?.series.length, 1);
  assert.equal(r?.observed?.value, 900);
  const [c] = evaluate(["dashboard.page.count==4"], set);
  assert.equal(c?.ok, true);
});

test("abort thresholds: failing ones abort once their delay passed; no data never aborts", () => {
  const set: MetricSet = { "web-terminal.tick": latency(samplesSeries([50, 300])) };
  const results = evaluate(
    ["web-terminal.tick.max<100ms;abort=30s", "web-terminal.tick.p50<1s;abort", "web-terminal.dial.p95<1s;abort", "web-terminal.tick.max<200ms"],
    set,
  );
  assert.deepEqual(results.map((r) => r.ok), [false, true, false, false]);
  assert.deepEqual(abortingFailures(results, 29_999), []);
  const due = abortingFailures(results, 30_000);
  assert.deepEqual(due.map((r) => r.expression), ["web-terminal.tick.max<100ms;abort=30s"]);
});

test("mergeThresholds: a later spec with the same metric, selector and stat replaces the earlier one in place", () => {
  const merged = mergeThresholds(
    ["create.provision.p95<1ms", "create.success_rate>=99%", "dashboard.page.p95<500ms", "dashboard.page{page:a}.p95<500ms"],
    ["create.provision.p95<10m", "create.success_rate.rate>=90%", "dashboard.page{*}.p95<2s", "dashboard.page{page:a}.p95<=1s;abort"],
  );
  assert.deepEqual(
    merged.map((s) => s.expression),
    [
      "create.provision.p95<10m",
      "create.success_rate.rate>=90%",
      "dashboard.page.p95<500ms",
      "dashboard.page{page:a}.p95<=1s;abort",
      "dashboard.page{*}.p95<2s",
    ],
  );
  // Re-judging: the run's own failed expression replaced by a looser limit is one passing row.
  const set: MetricSet = { "create.provision": latency(samplesSeries([1000, 2000, 3000])) };
  const before = evaluate(["create.provision.p95<1ms"], set);
  assert.equal(before[0]?.ok, false);
  const after = evaluate(mergeThresholds(["create.provision.p95<1ms"], ["create.provision.p95<10m"]), set);
  assert.equal(after.length, 1);
  assert.equal(after[0]?.ok, true);
  assert.equal(after[0]?.key, before[0]?.key);
});

test("splitThresholdList: JSON arrays, newlines, and commas outside braces", () => {
  assert.deepEqual(splitThresholdList('["a.p95<1s", "b{x:1,y:2}.p99<2s"]'), ["a.p95<1s", "b{x:1,y:2}.p99<2s"]);
  assert.deepEqual(splitThresholdList("a.p95<1s, b{x:1,y:2}.p99<2s\nc<=1%\n"), ["a.p95<1s", "b{x:1,y:2}.p99<2s", "c<=1%"]);
  assert.deepEqual(splitThresholdList(["a.p95<1s,b<2", "c<3"]), ["a.p95<1s", "b<2", "c<3"]);
  assert.deepEqual(splitThresholdList(""), []);
  assert.throws(() => splitThresholdList("[oops"), BadInputError);
});

test("catalog: names are unique and consistent, routed to their runner, and render as a Markdown table", () => {
  const names = METRIC_CATALOG.map((e) => e.name);
  assert.equal(new Set(names).size, names.length);
  for (const e of METRIC_CATALOG) {
    assert.ok(e.name.startsWith(`${e.runner}.`), e.name);
    // Every catalog metric accepts a threshold on its default (or p95) stat.
    const stat = e.type === "latency" ? ".p95" : "";
    const limit = e.type === "latency" ? "1s" : e.type === "rate" ? "1%" : "1";
    assert.doesNotThrow(() => validateThresholds([`${e.name}${stat}<=${limit}`]), e.name);
  }
  const specs = parseThresholds(["create.provision.p95<2m", "ssh.tick.p99<1s", "web-terminal.tick.p99<1s", "coderd.api.p95<1s"]);
  assert.deepEqual(thresholdsFor(specs, "ssh").map((s) => s.metric), ["ssh.tick"]);
  assert.deepEqual(thresholdsFor(specs, "coderd").map((s) => s.metric), ["coderd.api"]);
  const md = catalogMarkdown();
  assert.match(md, /^\| Metric \| Type \| Unit \| Labels \| Stats \| Meaning \|$/m);
  assert.match(md, /^\| `create\.provision` \| latency \| ms \| - \| p50 p90 p95 p99 max min mean count \|/m);
  assert.match(md, /^\| `<kind>\.tick` \| latency/m);
  assert.equal(md.match(/<kind>\.tick`/g)?.length, 1, "one row per traffic metric, not one per kind");
  assert.match(md, /^\| `dashboard\.page` \| latency \| ms \| page \|/m);
});

// ---- presets and settings ------------------------------------------------------------------------------

import { loadConfig, ConfigError } from "../src/config/load.ts";
import { configuredThresholds, presetThresholds } from "../src/thresholds/index.ts";

function report(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return loadConfig("report", argv, { env, envFile: false }).config;
}

test("presets: the --threshold-* settings as expressions; --threshold replaces a preset's row in place", () => {
  const c = report([]);
  assert.deepEqual(presetThresholds(c), [
    "create.success_rate>=99%",
    "create.provision.p95<2m",
    "dashboard.page.p95<500ms",
    "dashboard.page.p99<1s",
    "dashboard.error_rate{*}<=0%",
    "ssh.connection_error_rate<=0%",
    "web-terminal.connection_error_rate<=0%",
    "app.connection_error_rate<=0%",
  ]);
  // Every preset is valid against the catalog.
  assert.equal(validateThresholds(presetThresholds(c)).length, 8);

  const d = report([
    "--threshold-provision-p95", "90s",
    "--threshold-create-success", "99.5",
    "--threshold-tick-p99", "100ms",
    "--threshold", "create.provision.p95<10m",
    "--threshold", "dashboard.page{page:workspaces}.p95 < 300ms",
  ]);
  assert.deepEqual(d.thresholds, ["create.provision.p95<10m", "dashboard.page{page:workspaces}.p95<300ms"]);
  const exprs = configuredThresholds(d).map((s) => s.expression);
  assert.deepEqual(exprs, [
    "create.success_rate>=99.5%",
    "create.provision.p95<10m",
    "dashboard.page.p95<500ms",
    "dashboard.page.p99<1s",
    "dashboard.error_rate{*}<=0%",
    "ssh.connection_error_rate<=0%",
    "web-terminal.connection_error_rate<=0%",
    "app.connection_error_rate<=0%",
    "ssh.tick.p99<100ms",
    "web-terminal.tick.p99<100ms",
    "app.tick.p99<100ms",
    "dashboard.page{page:workspaces}.p95<300ms",
  ]);
  // Traffic scripts take the tick preset by a short flag.
  const t = loadConfig("ssh-traffic", ["--tick-p99", "2s"], { env: { CODER_URL: "http://127.0.0.1:1", CODER_SESSION_TOKEN: "thresholds-test-token" }, envFile: false }).config;
  assert.equal(t.thresholdTickP99, 2000);
});

test("SCALETEST_THRESHOLDS: a JSON array (the template) or a comma/newline list; bad expressions are bad settings", () => {
  assert.deepEqual(report([], { SCALETEST_THRESHOLDS: '["ssh.tick.p99<1s","dashboard.page{*}.p95<1s"]' }).thresholds, [
    "ssh.tick.p99<1s",
    "dashboard.page{*}.p95<1s",
  ]);
  assert.deepEqual(report([], { SCALETEST_THRESHOLDS: "ssh.tick.p99<1s,\ncreate.success_rate>=90%" }).thresholds, [
    "ssh.tick.p99<1s",
    "create.success_rate>=90%",
  ]);
  assert.throws(
    () => report(["--threshold", "create.provison.p95<2m", "--threshold", "ssh.tick.p99<fast"]),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e instanceof BadInputError, "a config error is bad input (exit status 2)");
      assert.match(e.message, /--threshold \(SCALETEST_THRESHOLDS\) 2 bad thresholds/);
      assert.match(e.message, /threshold "create\.provison\.p95<2m": unknown metric/);
      assert.match(e.message, /threshold "ssh\.tick\.p99<fast": the limit "fast" is not a value/);
      return true;
    },
  );
});

test("thresholdsMarkdown documents the syntax, the label rule, presets and every metric", async () => {
  const { thresholdsMarkdown } = await import("../src/thresholds/index.ts");
  const md = thresholdsMarkdown();
  assert.match(md, /holds for \*\*every\*\* label value/);
  assert.match(md, /;nodata=pass/);
  for (const e of METRIC_CATALOG) assert.ok(md.includes(`\`${e.name.replace(/^(ssh|web-terminal|app)\./, "<kind>.")}\``), e.name);
  // Every quoted example expression in the text parses (apostrophes in table cells are not examples).
  const examples = [...md.matchAll(/(?<![A-Za-z])'([^'\n|]+)'/g)].map((m) => m[1]!);
  assert.ok(examples.length >= 2, `examples found: ${examples.join(", ")}`);
  for (const e of examples) assert.doesNotThrow(() => validateThresholds([e]), e);
});

test("an unlabelled failure names no label; a failing {label:value} names its value", () => {
  const set: MetricSet = { "create.provision": latency(samplesSeries([5000])), ...pages({ a: [900] }) };
  const [p, l] = evaluate(["create.provision.p95<1s", "dashboard.page{page:a}.p95<500ms"], set);
  assert.equal(p?.ok, false);
  assert.deepEqual(p?.failing, []);
  assert.equal(p?.message, "create.provision.p95<1s: FAILED: create.provision 5s (limit <1s)");
  assert.deepEqual(l?.failing, ["page=a"]);
});
