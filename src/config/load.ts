// Resolves a script's configuration: flags > environment > .env file > fallback setting > default.
// All problems are collected and reported together, naming each bad setting by flag and env var.
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { parse as parseDotenv } from "dotenv";
import { BadInputError } from "../util/errors.ts";
import { newRunId, validateRunId } from "../util/naming.ts";
import { registerSecret, SECRET_ENV_VARS } from "../util/redact.ts";
import { scrubLoaderEnv, startEnv } from "../util/loader-env.ts";
import type { ScriptName, Setting } from "./setting.ts";
import { SETTINGS, settingEntries, type Config, type SettingKey } from "./schema.ts";

export type Source = "flag" | "env" | ".env" | "fallback" | "default";

/** Bad settings (a BadInputError: entry points exit with status 2 for it). */
export class ConfigError extends BadInputError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `Invalid setting: ${problems[0]}`
        : `Invalid settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** Thrown (not an error) when --help was asked for: the help text was printed already. */
export class HelpShown extends Error {}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * Path of a dotenv file (relative paths from the current directory, as a user typed it), or false to
   * read none. Default: the project folder's .env when present — never the current directory's, where
   * anyone's file could set SCALETEST_CODER_BINARY to a program that then gets a token.
   */
  envFile?: string | false;
  /** Where warnings go (e.g. a token given on the command line); default stderr. */
  warn?: (msg: string) => void;
  /** Script-specific flags and positional arguments that are not settings (e.g. report --compare A B). */
  extend?: (cmd: Command) => void;
  /** Where --help goes (tests capture it). */
  writeOut?: (s: string) => void;
  description?: string;
}

export interface Loaded {
  config: Config;
  sources: Record<SettingKey, Source>;
  /** Values of the script's own extra flags. */
  extra: Record<string, unknown>;
  args: string[];
}

/** The flag a setting goes by in a given script. */
export function flagFor(setting: Setting<unknown>, script: ScriptName): string {
  return setting.scriptFlags?.[script] ?? setting.flag;
}

export function acceptsFlag(setting: Setting<unknown>, script: ScriptName): boolean {
  return setting.scripts.includes(script);
}

function describe(setting: Setting<unknown>, script: ScriptName): string {
  return `--${flagFor(setting, script)} (${setting.env})`;
}

function buildCommand(script: ScriptName, opts: LoadOptions): Command {
  const cmd = new Command(script)
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({
      writeOut: opts.writeOut ?? ((s) => process.stdout.write(s)),
      writeErr: () => {},
    });
  if (opts.description) cmd.description(opts.description);
  for (const [key, s] of settingEntries()) {
    if (!acceptsFlag(s, script)) continue;
    const flag = flagFor(s, script);
    const shown = s.default === undefined ? (s.fallback ? `--${s.fallback}` : "none") : s.secret ? "" : s.show(s.default);
    const help = `${s.help} [env ${s.env}${shown ? `; default ${shown}` : ""}]`;
    let o: Option;
    if (s.kind === "bool") {
      o = new Option(`--${flag} [bool]`, help);
      // `--no-cleanup` is a setting of its own, not commander's negation of `--cleanup` (which would
      // default it to true and pass false when given).
      o.negate = false;
    }
    else if (s.repeatable) {
      o = new Option(`--${flag} <value>`, help).argParser((v: string, prev: unknown) =>
        Array.isArray(prev) ? [...prev, v] : [v],
      );
    } else o = new Option(`--${flag} <value>`, help);
    o.attributeName = () => key;
    cmd.addOption(o);
  }
  cmd.addOption(new Option("--env-file <path>", "Read settings from this dotenv file instead of the project folder's .env"));
  opts.extend?.(cmd);
  return cmd;
}

/** The project folder (where package.json is): src/config/ is two levels below it. */
export const PROJECT_DIR = fileURLToPath(new URL("../..", import.meta.url));

/** The .env read by default: the project folder's. */
export const PROJECT_ENV_FILE = join(PROJECT_DIR, ".env");

function readEnvFile(envFile: string | false | undefined): Record<string, string> {
  if (envFile === false) return {};
  const path = envFile === undefined ? PROJECT_ENV_FILE : isAbsolute(envFile) ? envFile : resolve(envFile);
  if (!existsSync(path)) {
    if (envFile) throw new ConfigError([`env file ${envFile} does not exist`]);
    return {};
  }
  return parseDotenv(readFileSync(path));
}

export function loadConfig(script: ScriptName, argv: string[], opts: LoadOptions = {}): Loaded {
  // The process's own environment includes the secrets src/boot/register.mjs took out of it.
  const fromProcess = opts.env === undefined;
  const env = opts.env ?? startEnv();
  const cmd = buildCommand(script, opts);
  try {
    cmd.parse(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help") throw new HelpShown("help shown");
      throw new ConfigError([e.message.replace(/^error: /, "")]);
    }
    throw e;
  }
  const flagValues = cmd.opts() as Record<string, unknown>;
  const envFileFlag = typeof flagValues.envFile === "string" ? flagValues.envFile : undefined;
  const dotenv = readEnvFile(envFileFlag ?? opts.envFile);
  const problems: string[] = [];
  const values: Partial<Record<SettingKey, unknown>> = {};
  const sources = {} as Record<SettingKey, Source>;

  const entries = settingEntries();
  // Settings without a fallback first, so fallbacks can read them.
  entries.sort(([, a], [, b]) => Number(Boolean(a.fallback)) - Number(Boolean(b.fallback)));
  for (const [key, s] of entries) {
    let raw: string | string[] | undefined;
    let source: Source | undefined;
    const fromFlag = flagValues[key];
    if (fromFlag !== undefined && acceptsFlag(s, script)) {
      raw = fromFlag === true ? "true" : (fromFlag as string | string[]);
      source = "flag";
    } else if (env[s.env] !== undefined && env[s.env] !== "") {
      raw = env[s.env];
      source = "env";
    } else if (dotenv[s.env] !== undefined && dotenv[s.env] !== "") {
      raw = dotenv[s.env];
      source = ".env";
    }
    if (raw !== undefined && source) {
      try {
        values[key] = s.parse(raw);
        sources[key] = source;
      } catch (e) {
        problems.push(`${describe(s, script)} ${(e as Error).message}`);
      }
      continue;
    }
    if (s.fallback) {
      values[key] = values[s.fallback as SettingKey];
      sources[key] = "fallback";
    } else {
      values[key] = s.default ?? (s.kind === "string" ? "" : undefined);
      sources[key] = "default";
    }
  }

  const config = values as Config;
  // Cross-checks read many settings, so they run once every value parsed.
  if (!problems.length) problems.push(...crossCheck(config, script, sources));
  if (problems.length) throw new ConfigError(problems);
  // Every secret is registered (hidden from all output) and, read once, removed from the process
  // environment, so no child process inherits one by accident: each child gets only what it needs.
  for (const [key, s] of settingEntries()) {
    if (!s.secret) continue;
    const v = config[key];
    if (typeof v === "string" && v) registerSecret(v);
  }
  for (const name of SECRET_ENV_VARS) registerSecret(env[name] ?? dotenv[name]);
  if (fromProcess) {
    // Also from the module loader's thread and tsx's esbuild service (util/loader-env.ts).
    scrubLoaderEnv([...settingEntries().filter(([, s]) => s.secret).map(([, s]) => s.env), ...SECRET_ENV_VARS]);
  }
  if (sources.token === "flag") {
    (opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(
      `${describe(SETTINGS.token as Setting<unknown>, script)} was given on the command line, where every user of this machine can read it (ps); ` +
        `set the CODER_SESSION_TOKEN environment variable (or the project's .env) instead`,
    );
  }
  if (!config.runId) config.runId = newRunId();
  return { config, sources, extra: flagValues, args: cmd.args };
}

const RANGE = /^(\d+):(\d+)$/;
const SHARD = /^(\d+)\/(\d+)$/;
const HOSTPORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/;
const OFFLINE: readonly ScriptName[] = ["report", "status"];

/** Checks that involve several settings, or formats richer than one value. */
function crossCheck(c: Config, script: ScriptName, sources: Record<SettingKey, Source>): string[] {
  const p: string[] = [];
  const d = (k: SettingKey) => describe(SETTINGS[k] as Setting<unknown>, script);
  if (!OFFLINE.includes(script)) {
    if (!c.url) p.push(`${d("url")} is required: the URL of your Coder deployment`);
    else {
      try {
        const u = new URL(c.url);
        if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
      } catch {
        p.push(`${d("url")} must be an http(s) URL, got "${c.url}"`);
      }
    }
    if (!c.token) p.push(`${d("token")} is required: an Owner's session token (coder login; cat ~/.config/coderv2/session)`);
  }
  if (sources.runId === "flag" && !c.runId.trim()) {
    p.push(`${d("runId")} is empty: give a run id such as k3x9q2, or leave the flag out${script === "cleanup" ? " (cleanup then needs --all)" : " to generate one"}`);
  } else if (c.runId) {
    try {
      validateRunId(c.runId);
    } catch (e) {
      p.push(`${d("runId")} ${(e as Error).message}`);
    }
  }
  for (const k of ["targetWorkspaces", "targetUsers"] as const) {
    const v = c[k];
    if (!v) continue;
    const m = RANGE.exec(v);
    if (!m) p.push(`${d(k)} must be START:END with whole numbers, e.g. 0:100; got "${v}"`);
    else if (Number(m[2]) <= Number(m[1])) p.push(`${d(k)} END must be greater than START; got "${v}"`);
  }
  const sm = SHARD.exec(c.shard);
  if (!sm) p.push(`${d("shard")} must be i/n, e.g. 0/3; got "${c.shard}"`);
  else if (Number(sm[2]) < 1 || Number(sm[1]) >= Number(sm[2])) p.push(`${d("shard")} needs 0 <= i < n; got "${c.shard}"`);
  if (!HOSTPORT.test(c.reportAddress)) {
    p.push(`${d("reportAddress")} must be host:port (e.g. 0.0.0.0:21113, 127.0.0.1:0); got "${c.reportAddress}"`);
  }
  if (c.metricsAddress && !HOSTPORT.test(c.metricsAddress)) {
    p.push(`${d("metricsAddress")} must be host:port (e.g. 0.0.0.0:21112, 127.0.0.1:0); got "${c.metricsAddress}"`);
  }
  if (c.dashboardJitter >= c.dashboardInterval && (script === "run" || script === "dashboard-traffic")) {
    p.push(`${d("dashboardJitter")} must be less than ${d("dashboardInterval")}`);
  }
  if (script === "run") {
    if (c.greedyAgent && c.concurrent) p.push(`${d("greedyAgent")} cannot be combined with ${d("concurrent")}`);
    if (c.greedyAgent && c.greedyAgentTemplate === c.template) {
      p.push(`${d("greedyAgentTemplate")} must differ from ${d("template")}`);
    }
    if (c.scenarios.length === 0) p.push(`${d("scenarios")} is empty: choose from ssh, web-terminal, app, dashboard`);
  }
  for (const [k, s] of settingEntries()) {
    if (s.kind === "string" && typeof c[k] === "string" && /[\u0000-\u001f]/.test(c[k] as string) && !s.secret) {
      p.push(`${d(k)} contains control characters`);
    }
  }
  return p;
}

/** The configuration with secrets replaced, for run.json and logs. */
export function publicConfig(c: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of settingEntries()) {
    out[k] = s.secret ? (c[k] ? "[set]" : "[unset]") : c[k];
  }
  return out;
}
