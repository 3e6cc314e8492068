// Maps concrete request paths to the operations of Coder's API contract (test/contract/coder-api.json,
// the subset of Coder's swagger this project uses) and validates request bodies and query parameters
// against it with ajv.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

export const CONTRACT_PATH = fileURLToPath(new URL("../contract/coder-api.json", import.meta.url));

interface ContractParam {
  name: string;
  in: "path" | "query" | "body" | "header";
  required?: boolean;
  type?: string;
  schema?: Record<string, unknown>;
}

interface ContractOperation {
  parameters?: ContractParam[];
  responses: Record<string, { schema?: Record<string, unknown> }>;
  deprecated?: boolean;
}

interface Contract {
  basePath: string;
  paths: Record<string, Record<string, ContractOperation>>;
  definitions: Record<string, unknown>;
  /** "METHOD /path" -> the status swagger's annotation lists and the one coderd really answers. */
  statusCorrections?: Record<string, { swagger: number; server: number }>;
}

/**
 * The contract as coderd behaves: each statusCorrections entry moves the operation's response from the
 * annotated status to the one the server sends (so an answer with the annotated status is refused).
 */
export function applyStatusCorrections<C extends { paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; statusCorrections?: Contract["statusCorrections"] }>(c: C): C {
  for (const [op, { swagger, server }] of Object.entries(c.statusCorrections ?? {})) {
    const [method, path] = op.split(" ") as [string, string];
    const responses = c.paths[path]?.[method.toLowerCase()]?.responses;
    if (!responses) throw new Error(`statusCorrections names ${op}, which the contract does not have`);
    const annotated = responses[String(swagger)];
    if (annotated === undefined) throw new Error(`statusCorrections: ${op} lists no ${swagger} response to correct`);
    delete responses[String(swagger)];
    responses[String(server)] = annotated;
  }
  return c;
}

export const contract = applyStatusCorrections(JSON.parse(readFileSync(CONTRACT_PATH, "utf8")) as Contract);

interface Template {
  template: string;
  regex: RegExp;
  literalChars: number;
}

const templates: Template[] = Object.keys(contract.paths).map((t) => ({
  template: t,
  regex: new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
  literalChars: t.replace(/\{[^}]+\}/g, "").length,
}));

/** The contract path template for a concrete path under basePath (most literal match wins), or undefined. */
export function matchTemplate(fullPath: string): string | undefined {
  if (!fullPath.startsWith(contract.basePath)) return undefined;
  const p = fullPath.slice(contract.basePath.length);
  const hits = templates.filter((t) => t.regex.test(p)).sort((a, b) => b.literalChars - a.literalChars);
  return hits[0]?.template;
}

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on .default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
const validators = new Map<string, ValidateFunction>();

function validatorFor(key: string, schema: Record<string, unknown>): ValidateFunction {
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile({ ...schema, definitions: contract.definitions });
    validators.set(key, v);
  }
  return v;
}

/**
 * Query parameters Coder reads but its swagger does not declare, with where they come from.
 * The PTY's come from codersdk/workspacesdk AgentReconnectingPTY (coder/coder) and coderd's
 * workspaceAgentPTY handler.
 */
export const UNDOCUMENTED_QUERY: Record<string, readonly string[]> = {
  "GET /workspaceagents/{workspaceagent}/pty": ["reconnect", "width", "height", "command", "container", "container_user", "backend_type"],
};

export interface CheckedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/** Problems with one request against the contract; empty = conforms. */
export function checkRequest(req: CheckedRequest): { template: string | undefined; problems: string[] } {
  const problems: string[] = [];
  const template = matchTemplate(req.path);
  const where = `${req.method} ${req.path}`;
  if (!template) return { template, problems: [`${where}: no contract path matches`] };
  const op = contract.paths[template]?.[req.method.toLowerCase()];
  if (!op) return { template, problems: [`${where}: contract has no ${req.method} on ${template}`] };
  if (op.deprecated) problems.push(`${where}: operation ${req.method} ${template} is deprecated`);
  const params = op.parameters ?? [];
  // query parameters: declared, and of the declared type
  for (const [k, v] of req.query) {
    const p = params.find((x) => x.in === "query" && x.name === k);
    if (!p && UNDOCUMENTED_QUERY[`${req.method} ${template}`]?.includes(k)) continue;
    if (!p) {
      problems.push(`${where}: query parameter "${k}" is not declared for ${req.method} ${template}`);
      continue;
    }
    if (p.type === "integer" && !/^-?\d+$/.test(v)) problems.push(`${where}: query ${k}=${v} is not an integer`);
    // coderd reads the build-log stream's `follow` by presence (codersdk sends a bare `?follow`).
    const byPresence = k === "follow" && v === "" && template === "/workspacebuilds/{workspacebuild}/logs";
    if (p.type === "boolean" && v !== "true" && v !== "false" && !byPresence) problems.push(`${where}: query ${k}=${v} is not a boolean`);
  }
  for (const p of params) {
    if (p.in === "query" && p.required && !req.query.has(p.name)) problems.push(`${where}: required query "${p.name}" missing`);
  }
  // body
  const bodyParam = params.find((x) => x.in === "body");
  if (bodyParam) {
    if (req.body === undefined) {
      if (bodyParam.required) problems.push(`${where}: required JSON body missing`);
    } else if (bodyParam.schema) {
      const v = validatorFor(`${req.method} ${template}`, bodyParam.schema);
      if (!v(req.body)) {
        problems.push(`${where}: body does not match ${JSON.stringify(bodyParam.schema)}: ${ajv.errorsText(v.errors)}`);
      }
    }
  } else if (req.body !== undefined) {
    problems.push(`${where}: operation takes no body but one was sent`);
  }
  return { template, problems };
}
