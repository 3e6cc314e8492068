// Rich-parameter validation for build requests, following Coder's rules (codersdk/richparameters.go
// and the terraform provider's validation): type, options, min/max, regex, monotonic, mutability,
// required-without-default, and unknown names. Errors become 400 with `validations[{field,detail}]`.
import { HttpError, type ValidationError } from "./http/context.ts";
import type { SimParam } from "./state.ts";

export type ParamValue = { name: string; value: string };

export function readParamValues(raw: unknown): ParamValue[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    throw new HttpError(400, "Request body must be valid JSON.", "rich_parameter_values must be an array");
  }
  return raw.map((x, i) => {
    const o = x as Record<string, unknown>;
    if (typeof o?.["name"] !== "string" || typeof o["value"] !== "string") {
      throw new HttpError(400, "Request body must be valid JSON.", `rich_parameter_values[${i}] needs string "name" and "value"`);
    }
    return { name: o["name"], value: o["value"] };
  });
}

function checkValue(p: SimParam, value: string): string | undefined {
  switch (p.type) {
    case "number": {
      if (!/^-?\d+(\.\d+)?$/.test(value.trim())) return `${JSON.stringify(value)} is not a number`;
      const n = Number(value);
      if (p.validationMin !== undefined && n < p.validationMin) return `value ${value} is less than the minimum ${p.validationMin}`;
      if (p.validationMax !== undefined && n > p.validationMax) return `value ${value} is more than the maximum ${p.validationMax}`;
      break;
    }
    case "bool":
      if (value !== "true" && value !== "false") return `boolean value can be either "true" or "false", got ${JSON.stringify(value)}`;
      break;
    case "list(string)": {
      let ok = false;
      try {
        const v: unknown = JSON.parse(value);
        ok = Array.isArray(v) && v.every((x) => typeof x === "string");
      } catch {
        ok = false;
      }
      if (!ok) return `value ${JSON.stringify(value)} is not a JSON list of strings`;
      break;
    }
    case "string":
      if (p.validationRegex !== undefined && !new RegExp(p.validationRegex).test(value)) {
        return p.validationError || `${JSON.stringify(value)} does not match ${p.validationRegex}`;
      }
      break;
  }
  if (p.options.length > 0 && p.type !== "list(string)" && !p.options.some((o) => o.value === value)) {
    return `parameter value must match one of options: ${p.options.map((o) => o.value).join(", ")}`;
  }
  return undefined;
}

/**
 * Resolve the full parameter set for a build: given values, else the previous build's values,
 * else defaults. Throws 400 with every problem found.
 */
export function resolveParams(params: SimParam[], given: ParamValue[], previous: ParamValue[] | undefined): ParamValue[] {
  const errors: ValidationError[] = [];
  const byName = new Map(params.map((p) => [p.name, p]));
  const givenMap = new Map<string, string>();
  for (const g of given) {
    if (!byName.has(g.name)) {
      errors.push({ field: g.name, detail: `Parameter "${g.name}" is not defined in the template version` });
    }
    givenMap.set(g.name, g.value);
  }
  const prevMap = new Map((previous ?? []).map((p) => [p.name, p.value]));
  const out: ParamValue[] = [];
  for (const p of params) {
    const g = givenMap.get(p.name);
    const prev = prevMap.get(p.name);
    let value: string;
    if (g !== undefined) {
      if (previous !== undefined && prev !== undefined && !p.mutable && g !== prev) {
        errors.push({ field: p.name, detail: `Parameter "${p.name}" is not mutable, so it can't be updated after creating a workspace.` });
        continue;
      }
      value = g;
    } else if (prev !== undefined) {
      value = prev;
    } else if (p.required) {
      errors.push({ field: p.name, detail: `Required parameter "${p.name}" was not provided and has no default value` });
      continue;
    } else {
      value = p.defaultValue;
    }
    const problem = checkValue(p, value);
    if (problem) {
      errors.push({ field: p.name, detail: problem });
      continue;
    }
    if (p.validationMonotonic !== undefined && prev !== undefined && p.type === "number") {
      const inc = p.validationMonotonic === "increasing";
      if ((inc && Number(value) < Number(prev)) || (!inc && Number(value) > Number(prev))) {
        errors.push({ field: p.name, detail: `Parameter value ${value} must be ${inc ? "equal or greater" : "equal or lower"} than previous value: ${prev}` });
        continue;
      }
    }
    out.push({ name: p.name, value });
  }
  if (errors.length > 0) {
    throw new HttpError(400, "Unable to validate parameters", `${errors.length} parameter(s) failed validation`, errors);
  }
  return out;
}
