// coderd's lifecycle executor (coderd/autobuild), autostart part: every `autobuildPollIntervalMs`
// (coderd's --autobuild-poll-interval, default 1 m) it starts each workspace whose autostart is due:
// latest build a stop whose job succeeded, owner active, schedule valid, and the tick not before the
// schedule's next time after that stop build was created (truncated to the minute, as coderd). The start
// build has reason `autostart`, the template's active version and the last build's parameters.
//
// Tests read `log` (one entry per autostart build: tick time, scheduled time) — the simulator's own record
// of the trigger — and may `stall()` the executor (ticks still counted, nothing started) or call `runOnce(at)`
// with any time to test the eligibility arithmetic without waiting for the clock.
import type { SimCore } from "./core.ts";
import type { Engine } from "./engine.ts";
import { parseWeekly, ScheduleError, type WeeklySchedule } from "./schedule.ts";
import { jobStatus } from "./state.ts";

export interface AutobuildEntry {
  /** Epoch ms of the tick that started the build. */
  tick_at: number;
  /** Epoch ms the schedule named (next schedule time after the stop build, truncated to the minute). */
  scheduled_for: number;
  workspace_id: string;
  workspace_name: string;
  build_id: string;
  build_number: number;
}

/** Entries beyond this drop the oldest, so a long demo cannot grow the log without bound. */
const LOG_MAX = 100_000;

export class LifecycleExecutor {
  readonly log: AutobuildEntry[] = [];
  ticks = 0;
  /** Ticks that found the executor stalled (nothing was started). */
  stalledTicks = 0;
  private stalled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly parsed = new Map<string, WeeklySchedule | null>();
  /** Told how long each ticked pass took (seconds): the metrics endpoint's executor histogram. */
  onPass: ((seconds: number) => void) | null = null;

  constructor(private readonly core: SimCore, private readonly engine: Engine, readonly intervalMs: number) {
    if (intervalMs > 0) this.arm();
  }

  /** A stalled executor keeps ticking but starts nothing (a coderd whose executor is stuck or lagging). */
  stall(on = true): void {
    this.stalled = on;
  }

  get isStalled(): boolean {
    return this.stalled;
  }

  private arm(): void {
    this.timer = this.core.later(this.intervalMs, () => {
      this.timer = undefined;
      this.tick();
      this.arm();
    });
  }

  /** Stops the ticker (the simulator's stop cancels it too). */
  close(): void {
    this.core.cancel(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    this.ticks++;
    if (this.stalled) {
      this.stalledTicks++;
      return;
    }
    const t0 = performance.now();
    this.runOnce(this.core.now());
    this.onPass?.((performance.now() - t0) / 1000);
  }

  private schedule(raw: string): WeeklySchedule | null {
    if (!this.parsed.has(raw)) {
      let s: WeeklySchedule | null = null;
      try {
        s = parseWeekly(raw);
      } catch (e) {
        if (!(e instanceof ScheduleError)) throw e;
      }
      if (this.parsed.size > 10_000) this.parsed.clear();
      this.parsed.set(raw, s);
    }
    return this.parsed.get(raw) ?? null;
  }

  /** One pass at time `at` (epoch ms): starts every due workspace, returns what it started. */
  runOnce(at: number): AutobuildEntry[] {
    const { state } = this.core;
    const started: AutobuildEntry[] = [];
    for (const ws of state.workspaces.values()) {
      if (ws.deleted || !ws.autostartSchedule) continue;
      const owner = state.users.get(ws.ownerId);
      if (!owner || owner.deleted || owner.status === "suspended") continue;
      const latest = state.latestBuild(ws);
      if (latest.transition !== "stop" || jobStatus(state.job(latest.jobId)) !== "succeeded") continue;
      const sched = this.schedule(ws.autostartSchedule);
      if (!sched) continue;
      const next = sched.next(latest.createdAt);
      if (next === null || at < next) continue;
      const template = state.templates.get(ws.templateId);
      if (!template) continue;
      const build = this.engine.createBuild(ws, "start", ws.ownerId, template.activeVersionId, latest.params, "autostart");
      const entry: AutobuildEntry = {
        tick_at: at,
        scheduled_for: next,
        workspace_id: ws.id,
        workspace_name: ws.name,
        build_id: build.id,
        build_number: build.buildNumber,
      };
      if (this.log.length >= LOG_MAX) this.log.shift();
      this.log.push(entry);
      started.push(entry);
    }
    return started;
  }
}
