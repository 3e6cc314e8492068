// A realistic run folder built with the real results writers (no pipeline needed): create-workspaces
// with per-workspace build times, two traffic phases with per-second timelines, a dashboard phase with
// per-page percentiles and a cleanup phase. `buildSlowdown` multiplies the build stage (as a slower
// provisioner would), everything else stays identical for the same seed.
import { join } from "node:path";
import { openResultsDir } from "../../src/results/dir.ts";
import { HarnessResults } from "../../src/results/harness.ts";
import { summarize } from "../../src/results/stats.ts";
import { buildPhaseRecord, buildRunSummary, writePhaseRecord, type PhaseRecord } from "../../src/results/summary.ts";

export interface FixtureOptions {
  runId: string;
  /** Factor applied to the build stage of every workspace (default 1). */
  buildSlowdown?: number;
  workspaces?: number;
  /** Seconds of traffic per traffic phase (default 60). */
  trafficSeconds?: number;
  /** Text put into run.json's comment (tests put markup here to check escaping). */
  comment?: string;
  /** Stop after the first phase without summary.json (a run still in progress). */
  unfinished?: boolean;
}

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const T0 = Date.parse("2025-03-01T10:00:00.000Z");

export function writeFixtureRun(resultsDir: string, opts: FixtureOptions): string {
  const rand = rng(42);
  const slow = opts.buildSlowdown ?? 1;
  const n = opts.workspaces ?? 40;
  const trafficS = opts.trafficSeconds ?? 60;
  const dir = openResultsDir(resultsDir, opts.runId);
  dir.writeJSON("run.json", {
    run_id: opts.runId,
    started_at: new Date(T0).toISOString(),
    url: "http://127.0.0.1:3000",
    coder_version: "v2.18.0",
    comment: opts.comment ?? "fixture run",
    scenarios: ["ssh", "web-terminal", "dashboard"],
    config: { workspaces: n, template: "kubernetes-minimal", trafficDuration: `${trafficS}s`, scenarios: ["ssh", "web-terminal", "dashboard"] },
  });
  dir.setStatus("Running");
  const records: PhaseRecord[] = [];
  let clock = T0 + 1000;

  // create-workspaces: stages per workspace; total = create + queue + build + agent.
  dir.startPhase("Creating workspaces");
  const h = new HarnessResults();
  const st: Record<string, number[]> = { create: [], queue: [], build: [], agent: [], total: [] };
  for (let i = 0; i < n; i++) {
    const create = 80 + rand() * 120;
    const queue = 500 + rand() * 4000;
    const build = (20_000 + rand() * 40_000) * slow;
    const agent = 3000 + rand() * 6000;
    const total = create + queue + build + agent;
    st.create!.push(create);
    st.queue!.push(queue);
    st.build!.push(build);
    st.agent!.push(agent);
    st.total!.push(total);
    h.add({ testName: "workspacebuild", id: i, startedAt: clock + i * 50, durationMs: total, extra: { total_ms: Math.round(total) } });
  }
  const createEnd = clock + Math.max(...st.total!) + n * 50;
  const stages = Object.fromEntries(Object.entries(st).map(([k, v]) => [k, summarize(v)]));
  records.push(
    buildPhaseRecord({
      runId: opts.runId,
      phase: "create-workspaces",
      startedAt: new Date(clock),
      endedAt: new Date(createEnd),
      harness: h.toJSON(createEnd - clock),
      stages,
      thresholds: [
        { name: "create success", rule: ">=99%", observed: 1, ok: true },
        { name: "provisioning p95", rule: "p95<2m", observed: stages.total!.p95, ok: (stages.total!.p95 ?? 0) < 120_000 },
      ],
      extra: { buildTimes: st.total!.map((v) => Math.round(v)) },
    }),
  );
  writePhaseRecord(dir, records.at(-1)!);
  dir.endPhase();
  if (opts.unfinished) return dir.path;
  clock = createEnd + 5000;

  // Traffic phases: per-second timeline (bytes and ticks), tick latency percentiles.
  for (const [name, base, bytesPerTick] of [["ssh-traffic", 4, 1024], ["web-terminal-traffic", 9, 512]] as const) {
    dir.startPhase(`Running ${name}`);
    const lat: number[] = [];
    const timeline = [];
    for (let t = 0; t < trafficS; t++) {
      const ramp = Math.min(1, (t + 1) / 10);
      const ticks = Math.round(n * 10 * ramp);
      const secLat = Array.from({ length: 20 }, () => base + rand() * base * (t > trafficS / 2 ? 1.6 : 1));
      lat.push(...secLat);
      timeline.push({ t, bytesWritten: ticks * bytesPerTick, bytesRead: ticks * bytesPerTick, ticks, p95: summarize(secLat).p95, max: Math.max(...secLat) });
    }
    const tick = summarize(lat);
    const start = clock;
    const end = clock + trafficS * 1000;
    const ticks = timeline.reduce((a, p) => a + p.ticks, 0);
    records.push(
      buildPhaseRecord({
        runId: opts.runId,
        phase: name,
        startedAt: new Date(start),
        endedAt: new Date(end),
        stages: { tick },
        thresholds: [{ name: `${name} error rate`, rule: "<=0%", observed: 0, ok: true }],
        extra: {
          timeline,
          timelineStartedAt: new Date(start).toISOString(),
          totals: { connections: n, bytesWritten: ticks * bytesPerTick, bytesRead: ticks * bytesPerTick, ticksCompleted: ticks, ticksLost: 0 },
          errorRate: 0,
        },
      }),
    );
    writePhaseRecord(dir, records.at(-1)!);
    dir.endPhase();
    clock = end + 3000;
  }

  // dashboard-traffic: one stage per page, page views per second.
  dir.startPhase("Running dashboard-traffic");
  const pages: Record<string, number[]> = { workspaces: [], templates: [], users: [], "deployment-health": [] };
  const dashTimeline = [];
  for (let t = 0; t < 30; t++) {
    let req = 0;
    for (const [page, arr] of Object.entries(pages)) {
      const k = page === "workspaces" ? 60 : 30;
      for (let j = 0; j < 4; j++) arr.push(k + rand() * k * 3);
      req += 4;
    }
    dashTimeline.push({ t, requests: req, errors: 0 });
  }
  const pageStats = Object.fromEntries(Object.entries(pages).map(([k, v]) => [k, summarize(v)]));
  const worstP95 = Math.max(...Object.values(pageStats).map((s) => s.p95 ?? 0));
  const worstP99 = Math.max(...Object.values(pageStats).map((s) => s.p99 ?? 0));
  records.push(
    buildPhaseRecord({
      runId: opts.runId,
      phase: "dashboard-traffic",
      startedAt: new Date(clock),
      endedAt: new Date(clock + 30_000),
      stages: pageStats,
      thresholds: [
        { name: "dashboard p95", rule: "p95<500ms", observed: worstP95, ok: worstP95 < 500 },
        { name: "dashboard p99", rule: "p99<1s", observed: worstP99, ok: worstP99 < 1000 },
        { name: "dashboard error rate", rule: "<=0%", observed: 0, ok: true },
      ],
      extra: { timeline: dashTimeline, timelineStartedAt: new Date(clock).toISOString(), totals: { requests: 480 }, errorRate: 0 },
    }),
  );
  writePhaseRecord(dir, records.at(-1)!);
  dir.endPhase();
  clock += 32_000;

  // cleanup
  dir.startPhase("Cleanup");
  const del = Array.from({ length: n }, () => 2000 + rand() * 3000);
  records.push(
    buildPhaseRecord({ runId: opts.runId, phase: "cleanup", startedAt: new Date(clock), endedAt: new Date(clock + 20_000), stages: { delete: summarize(del) } }),
  );
  writePhaseRecord(dir, records.at(-1)!);
  dir.endPhase();
  clock += 20_000;

  const phaseDirs = Object.fromEntries(dir.listPhases().map((p) => [p.name, p.dirName]));
  dir.writeJSON("summary.json", buildRunSummary({ runId: opts.runId, startedAt: new Date(T0), endedAt: new Date(clock), phases: records, phaseDirs }));
  dir.setStatus("Complete");
  return join(dir.path);
}
