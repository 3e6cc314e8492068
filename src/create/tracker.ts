// Live counts and running percentiles of a create run, rendered as the progress line:
// "120/200 done, 2 failed, 20 in flight | p95 create 40ms queue 1.2s build 300ms agent 200ms".
import { formatMs } from "../results/stats.ts";
import type { CreateStage, WorkspaceUnitResult } from "./types.ts";

const SHOWN: CreateStage[] = ["create", "queue", "build", "agent", "command"];

export interface CreateSnapshot {
  total: number;
  done: number;
  failed: number;
  inFlight: number;
  /** Running p95 (ms) of each stage seen so far. */
  p95: Partial<Record<CreateStage, number>>;
}

/** Nearest-rank percentile of unsorted values (copied and sorted: fine for thousands of values). */
function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export class CreateTracker {
  done = 0;
  failed = 0;
  inFlight = 0;
  private readonly samples = new Map<CreateStage, number[]>();

  constructor(readonly total: number) {}

  started(): void {
    this.inFlight++;
  }

  stage(stage: CreateStage, ms: number): void {
    let list = this.samples.get(stage);
    if (!list) this.samples.set(stage, (list = []));
    list.push(ms);
  }

  finished(unit: WorkspaceUnitResult): void {
    if (!unit.not_started) this.inFlight--;
    if (unit.ok) this.done++;
    else this.failed++;
  }

  snapshot(): CreateSnapshot {
    const p95: Partial<Record<CreateStage, number>> = {};
    for (const [stage, list] of this.samples) {
      const v = percentile(list, 95);
      if (v !== undefined) p95[stage] = v;
    }
    return { total: this.total, done: this.done, failed: this.failed, inFlight: this.inFlight, p95 };
  }

  render(): string {
    const s = this.snapshot();
    const stages = SHOWN.filter((st) => s.p95[st] !== undefined).map((st) => `${st} ${formatMs(s.p95[st])}`);
    return (
      // Say what is now and what is cumulative: counts and p95 cover the run so far, "in flight" is now.
      `${s.done}/${s.total} done, ${s.failed} failed so far · ${s.inFlight} in flight now` +
      (stages.length ? ` · p95 since start ${stages.join(" ")}` : "")
    );
  }
}
