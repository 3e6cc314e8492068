// Renders the schema for people: the README's settings table (a test keeps the README in step).
import { SCRIPTS, type ScriptName, type Setting } from "./setting.ts";
import { settingEntries } from "./schema.ts";
import { flagFor } from "./load.ts";

function defaultText(s: Setting<unknown>): string {
  if (s.secret) return "";
  if (s.default === undefined) return s.fallback ? `(--${s.fallback})` : s.required ? "required" : "";
  const shown = s.show(s.default);
  return shown === "" ? '""' : shown;
}

function boundsText(s: Setting<unknown>): string {
  if (s.options) return s.options.join(" \\| ");
  const show = (n: number) => (s.kind === "duration" ? (s.show as (v: number) => string)(n) : String(n));
  if (s.min !== undefined && s.max !== undefined) return `${show(s.min)} – ${show(s.max)}`;
  if (s.max !== undefined) return `≤ ${show(s.max)}`;
  return "";
}

function scriptFlags(s: Setting<unknown>): string {
  return Object.entries(s.scriptFlags ?? {})
    .map(([script, f]) => `${script}: \`--${f}\``)
    .join("; ");
}

/** Markdown table of every setting, grouped as in the schema. */
export function settingsMarkdown(): string {
  const rows = [
    "| Flag | Env var | Default | Allowed | Scripts | Description |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const [, s] of settingEntries()) {
    const other = scriptFlags(s);
    const scripts = s.scripts.length === SCRIPTS.length ? "all" : s.scripts.join(", ");
    rows.push(
      `| \`--${s.flag}\`${other ? ` (${other})` : ""} | \`${s.env}\` | ${defaultText(s)} | ${boundsText(s)} | ${scripts} | ${s.help.replace(/\|/g, "\\|")} |`,
    );
  }
  return rows.join("\n");
}

/** The flags one script accepts, as `--flag` strings. */
export function flagsOf(script: ScriptName): string[] {
  return settingEntries()
    .filter(([, s]) => s.scripts.includes(script))
    .map(([, s]) => `--${flagFor(s, script)}`);
}
