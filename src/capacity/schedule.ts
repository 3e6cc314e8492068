// The step schedule of a capacity search and the search itself, as a small state machine the step loop
// drives: `next()` says which load to try, `record(load, ok)` what happened.
//
//   schedule: a list (50,100,200,400) or start, start+step, ... up to max; stops at the first failing step.
//   bisect:   start, 2*start, 4*start, ... up to max; after the first failing step, bisects between the last
//             good and the first bad load until they are at most `resolution` apart.
// Both stop at max. The knee is the largest load that passed.

export type SearchMode = "schedule" | "bisect";

export interface SearchSpec {
  mode: SearchMode;
  /** Schedule mode: explicit loads (increasing); empty = start/step/max. */
  steps: readonly number[];
  start: number;
  step: number;
  max: number;
  resolution: number;
}

/** Why the search ended. */
export type StopReason = "failed-step" | "max" | "resolution" | "schedule-end" | "signal" | "error";

/** "50,100,200,400" -> [50, 100, 200, 400]; whole numbers above 0, strictly increasing. Throws saying what is wrong. */
export function parseStepList(text: string): number[] {
  const t = text.trim();
  if (t === "") return [];
  const out: number[] = [];
  for (const part of t.split(",").map((x) => x.trim())) {
    if (!/^\d+$/.test(part) || Number(part) < 1) throw new Error(`must be a comma list of whole numbers above 0, e.g. 50,100,200,400; got "${part}"`);
    const n = Number(part);
    if (out.length && n <= out[out.length - 1]!) throw new Error(`must increase step by step; ${n} follows ${out[out.length - 1]}`);
    out.push(n);
  }
  return out;
}

/** The loads schedule mode steps through (at most max). */
export function scheduleLoads(s: SearchSpec): number[] {
  if (s.steps.length) return s.steps.filter((n) => n <= s.max);
  const out: number[] = [];
  for (let n = s.start; n <= s.max; n += s.step) out.push(n);
  return out;
}

/** The growth phase of bisect mode: start, doubling, the last one capped at max. */
export function doublingLoads(s: SearchSpec): number[] {
  const out: number[] = [];
  for (let n = s.start; ; n *= 2) {
    out.push(Math.min(n, s.max));
    if (n >= s.max) break;
  }
  return out;
}

/** Bisect steps between a good and a bad load `gap` apart until they are at most `resolution` apart. */
export function bisectSteps(gap: number, resolution: number): number {
  let n = 0;
  for (let g = gap; g > resolution && g > 1; g = Math.ceil(g / 2)) n++;
  return n;
}

/** The most steps a search can take, and the loads of its longest path (for the plan and its bounds). */
export function worstCase(s: SearchSpec): { steps: number; loads: number[] } {
  if (s.mode === "schedule") {
    const loads = scheduleLoads(s);
    return { steps: loads.length, loads };
  }
  const grow = doublingLoads(s);
  // A bound on every path: all the doublings, then the longest bisection after any of them (the gaps double,
  // but the last one, capped at max, can be shorter than the one before), each step at most max.
  const extra = Math.max(...grow.map((n, i) => bisectSteps(n - (i > 0 ? grow[i - 1]! : 0), s.resolution)));
  return { steps: grow.length + extra, loads: [...grow, ...Array<number>(extra).fill(grow[grow.length - 1]!)] };
}

export class CapacitySearch {
  /** Largest load that passed, or null. */
  knee: number | null = null;
  /** Smallest load that failed, or null. */
  firstBad: number | null = null;
  stoppedBy: StopReason | null = null;
  private readonly schedule: number[];
  private index = 0;
  private bisecting = false;

  constructor(readonly spec: SearchSpec) {
    this.schedule = spec.mode === "schedule" ? scheduleLoads(spec) : doublingLoads(spec);
  }

  /** The next load to try, or null when the search is over (see stoppedBy). */
  next(): number | null {
    if (this.stoppedBy) return null;
    if (!this.bisecting) {
      const n = this.schedule[this.index];
      if (n === undefined) return this.stop(this.spec.mode === "schedule" && this.schedule[this.schedule.length - 1] !== this.spec.max ? "schedule-end" : "max");
      return n;
    }
    const lo = this.knee ?? 0;
    const hi = this.firstBad!;
    if (hi - lo <= this.spec.resolution) return this.stop("resolution");
    const mid = Math.floor((lo + hi) / 2);
    if (mid <= lo || mid >= hi) return this.stop("resolution");
    return mid;
  }

  record(load: number, ok: boolean): void {
    if (ok) {
      if (this.knee === null || load > this.knee) this.knee = load;
    } else if (this.firstBad === null || load < this.firstBad) this.firstBad = load;
    if (!this.bisecting) {
      this.index++;
      if (!ok) {
        if (this.spec.mode === "schedule") this.stop("failed-step");
        else this.bisecting = true;
      }
    }
  }

  /** Ends the search early (a stop signal, a step that could not run). */
  stop(reason: StopReason): null {
    this.stoppedBy ??= reason;
    return null;
  }
}
