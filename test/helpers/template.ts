// Reads the Coder template with a real HCL parser and compares its parameters with the settings schema.
// Shared by test/template.test.ts; `templateProblems` takes the schema as an argument so a test can show that
// a changed default (or bound, or option) in the schema alone is caught.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@cdktf/hcl2json";
import { parseDuration } from "../../src/config/duration.ts";
import type { SettingKey } from "../../src/config/schema.ts";
import type { Setting } from "../../src/config/setting.ts";
import { ADVANCED_PARAMETER, WITHOUT_PARAMETER, parameterName } from "../../template/tools/parameters.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TEMPLATE_DIR = join(ROOT, "template");

type Json = Record<string, unknown>;

export interface ParsedParameter {
  name: string;
  display_name?: string;
  description?: string;
  type?: string;
  form_type?: string;
  default?: unknown;
  mutable?: boolean;
  order?: number;
  count?: string;
  validation?: { min?: number; max?: number; regex?: string; error?: string }[];
  option?: { name: string; value: string; description?: string }[];
}

export interface ParsedTemplate {
  main: Json;
  parameters: Json;
  params: Record<string, ParsedParameter>;
  /** env var -> expression, from locals.parameter_env */
  parameterEnv: Record<string, string>;
  durationBounds: Record<string, { name: string; min: string; max: string }>;
  numberBounds: Record<string, { name: string; min: number; max: number }>;
  /** env var -> expression, from main.tf's locals.fixed_env */
  fixedEnv: Record<string, string>;
}

function locals(doc: Json): Json {
  const all = (doc.locals ?? []) as Json[];
  return Object.assign({}, ...all);
}

export async function parseHclFile(file: string): Promise<Json> {
  return (await parse(file, readFileSync(file, "utf8"))) as Json;
}

export async function parseTemplate(dir = TEMPLATE_DIR): Promise<ParsedTemplate> {
  const main = await parseHclFile(join(dir, "main.tf"));
  const parameters = await parseHclFile(join(dir, "parameters.tf"));
  const data = (parameters.data ?? {}) as Json;
  const raw = (data.coder_parameter ?? {}) as Record<string, ParsedParameter[]>;
  const params: Record<string, ParsedParameter> = {};
  for (const [label, blocks] of Object.entries(raw)) params[label] = blocks[0] as ParsedParameter;
  const pl = locals(parameters);
  const ml = locals(main);
  return {
    main,
    parameters,
    params,
    parameterEnv: (pl.parameter_env ?? {}) as Record<string, string>,
    durationBounds: (pl.duration_bounds ?? {}) as ParsedTemplate["durationBounds"],
    numberBounds: (pl.number_bounds ?? {}) as ParsedTemplate["numberBounds"],
    fixedEnv: (ml.fixed_env ?? {}) as Record<string, string>,
  };
}

/** `${jsonencode(["a","b"])}` -> ["a","b"]; a plain JSON string is accepted too. */
export function listDefault(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const m = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(v);
  return JSON.parse(m ? (m[1] as string) : v);
}

function expectedType(s: Setting<unknown>): string {
  if (s.fallback) return "string";
  switch (s.kind) {
    case "int":
    case "number":
      return "number";
    case "bool":
      return "bool";
    case "list":
    case "enum-list":
      return "list(string)";
    default:
      return "string";
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Every way the template's parameters disagree with the schema `entries`: a parameter without a setting, a
 * pipeline setting without a parameter (unless listed in WITHOUT_PARAMETER), or a different type, default,
 * bounds or options. Empty when they agree.
 */
export function templateProblems(t: ParsedTemplate, entries: [SettingKey, Setting<unknown>][]): string[] {
  const p: string[] = [];
  const byEnv = new Map(entries.map(([k, s]) => [s.env, [k, s] as const]));
  const envOfParam = new Map<string, string>();
  for (const [env, expr] of Object.entries(t.parameterEnv)) {
    // A conditional parameter (count) passes its default when hidden: try(data.coder_parameter.x[0].value, "default").
    const m = /^\$\{data\.coder_parameter\.([a-z0-9_]+)\.value\}$/.exec(expr) ?? /^\$\{try\(data\.coder_parameter\.([a-z0-9_]+)\[0\]\.value, ("(?:[^"\\]|\\.)*")\)\}$/.exec(expr);
    if (!m) p.push(`parameter_env.${env} is not a parameter's value: ${expr}`);
    else {
      envOfParam.set(m[1] as string, env);
      const param = t.params[m[1] as string];
      if (m[2] !== undefined && param) {
        const hidden = JSON.parse(m[2]) as string;
        const d = param.default;
        const shown = typeof d === "string" && d.startsWith("${jsonencode(") ? JSON.stringify(listDefault(d)) : String(d);
        if (hidden !== shown) p.push(`parameter_env.${env}: hidden value ${JSON.stringify(hidden)} differs from the parameter's default ${JSON.stringify(shown)}`);
      }
      if ((m[2] !== undefined) !== (param?.count !== undefined)) p.push(`parameter_env.${env}: try()/[0] exactly when the parameter has a count`);
    }
  }
  for (const [label, param] of Object.entries(t.params)) {
    if (label === ADVANCED_PARAMETER) continue; // the form's own toggle, no setting
    const env = envOfParam.get(label);
    if (!env) {
      p.push(`parameter ${label} is not passed to the agent (no entry in local.parameter_env)`);
      continue;
    }
    const found = byEnv.get(env);
    if (!found) {
      p.push(`parameter ${label} sets ${env}, which is no setting of the schema`);
      continue;
    }
    const [key, declared] = found;
    // The template offers the schema's template default where it declares one (a separate field, so a changed
    // default in the schema is still caught).
    const s = declared.templateDefault === undefined ? declared : { ...declared, default: declared.templateDefault };
    const where = `parameter ${label} (${key}, ${env})`;
    if (param.name !== label || label !== parameterName(env)) p.push(`${where}: name should be ${parameterName(env)}`);
    const type = param.type ?? "string";
    if (type !== expectedType(s)) p.push(`${where}: type ${type}, schema kind ${s.kind}${s.fallback ? " (override)" : ""} needs ${expectedType(s)}`);
    // Default.
    const d = param.default;
    if (s.fallback) {
      if (d !== "") p.push(`${where}: an override must default to "" (use the shared value), not ${JSON.stringify(d)}`);
    } else if (s.kind === "duration") {
      let ms: number | undefined;
      try {
        ms = parseDuration(String(d));
      } catch {
        p.push(`${where}: default ${JSON.stringify(d)} is not a duration`);
      }
      if (ms !== undefined && ms !== s.default) p.push(`${where}: default ${String(d)} but the schema says ${s.show(s.default)}`);
    } else if (s.kind === "list" || s.kind === "enum-list") {
      if (!same(listDefault(d), s.default)) p.push(`${where}: default ${JSON.stringify(listDefault(d))} but the schema says ${JSON.stringify(s.default)}`);
    } else if (s.kind === "int" || s.kind === "number") {
      if (Number(d) !== s.default) p.push(`${where}: default ${String(d)} but the schema says ${String(s.default)}`);
    } else if (s.kind === "bool") {
      if (String(d) !== String(s.default)) p.push(`${where}: default ${String(d)} but the schema says ${String(s.default)}`);
    } else if ((d ?? "") !== (s.default ?? "")) {
      p.push(`${where}: default ${JSON.stringify(d)} but the schema says ${JSON.stringify(s.default)}`);
    }
    // Bounds.
    const v = param.validation?.[0];
    if (s.kind === "int" && !s.fallback) {
      if (v?.min !== s.min || v?.max !== s.max) p.push(`${where}: validation ${v?.min}..${v?.max} but the schema says ${s.min}..${s.max}`);
    } else if (s.kind === "int" || s.kind === "number") {
      const b = t.numberBounds[env];
      if (!b || b.min !== s.min || b.max !== s.max) p.push(`${where}: number_bounds ${b?.min}..${b?.max} but the schema says ${s.min}..${s.max}`);
      if (v && (v.min !== undefined || v.max !== undefined)) p.push(`${where}: min/max validation only takes whole numbers`);
    } else if (s.kind === "duration") {
      const b = t.durationBounds[env];
      if (!b) p.push(`${where}: no duration_bounds entry`);
      else {
        if (parseDuration(b.min) !== (s.min ?? 0)) p.push(`${where}: duration min ${b.min} but the schema says ${s.show(s.min ?? 0)}`);
        const max = parseDuration(b.max);
        if (s.max !== undefined ? max !== s.max : max < 100 * 365 * 24 * 3_600_000) {
          p.push(`${where}: duration max ${b.max} but the schema says ${s.max === undefined ? "none" : s.show(s.max)}`);
        }
      }
      if (!v?.regex) p.push(`${where}: a duration needs a regex validation`);
      else if (!s.fallback && !new RegExp(v.regex, "u").test(s.show(s.default))) p.push(`${where}: its regex rejects its own default`);
    }
    // Options.
    const values = (param.option ?? []).map((o) => o.value);
    if (s.options) {
      if (!same(values, s.options)) p.push(`${where}: options ${values.join(",")} but the schema says ${s.options.join(",")}`);
      if (s.kind === "enum-list" && param.form_type !== "multi-select") p.push(`${where}: an enum list needs form_type multi-select`);
    } else if (values.length) p.push(`${where}: has options but the schema has none`);
  }
  // Coverage: every pipeline setting has a parameter unless listed as deliberately without one.
  const paramEnvs = new Set(Object.keys(t.parameterEnv));
  for (const [key, s] of entries) {
    const listed = WITHOUT_PARAMETER[key] !== undefined;
    if (paramEnvs.has(s.env)) {
      if (listed) p.push(`${key} (${s.env}) is listed in WITHOUT_PARAMETER but has a parameter`);
      if (!s.scripts.includes("run")) p.push(`${key} (${s.env}) has a parameter but scripts/run.ts does not take it`);
    } else if (s.scripts.includes("run") && !listed) {
      p.push(`pipeline setting ${key} (${s.env}) has no parameter and is not listed in WITHOUT_PARAMETER`);
    }
  }
  for (const key of Object.keys(WITHOUT_PARAMETER)) {
    if (!entries.some(([k]) => k === key)) p.push(`WITHOUT_PARAMETER lists ${key}, which is no setting`);
  }
  return p;
}
