// Rich parameter values for the workspaces: parsed from `--parameter name=value` and checked against
// the template version's rich parameters the way Coder checks them (codersdk/richparameters.go and
// the terraform provider's Validation.Valid), so bad input fails before anything is created.
import type { TemplateVersionParameter, WorkspaceBuildParameter } from "../coder/types.ts";

/** Parses `name=value` items into an ordered map; every problem is collected. */
export function parseParameterArgs(items: readonly string[]): { values: Map<string, string>; problems: string[] } {
  const values = new Map<string, string>();
  const problems: string[] = [];
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      problems.push(`--parameter ${JSON.stringify(item)} is not name=value`);
      continue;
    }
    const name = item.slice(0, eq).trim();
    const value = item.slice(eq + 1);
    if (values.has(name)) {
      problems.push(`--parameter ${name} is given twice (${JSON.stringify(values.get(name))} and ${JSON.stringify(value)}); give it once`);
      continue;
    }
    values.set(name, value);
  }
  return { values, problems };
}

/** Coder's validation_error placeholders: {min}, {max}, {value}. */
function renderValidationError(p: TemplateVersionParameter, value: string): string {
  return (p.validation_error ?? "")
    .replaceAll("{min}", p.validation_min === undefined ? "" : String(p.validation_min))
    .replaceAll("{max}", p.validation_max === undefined ? "" : String(p.validation_max))
    .replaceAll("{value}", value);
}

function parseList(value: string): string[] | null {
  try {
    const v: unknown = JSON.parse(value);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  } catch {
    // not JSON
  }
  return null;
}

/** Why `value` is not acceptable for parameter `p`, or null when it is. */
export function parameterValueProblem(p: TemplateVersionParameter, value: string): string | null {
  const custom = (fallback: string) => (p.validation_error ? `${renderValidationError(p, value)} (${fallback})` : fallback);
  const options = p.options ?? [];
  if (p.type === "list(string)") {
    const list = parseList(value);
    if (list === null) return `must be a JSON array of strings, e.g. '["a","b"]'; got ${JSON.stringify(value)}`;
    if (options.length > 0) {
      const allowed = new Set(options.map((o) => o.value));
      const bad = list.filter((x) => !allowed.has(x));
      if (bad.length) return `values ${JSON.stringify(bad)} are not among the options ${JSON.stringify([...allowed])}`;
    }
    return null;
  }
  if (options.length > 0 && !options.some((o) => o.value === value)) {
    return `must be one of the options ${JSON.stringify(options.map((o) => o.value))}; got ${JSON.stringify(value)}`;
  }
  switch (p.type) {
    case "bool":
      if (value !== "true" && value !== "false") return `must be true or false; got ${JSON.stringify(value)}`;
      return null;
    case "number": {
      // The provider parses numbers with strconv.Atoi: whole numbers only.
      if (!/^[+-]?\d+$/.test(value.trim())) return custom(`must be a whole number; got ${JSON.stringify(value)}`);
      const n = Number(value);
      if (p.validation_min !== undefined && p.validation_min !== null && n < p.validation_min) {
        return custom(`must be >= ${p.validation_min}; got ${value}`);
      }
      if (p.validation_max !== undefined && p.validation_max !== null && n > p.validation_max) {
        return custom(`must be <= ${p.validation_max}; got ${value}`);
      }
      return null;
    }
    case "string":
    default:
      if (p.validation_regex) {
        let re: RegExp;
        try {
          re = new RegExp(p.validation_regex);
        } catch {
          return null; // a regex JS cannot read (Go RE2 syntax): leave it to Coder
        }
        if (!re.test(value)) return custom(`must match /${p.validation_regex}/; got ${JSON.stringify(value)}`);
      }
      return null;
  }
}

/**
 * Checks the given values against the template version's parameters: unknown names, missing required
 * values, options, types, min/max and regex. Returns the values to send (only the given ones:
 * Coder fills in defaults) and every problem found.
 */
export function resolveParameters(
  rich: readonly TemplateVersionParameter[],
  given: ReadonlyMap<string, string>,
  templateName: string,
): { values: WorkspaceBuildParameter[]; problems: string[] } {
  const problems: string[] = [];
  const byName = new Map(rich.map((p) => [p.name, p]));
  const known = rich.map((p) => p.name);
  for (const name of given.keys()) {
    if (!byName.has(name)) {
      problems.push(
        `--parameter ${name}: template ${JSON.stringify(templateName)} has no parameter of that name` +
          (known.length ? ` (its parameters: ${known.join(", ")})` : " (it has no parameters)"),
      );
    }
  }
  const values: WorkspaceBuildParameter[] = [];
  for (const p of rich) {
    const v = given.get(p.name);
    if (v === undefined) {
      if (p.required && (p.default_value ?? "") === "") {
        problems.push(`--parameter ${p.name}=... is required by template ${JSON.stringify(templateName)} (it has no default)`);
      }
      continue;
    }
    if (v === "" && p.required) {
      problems.push(`--parameter ${p.name} must not be empty (required by template ${JSON.stringify(templateName)})`);
      continue;
    }
    const problem = parameterValueProblem(p, v === "" ? p.default_value : v);
    if (problem) problems.push(`--parameter ${p.name} ${problem}`);
    values.push({ name: p.name, value: v });
  }
  return { values, problems };
}
