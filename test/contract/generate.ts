// Writes test/contract/coder-api.json: the operations of Coder's REST API this project uses (the client
// sends them, the simulator serves them), cut from Coder's Swagger 2.0 file `coderd/apidoc/swagger.json`
// with every definition they reach, and with the prose (summaries, descriptions, examples) left out: the
// contract tests need the facts only (methods, paths, parameters, status codes, schemas).
//
// Not run by the tests; run it by hand when moving to a newer Coder:
//   node --import tsx test/contract/generate.ts <swagger.json> [<coder commit>]
// The commit is required unless the input records it itself (a `source.commit` field).

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The operations the project uses, as "METHOD /path" under basePath. */
export const OPERATIONS: readonly string[] = [
  "GET /appearance",
  "PUT /appearance",
  "GET /audit",
  // Dashboard API mode (src/dashboard/frontend-requests.ts): what Coder's frontend sends beyond the load types.
  "POST /authcheck",
  "GET /buildinfo",
  "GET /debug/health",
  "GET /deployment/config",
  "GET /deployment/ssh",
  "GET /deployment/stats",
  "GET /entitlements",
  "GET /experiments/available",
  "GET /groups",
  "GET /insights/daus",
  "GET /insights/templates",
  "GET /insights/user-latency",
  "POST /files",
  "GET /notifications/inbox",
  "GET /notifications/inbox/watch",
  "GET /organizations",
  "GET /organizations/{organization}",
  "POST /organizations/{organization}/members/{user}/workspaces",
  "GET /organizations/{organization}/provisionerdaemons",
  "GET /organizations/{organization}/provisionerjobs",
  "GET /organizations/{organization}/provisionerjobs/{job}",
  "GET /organizations/{organization}/templates",
  "POST /organizations/{organization}/templates",
  "GET /organizations/{organization}/templates/{templatename}",
  "POST /organizations/{organization}/templateversions",
  "GET /prebuilds/settings",
  "PUT /prebuilds/settings",
  "GET /regions",
  "GET /templates",
  "GET /templates/{template}",
  "DELETE /templates/{template}",
  // prebuilds: a new template version made active.
  "PATCH /templates/{template}/versions",
  "GET /templates/examples",
  "GET /templateversions/{templateversion}",
  "GET /templateversions/{templateversion}/presets",
  "GET /templateversions/{templateversion}/resources",
  "GET /templateversions/{templateversion}/rich-parameters",
  // The dynamic-parameters load type's websocket (101 only; its frames are codersdk.DynamicParametersResponse).
  "GET /templateversions/{templateversion}/dynamic-parameters",
  "GET /updatecheck",
  "GET /users",
  "POST /users",
  "GET /users/authmethods",
  "GET /users/roles",
  "POST /users/login",
  "POST /users/logout",
  "GET /users/{user}",
  "DELETE /users/{user}",
  "POST /users/{user}/keys",
  "GET /users/{user}/keys/tokens",
  "POST /users/{user}/keys/tokens",
  "GET /users/{user}/keys/{keyid}",
  "DELETE /users/{user}/keys/{keyid}",
  "GET /users/{user}/organizations",
  "PUT /users/{user}/roles",
  "GET /users/{user}/workspace/{workspacename}",
  "POST /users/{user}/workspaces",
  // task-status: the agent reports its app's status with its agent token.
  "PATCH /workspaceagents/me/app-status",
  "GET /workspaceagents/{workspaceagent}",
  "GET /workspaceagents/{workspaceagent}/connection",
  "GET /workspaceagents/{workspaceagent}/listening-ports",
  "GET /workspaceagents/{workspaceagent}/logs",
  "GET /workspaceagents/{workspaceagent}/pty",
  "GET /workspaceagents/{workspaceagent}/watch-metadata-ws",
  "GET /workspacebuilds/{workspacebuild}",
  "PATCH /workspacebuilds/{workspacebuild}/cancel",
  "GET /workspacebuilds/{workspacebuild}/logs",
  "GET /workspacebuilds/{workspacebuild}/parameters",
  "GET /workspacebuilds/{workspacebuild}/resources",
  "GET /workspacebuilds/{workspacebuild}/timings",
  "GET /workspaceproxies",
  "GET /workspaces",
  "GET /workspaces/{workspace}",
  "PATCH /workspaces/{workspace}",
  "GET /workspaces/{workspace}/builds",
  "POST /workspaces/{workspace}/builds",
  // autostart: every workspace's schedule set to the same minute.
  "PUT /workspaces/{workspace}/autostart",
  "GET /workspaces/{workspace}/resolve-autostart",
  // task-status: the agent token of an external-agent workspace (Premium).
  "GET /workspaces/{workspace}/external-agent/{agent}/credentials",
  // The deprecated SSE watch and its websocket successor: the simulator lists both as not implemented.
  "GET /workspaces/{workspace}/watch",
  "GET /workspaces/{workspace}/watch-ws",
];

/** Facts the swagger file gets wrong or leaves out, checked against coderd's handlers and codersdk. */
const NOTES: readonly string[] = [
  "coderd answers 201 (not the 200 the swagger annotation lists) for POST /users/{user}/workspaces, POST /organizations/{organization}/members/{user}/workspaces and POST /workspaces/{workspace}/builds; codersdk's CreateUserWorkspace and CreateWorkspaceBuild accept only 201. See statusCorrections.",
  "There is no DELETE /workspaces/{workspace}: a workspace is deleted with POST /workspaces/{workspace}/builds and {\"transition\":\"delete\"}.",
  "There is no top-level GET /provisionerdaemons; GET /organizations/{organization}/provisionerdaemons is the one.",
  "GET /workspaceproxies is listed as an array of RegionsResponse, but coderd writes one RegionsResponse object ({regions: [...]}).",
  "User.status narrows UserStatus to active|suspended, but new users are created dormant.",
  "Template.organization_name carries format \"url\" but holds an organization name.",
  "coderd answers 201 for POST /organizations/{organization}/templates (postTemplateByOrganization writes http.StatusCreated; the annotation says 200). See statusCorrections.",
  "InboxNotification.read_at is annotated as a string, but coderd writes null for an unread notification (codersdk ReadAt *time.Time).",
  "PUT /workspaces/{workspace}/autostart: a bad schedule is 400 \"Invalid autostart schedule.\" with the cron.Weekly error on the `schedule` field (coderd/workspaces.go putWorkspaceAutostart).",
  "UploadResponse.hash is the uploaded file's ID (a UUID, codersdk.UploadResponse ID `json:\"hash\"`), not a content hash; it is the file_id of CreateTemplateVersionRequest. POST /files answers 201 for new content and 200 when the same user uploaded the same bytes before.",
  "PATCH /workspaceagents/me/app-status (like every /workspaceagents/me route) takes the workspace agent's token in Coder-Session-Token, not a user's session token; task-status gets that token from GET /workspaces/{workspace}/external-agent/{agent}/credentials.",
  "GET /api/experimental/watch-all-workspacebuilds (autostart's shared build watch, experiment workspace-build-updates) is outside basePath and not in the swagger file: a websocket of codersdk/wspubsub.WorkspaceBuildUpdate text messages {workspace_id, build_id, transition, job_status, build_number}; refused with 403 when the experiment is off (message text unverified).",
  "POST /authcheck: AuthorizationCheck.action is annotated with create|read|update|delete, but coderd accepts any RBAC action (the dashboard sends assign, use, view_insights); it answers each named check with a boolean.",
  "GET /experiments/available is annotated as an array of Experiment, but coderd writes one codersdk.AvailableExperiments object ({safe: [...]}), which is what the dashboard reads.",
  "GET /groups lists organization, has_member and group_ids as required query parameters, but coderd treats them as optional filters; the dashboard's users page sends none.",
  "TemplateExample.id is annotated as a UUID, but coderd's examples are identified by their slug (e.g. \"docker\").",
  "Group.avatar_url carries format \"uri\" but coderd writes \"\" for a group without an avatar (the Everyone group).",
  "GET /workspaceagents/{workspaceagent}/logs with ?follow and GET /workspaceagents/{workspaceagent}/watch-metadata-ws are websockets: the 200 schema is that of each message (a WorkspaceAgentLog array; a ServerSentEvent whose data is the agent's metadata list).",
];

/** What coderd writes where the swagger annotation differs: "METHOD /path" -> status codes. */
const STATUS_CORRECTIONS: Record<string, { swagger: number; server: number }> = {
  "POST /users/{user}/workspaces": { swagger: 200, server: 201 },
  "POST /organizations/{organization}/members/{user}/workspaces": { swagger: 200, server: 201 },
  "POST /workspaces/{workspace}/builds": { swagger: 200, server: 201 },
  "POST /organizations/{organization}/templates": { swagger: 200, server: 201 },
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Keys that hold prose or code-generation hints, not facts a validator or a client needs. */
const PROSE = new Set(["description", "summary", "example", "x-enum-varnames", "x-enum-comments", "x-enum-descriptions", "tags", "x-apidocgen"]);

/** A copy of a schema without prose; `properties` and `definitions` are maps of names, whose keys stay. */
function stripSchema(s: Json): Json {
  if (Array.isArray(s)) return s.map(stripSchema);
  if (!isObj(s)) return s;
  const out: Obj = {};
  for (const [k, v] of Object.entries(s)) {
    if (PROSE.has(k)) continue;
    if ((k === "properties" || k === "definitions") && isObj(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, stripSchema(sub)]));
    } else if (k === "enum" || k === "required") {
      out[k] = v; // lists of values / names, not schemas
    } else {
      out[k] = stripSchema(v);
    }
  }
  return out;
}

/** Every `#/definitions/X` reachable from `roots` through `$ref`s, transitively. */
function reachableDefinitions(roots: Json, definitions: Obj): string[] {
  const seen = new Set<string>();
  const queue: Json[] = [roots];
  while (queue.length > 0) {
    const node = queue.pop()!;
    if (Array.isArray(node)) queue.push(...node);
    else if (isObj(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === "$ref" && typeof v === "string") {
          const name = v.replace(/^#\/definitions\//, "");
          if (!(name in definitions)) throw new Error(`$ref ${v} has no definition in the input`);
          if (!seen.has(name)) {
            seen.add(name);
            queue.push(definitions[name]!);
          }
        } else queue.push(v);
      }
    }
  }
  return [...seen].sort();
}

export function extract(swagger: Obj, commit: string): Obj {
  const paths = swagger["paths"];
  const definitions = swagger["definitions"];
  if (!isObj(paths) || !isObj(definitions)) throw new Error("input is not a Swagger 2.0 file (no paths/definitions)");
  const outPaths: Obj = {};
  for (const op of OPERATIONS) {
    const [method, path] = op.split(" ") as [string, string];
    const item = paths[path];
    const operation = isObj(item) ? item[method.toLowerCase()] : undefined;
    if (!isObj(operation)) throw new Error(`the input has no operation ${op}`);
    const stripped = stripSchema(operation) as Obj;
    const target = (outPaths[path] ??= {}) as Obj;
    target[method.toLowerCase()] = stripped;
  }
  const names = reachableDefinitions(outPaths, definitions);
  return {
    source: { repo: "coder/coder", path: "coderd/apidoc/swagger.json", commit, generator: "test/contract/generate.ts" },
    basePath: swagger["basePath"] ?? "/api/v2",
    securityDefinitions: stripSchema(swagger["securityDefinitions"] ?? {}),
    notes: [...NOTES],
    statusCorrections: STATUS_CORRECTIONS,
    paths: outPaths,
    definitions: Object.fromEntries(names.map((n) => [n, stripSchema(definitions[n]!)])),
  };
}

function main(argv: string[]): void {
  const [input, commitArg] = argv;
  if (!input) throw new Error("usage: node --import tsx test/contract/generate.ts <swagger.json> [<coder commit>]");
  const swagger = JSON.parse(readFileSync(input, "utf8")) as Obj;
  const recorded = isObj(swagger["source"]) ? swagger["source"]["commit"] : undefined;
  const commit = commitArg ?? (typeof recorded === "string" ? recorded : undefined);
  if (!commit || !/^[0-9a-f]{40}$/.test(commit)) {
    throw new Error("give the full 40-hex Coder commit the swagger file was taken from as the second argument");
  }
  const out = fileURLToPath(new URL("./coder-api.json", import.meta.url));
  writeFileSync(out, JSON.stringify(extract(swagger, commit), null, 1) + "\n");
  process.stdout.write(`wrote ${out}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
