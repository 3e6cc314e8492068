// Limits as users write them (Go durations, percentages, byte sizes, plain numbers) and observed values as
// people read them (1.7s, 0.5%, 1.5 MiB). One place, so every threshold row uses the same units.
import { parseDuration } from "../config/duration.ts";
import { formatQuantity } from "../results/units.ts";

/** What a limit was written as. Durations are held in ms, percentages as a ratio (1% = 0.01), sizes in bytes. */
export type LimitKind = "duration" | "percent" | "bytes" | "bytes/s" | "number";

export interface Limit {
  kind: LimitKind;
  value: number;
  /** As written (trimmed), e.g. "2m", "1%", "4KiB". */
  text: string;
}

/** The unit of an observed value. */
export type ObservedUnit = "ms" | "ratio" | "count" | "bytes" | "bytes/s";

const BYTE_UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  KiB: 1024,
  MB: 1e6,
  MiB: 1024 ** 2,
  GB: 1e9,
  GiB: 1024 ** 3,
};

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const PERCENT = /^((?:\d+(?:\.\d*)?|\.\d+))%$/;
const BYTES = /^((?:\d+(?:\.\d*)?|\.\d+))(B|kB|KB|KiB|MB|MiB|GB|GiB)(\/s)?$/;

/** Parses a limit; throws an Error (the caller adds the expression) saying what is accepted. */
export function parseLimit(raw: string): Limit {
  const text = raw.trim();
  if (text === "") throw new Error("the limit is missing: write a value after the operator, e.g. <2m, <=1%, >=99%");
  if (NUMBER.test(text)) return { kind: "number", value: Number(text), text };
  const pct = PERCENT.exec(text);
  if (pct) {
    const value = Number(pct[1]) / 100;
    if (value > 1) throw new Error(`the limit ${text} is above 100%`);
    return { kind: "percent", value, text };
  }
  const b = BYTES.exec(text);
  if (b) return { kind: b[3] ? "bytes/s" : "bytes", value: Number(b[1]) * (BYTE_UNITS[b[2] as string] as number), text };
  try {
    return { kind: "duration", value: parseDuration(text), text };
  } catch {
    throw new Error(
      `the limit "${text}" is not a value: use a duration (500ms, 2m, 1m30s), a percentage (1%), ` +
        `a size (4KiB, 10MB/s) or a plain number`,
    );
  }
}

/** Which limit kinds make sense against a value of this unit (a bare number only where no unit is implied). */
export const LIMIT_KINDS_FOR: Record<ObservedUnit, readonly LimitKind[]> = {
  ms: ["duration"],
  ratio: ["percent"],
  count: ["number"],
  bytes: ["bytes", "number"],
  "bytes/s": ["bytes/s", "bytes", "number"],
};

const EXAMPLE: Record<ObservedUnit, string> = {
  ms: "a duration such as 500ms or 2m",
  ratio: "a percentage such as 1% or 99.5%",
  count: "a plain number such as 0 or 10",
  bytes: "a size such as 4KiB or 10MB",
  "bytes/s": "a rate such as 10MB/s",
};

/** Null when a limit of this kind can be compared with values in `unit`; else what to write instead. */
export function limitProblem(limit: Limit, unit: ObservedUnit): string | null {
  if (LIMIT_KINDS_FOR[unit].includes(limit.kind)) return null;
  // A plain 0 is 0 in every unit ("cleanup.remaining==0", "workspace-updates.error_rate<=0"): nothing to guess.
  if (limit.kind === "number" && limit.value === 0) return null;
  return `the limit ${limit.text} is ${article(limit.kind)} but the value is ${unitName(unit)}: write ${EXAMPLE[unit]}`;
}

function article(k: LimitKind): string {
  return k === "number" ? "a plain number" : k === "bytes/s" ? "a rate in bytes per second" : `a ${k === "bytes" ? "size" : k}`;
}

function unitName(u: ObservedUnit): string {
  switch (u) {
    case "ms":
      return "a time";
    case "ratio":
      return "a rate (write percentages)";
    case "count":
      return "a count";
    case "bytes":
      return "a size in bytes";
    case "bytes/s":
      return "bytes per second";
  }
}

/** An observed value in the unit people read it in (the one convention of src/results/units.ts). */
export function formatValue(value: number, unit: ObservedUnit): string {
  return formatQuantity(value, unit);
}
