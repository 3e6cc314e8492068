// One definition per setting: its env var, CLI flag, default, bounds and help text. The loader, the CLI
// help, the README table and the template's coder_parameters are all derived from (or checked against) these.

import { formatDuration, parseDuration } from "./duration.ts";

/** The executable entry points; a setting names the ones that accept it. */
export const SCRIPTS = [
  "run",
  "create-workspaces",
  "cleanup",
  "ssh-traffic",
  "web-terminal-traffic",
  "app-traffic",
  "dashboard-traffic",
  "workspace-updates",
  "prebuilds",
  "task-status",
  "notifications",
  "autostart",
  "dynamic-parameters",
  "create-users",
  "report",
  "status",
] as const;
export type ScriptName = (typeof SCRIPTS)[number];

export const TRAFFIC_SCRIPTS = ["ssh-traffic", "web-terminal-traffic", "app-traffic"] as const;
export const SCENARIO_SCRIPTS = [...TRAFFIC_SCRIPTS, "dashboard-traffic"] as const;

export type SettingKind = "string" | "int" | "number" | "bool" | "duration" | "enum" | "list" | "enum-list";

export type SettingGroup =
  | "deployment"
  | "create"
  | "traffic"
  | "dashboard"
  | "pipeline"
  | "thresholds"
  | "cleanup"
  | "integrations"
  | "scale-out";

export interface Setting<T> {
  kind: SettingKind;
  group: SettingGroup;
  /** Environment variable (the template passes parameters this way). */
  env: string;
  /** Long flag without dashes, e.g. "workspaces" for --workspaces. */
  flag: string;
  /** Scripts where this setting goes by another flag, e.g. create-workspaces calls `workspaces` --count. */
  scriptFlags?: Partial<Record<ScriptName, string>>;
  /** Scripts that accept this setting as a flag. Every script reads every setting's env var. */
  scripts: readonly ScriptName[];
  /** The default; `undefined` means unset (required settings, or ones that fall back to another). */
  default: T | undefined;
  /**
   * The runner template's default, when it should differ from the scripts' own: the template starts a run at
   * scale in a shared deployment (Coder's runner values, dry run on), while the scripts' default stays fit for a
   * terminal rerun, `npm run demo` and the tests. template/tools/parameters.ts uses it; nothing else does.
   */
  templateDefault?: T;
  /** The template parameter is ephemeral: its value is not kept for the next build (e.g. dry run). */
  templateEphemeral?: boolean;
  /** Another setting whose value is used when this one is unset (per-scenario overrides of a shared value). */
  fallback?: string;
  /** The user must supply it (after flags, env and .env are applied). */
  required?: boolean;
  min?: number;
  max?: number;
  options?: readonly string[];
  /** A flag that may be given several times (lists). */
  repeatable?: boolean;
  /** Never printed, logged or written: redacted in run.json. */
  secret?: boolean;
  help: string;
  /** Converts one raw string (from a flag or env) to the value; throws an Error saying what is wrong. */
  parse(raw: string | string[]): T;
  /** Renders the value the way a user would type it (help text, README, template defaults). */
  show(value: T): string;
}

type Common<T> = Omit<Setting<T>, "kind" | "parse" | "show" | "default" | "templateDefault"> & { default?: T; templateDefault?: T };

function bounds(n: number, min: number | undefined, max: number | undefined, show: (v: number) => string): void {
  if (min !== undefined && n < min) throw new Error(`must be at least ${show(min)}`);
  if (max !== undefined && n > max) throw new Error(`must be at most ${show(max)}`);
}

function one(raw: string | string[]): string {
  return Array.isArray(raw) ? (raw[raw.length - 1] ?? "") : raw;
}

export function str(o: Common<string>): Setting<string> {
  return { ...o, kind: "string", default: o.default, parse: (raw) => one(raw), show: (v) => v };
}

export function int(o: Common<number> & { min: number; max: number }): Setting<number> {
  return {
    ...o,
    kind: "int",
    default: o.default,
    parse(raw) {
      const s = one(raw).trim();
      if (!/^-?\d+$/.test(s)) throw new Error(`must be a whole number, got "${s}"`);
      const n = Number(s);
      bounds(n, o.min, o.max, String);
      return n;
    },
    show: String,
  };
}

export function num(o: Common<number> & { min: number; max: number }): Setting<number> {
  return {
    ...o,
    kind: "number",
    default: o.default,
    parse(raw) {
      const s = one(raw).trim();
      if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(s)) throw new Error(`must be a number, got "${s}"`);
      const n = Number(s);
      bounds(n, o.min, o.max, String);
      return n;
    },
    show: String,
  };
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);

export function bool(o: Common<boolean>): Setting<boolean> {
  return {
    ...o,
    kind: "bool",
    default: o.default ?? false,
    parse(raw) {
      const s = one(raw).trim().toLowerCase();
      if (TRUE.has(s)) return true;
      if (FALSE.has(s)) return false;
      throw new Error(`must be true or false, got "${s}"`);
    },
    show: (v) => String(v),
  };
}

/** Durations are held in milliseconds; defaults and bounds are written as Go duration strings. */
export function duration(
  o: Omit<Common<number>, "min" | "max" | "default" | "templateDefault"> & { default?: string; templateDefault?: string; min?: string; max?: string },
): Setting<number> {
  const min = o.min === undefined ? 0 : parseDuration(o.min);
  const max = o.max === undefined ? undefined : parseDuration(o.max);
  return {
    ...o,
    kind: "duration",
    min,
    max,
    default: o.default === undefined ? undefined : parseDuration(o.default),
    templateDefault: o.templateDefault === undefined ? undefined : parseDuration(o.templateDefault),
    parse(raw) {
      const ms = parseDuration(one(raw));
      bounds(ms, min, max, formatDuration);
      return ms;
    },
    show: formatDuration,
  };
}

export function oneOf<const O extends readonly string[]>(o: Common<O[number]> & { options: O }): Setting<O[number]> {
  return {
    ...o,
    kind: "enum",
    default: o.default,
    parse(raw) {
      const s = one(raw).trim();
      if (!o.options.includes(s)) throw new Error(`must be one of ${o.options.join(", ")}; got "${s}"`);
      return s as O[number];
    },
    show: (v) => v,
  };
}

/** Splits a list given as repeated flags, a JSON array (how the template passes list(string)), or commas. */
export function splitList(raw: string | string[]): string[] {
  const parts = Array.isArray(raw) ? raw : [raw];
  const out: string[] = [];
  for (const p of parts) {
    const t = p.trim();
    if (t.startsWith("[")) {
      let arr: unknown;
      try {
        arr = JSON.parse(t);
      } catch {
        throw new Error(`is not a valid JSON array: ${t}`);
      }
      if (!Array.isArray(arr) || arr.some((x) => typeof x !== "string")) throw new Error("must be a JSON array of strings");
      out.push(...(arr as string[]));
    } else if (Array.isArray(raw)) {
      if (t !== "") out.push(t);
    } else {
      out.push(...t.split(",").map((x) => x.trim()).filter((x) => x !== ""));
    }
  }
  return out;
}

export function list(o: Common<string[]> & { item?: (s: string) => string }): Setting<string[]> {
  return {
    ...o,
    kind: "list",
    repeatable: true,
    default: o.default ?? [],
    parse(raw) {
      const items = splitList(raw);
      return o.item ? items.map(o.item) : items;
    },
    show: (v) => v.join(","),
  };
}

export function enumList<const O extends readonly string[]>(
  o: Common<O[number][]> & { options: O; aliases?: Record<string, O[number]> },
): Setting<O[number][]> {
  return {
    ...o,
    kind: "enum-list",
    default: o.default ?? [],
    parse(raw) {
      const items = splitList(raw).map((s) => o.aliases?.[s] ?? s);
      const bad = items.filter((s) => !o.options.includes(s));
      if (bad.length) throw new Error(`unknown ${bad.map((b) => `"${b}"`).join(", ")}: choose from ${o.options.join(", ")}`);
      if (new Set(items).size !== items.length) throw new Error("lists a value twice");
      return items as O[number][];
    },
    show: (v) => v.join(","),
  };
}
