/**
 * Which workspaces (or users) a scenario targets. Pure functions; shared by every traffic kind and the
 * dashboard scenario.
 *
 * Order, always: sort by name -> target range (`--target-workspaces` / `--target-users`) -> percentage
 * (`--percentage`) -> shard (`--shard`).
 *
 * - Target range "START:END" follows Coder (`parseTargetRange` + `getTargetedWorkspaces` in
 *   cli/exp_scaletest.go): END is exclusive, indexes are over the name-sorted list, "" means all, START==END and
 *   END<START are rejected, END > count is an error. We additionally reject negative numbers (Coder would
 *   panic) and whitespace.
 * - Percentage P keeps the first floor(P/100 * n) items of what the range left (P in (0, 100]).
 *   The pipeline's per-scenario slicing (several scenarios on disjoint slices) is `percentageSlices()`,
 *   mirroring Coder's runner script.
 * - Shard "i/n" (0-based i < n) keeps the contiguous block [floor(i*N/n), floor((i+1)*N/n)), so shards are
 *   disjoint, cover everything, and differ in size by at most one.
 */
import { BadInputError } from "../util/errors.ts";

export type TargetNoun = "workspaces" | "users";

export interface TargetRange {
  start: number;
  /** Exclusive; 0 = "to the end" (Coder's convention for an unset END). */
  end: number;
}

export interface Shard {
  index: number;
  count: number;
}

function singular(noun: TargetNoun): string {
  return noun === "workspaces" ? "workspace" : "user";
}

/** Parses "START:END" like Coder. Returns undefined for "" (all). */
export function parseTargetRange(noun: TargetNoun, spec: string | undefined): TargetRange | undefined {
  if (spec === undefined || spec === "") return undefined;
  const parts = spec.split(":");
  if (parts.length !== 2) {
    throw new BadInputError(`invalid target ${noun} "${spec}": expected START:END, e.g. 0:10 for the first 10`);
  }
  const nums = parts.map((p) => {
    if (!/^\d+$/.test(p)) {
      throw new BadInputError(`invalid target ${noun} "${spec}": "${p}" is not a non-negative integer`);
    }
    return Number(p);
  });
  const start = nums[0]!;
  const end = nums[1]!;
  if (start === end) throw new BadInputError(`invalid target ${noun} "${spec}": start and end cannot be equal`);
  if (end < start) throw new BadInputError(`invalid target ${noun} "${spec}": end cannot be less than start`);
  return { start, end };
}

/** Slices an already name-sorted list by a parsed range, with Coder's errors. */
export function applyTargetRange<T>(noun: TargetNoun, items: readonly T[], range: TargetRange | undefined): T[] {
  if (items.length === 0) throw new BadInputError(`no scaletest ${noun} exist`);
  if (!range) return items.slice();
  const end = range.end === 0 ? items.length : range.end;
  if (end > items.length) {
    throw new BadInputError(
      `target ${singular(noun)} end ${end} is greater than the number of ${noun} ${items.length}`,
    );
  }
  return items.slice(range.start, end);
}

export function validatePercentage(pct: number): void {
  if (!Number.isFinite(pct) || pct <= 0 || pct > 100) {
    throw new BadInputError(`invalid percentage ${pct}: expected a number in (0, 100]`);
  }
}

/** First floor(pct/100 * n) items. Errors if that selects nothing. */
export function applyPercentage<T>(noun: TargetNoun, items: readonly T[], pct: number | undefined): T[] {
  if (pct === undefined || pct === 100) return items.slice();
  validatePercentage(pct);
  const count = Math.floor((pct / 100) * items.length);
  if (count === 0) {
    throw new BadInputError(`percentage ${pct} of ${items.length} ${noun} selects none; raise --percentage`);
  }
  return items.slice(0, count);
}

/** Parses "i/n" (0-based). */
export function parseShard(spec: string | undefined): Shard | undefined {
  if (spec === undefined || spec === "") return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (!m) throw new BadInputError(`invalid shard "${spec}": expected INDEX/COUNT with a 0-based index, e.g. 0/3`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new BadInputError(`invalid shard "${spec}": COUNT must be at least 1`);
  if (index >= count) throw new BadInputError(`invalid shard "${spec}": INDEX must be below COUNT (0..${count - 1})`);
  return { index, count };
}

/** Half-open bounds of shard `s` over `n` items. */
export function shardBounds(n: number, s: Shard): { start: number; end: number } {
  return { start: Math.floor((s.index * n) / s.count), end: Math.floor(((s.index + 1) * n) / s.count) };
}

export function applyShard<T>(items: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return items.slice();
  const { start, end } = shardBounds(items.length, shard);
  return items.slice(start, end);
}

/** Code-unit order (not locale): matches Go's sort.Strings, and zero-padded indexes sort numerically. */
export function byName<T>(nameOf: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = nameOf(a);
    const y = nameOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

export interface SelectOptions<T> {
  noun: TargetNoun;
  nameOf: (t: T) => string;
  /** "START:END" as given on the command line, or a parsed range. */
  range?: string | TargetRange;
  percentage?: number;
  /** "i/n" or parsed. */
  shard?: string | Shard;
}

/** sort by name -> range -> percentage -> shard. Never mutates `items`. */
export function selectTargets<T>(items: readonly T[], opts: SelectOptions<T>): T[] {
  const sorted = items.slice().sort(byName(opts.nameOf));
  const range = typeof opts.range === "string" ? parseTargetRange(opts.noun, opts.range) : opts.range;
  const ranged = applyTargetRange(opts.noun, sorted, range);
  const pct = applyPercentage(opts.noun, ranged, opts.percentage);
  const shard = typeof opts.shard === "string" ? parseShard(opts.shard) : opts.shard;
  return applyShard(pct, shard);
}

export interface PercentageSlice {
  start: number;
  end: number;
  /** True when start+count overran the total and the slice fell back to 0:count (the runner warns). */
  wrapped: boolean;
  /** The range as passed to a scenario: "start:end". */
  spec: string;
}

/**
 * The runner's per-scenario slices (Coder's run.sh): count = floor(pct/100 * total); end = start + count;
 * if end > total use 0:count; the next scenario starts at this end. Percentages summing to <= 100 give
 * disjoint slices.
 */
export function percentageSlices(total: number, percentages: readonly number[]): PercentageSlice[] {
  if (!Number.isInteger(total) || total < 1) throw new Error(`total must be a positive integer (got ${total})`);
  let start = 0;
  return percentages.map((pct) => {
    validatePercentage(pct);
    const count = Math.floor((pct / 100) * total);
    if (count === 0) throw new BadInputError(`percentage ${pct} of ${total} workspaces selects none; raise the percentage`);
    let s = start;
    let end = s + count;
    let wrapped = false;
    if (end > total) {
      s = 0;
      end = count;
      wrapped = true;
    }
    start = end;
    return { start: s, end, wrapped, spec: `${s}:${end}` };
  });
}
