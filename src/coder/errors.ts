// Error types of the Coder client. Every message is built from method, path (never the query, which
// may carry signed tokens), status and Coder's own error body; the session token is scrubbed from
// all text that came from the server or the network stack.

import { redact as redactText, redactAndTruncate } from "../util/redact.ts";
import type { ProvisionerJobLog, Response, ValidationError, WorkspaceAgent, WorkspaceBuild } from "./types.ts";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  409: "Conflict", 410: "Gone", 412: "Precondition Failed", 413: "Payload Too Large", 422: "Unprocessable Entity",
  429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
  503: "Service Unavailable", 504: "Gateway Timeout",
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? "";
}

/**
 * Hides `secrets` (and every registered secret, their fragments and URL credentials) in `text`: see
 * src/util/redact.ts. Always before any truncation.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return redactText(text, secrets);
}

/** Longest server-supplied text kept in an error (message, detail; each validation gets a quarter). */
export const ERROR_TEXT_MAX = 2048;
/** Validation entries kept from one error body. */
const MAX_VALIDATIONS = 20;

export interface CoderApiErrorInit {
  method: string;
  /** Request path without query string, e.g. `/api/v2/users/me/workspaces`. */
  path: string;
  /** HTTP status; 0 when no response arrived (network error, timeout). */
  status: number;
  /** Parsed Coder error body (codersdk.Response), if any. */
  response?: Response;
  /** Raw body text when it was not a codersdk.Response (already truncated and redacted). */
  bodyText?: string;
  /** Network error code (ECONNRESET, UND_ERR_SOCKET, ...) when status is 0. */
  code?: string;
  attempts: number;
  cause?: unknown;
  /** Secrets to scrub from any text (the session token). */
  secrets?: readonly (string | undefined)[];
}

/**
 * One error type for every failed Coder API call. `message` is the full human-readable line;
 * Coder's own `message` field is `coderMessage` (Error.message must stay the full line so logs and
 * stack traces say which endpoint failed).
 */
export class CoderApiError extends Error {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly coderMessage: string;
  readonly detail: string;
  readonly validations: ValidationError[];
  readonly code: string | undefined;
  readonly attempts: number;

  constructor(init: CoderApiErrorInit) {
    const secrets = init.secrets ?? [];
    // Whatever the server sent, redact first, then cap: an error line stays a line.
    const text = (v: unknown, max = ERROR_TEXT_MAX): string => redactAndTruncate(typeof v === "string" ? v : v == null ? "" : String(v), max, secrets);
    const coderMessage = text(init.response?.message ?? init.bodyText ?? "");
    const detail = text(init.response?.detail ?? "");
    const rawValidations = Array.isArray(init.response?.validations) ? init.response.validations : [];
    const validations = rawValidations.slice(0, MAX_VALIDATIONS).map((v) => ({
      field: text(v?.field, ERROR_TEXT_MAX / 4),
      detail: text(v?.detail, ERROR_TEXT_MAX / 4),
    }));
    super(redact(formatMessage(init, coderMessage, detail, validations), secrets), { cause: init.cause });
    this.name = "CoderApiError";
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.coderMessage = coderMessage;
    this.detail = detail;
    this.validations = validations;
    this.code = init.code;
    this.attempts = init.attempts;
  }

  /** True for 404 and 410 (Coder answers 410 Gone for a deleted workspace): handy for idempotent cleanup. */
  get notFound(): boolean {
    return this.status === 404 || this.status === 410;
  }
}

function formatMessage(
  init: CoderApiErrorInit,
  coderMessage: string,
  detail: string,
  validations: ValidationError[],
): string {
  const head = `${init.method} ${init.path}: `;
  let what: string;
  if (init.status === 0) {
    what = `request failed${init.code ? ` (${init.code})` : ""}`;
    const causeMsg = init.cause instanceof Error ? init.cause.message : "";
    if (causeMsg) what += `: ${causeMsg}`;
  } else {
    what = `${init.status}${statusText(init.status) ? ` ${statusText(init.status)}` : ""}`;
    if (coderMessage) what += `: ${coderMessage}`;
  }
  if (detail) what += ` (${detail})`;
  if (validations.length > 0) what += ` [${validations.map((v) => `${v.field}: ${v.detail}`).join("; ")}]`;
  return `${head}${what} after ${init.attempts} attempt${init.attempts === 1 ? "" : "s"}`;
}

/** A workspace build whose provisioner job ended failed or canceled. */
export class BuildFailedError extends Error {
  readonly build: WorkspaceBuild;
  readonly jobStatus: string;
  readonly jobError: string;
  /** Last lines of the build log ("<stage>: <output>"), oldest first. */
  readonly logTail: string[];

  constructor(build: WorkspaceBuild, logs: ProvisionerJobLog[], tailLines = 20) {
    const logTail = logs.slice(-tailLines).map((l) => `${l.stage ? `${l.stage}: ` : ""}${l.output}`);
    const jobError = build.job?.error ?? "";
    const jobStatus = build.job?.status ?? build.status;
    super(
      `workspace build ${build.id} (${build.transition} of ${build.workspace_owner_name}/${build.workspace_name}, ` +
        `#${build.build_number}) ended ${jobStatus}${jobError ? `: ${jobError}` : ""}` +
        (logTail.length ? `\n--- last ${logTail.length} log lines ---\n${logTail.join("\n")}` : ""),
    );
    this.name = "BuildFailedError";
    this.build = build;
    this.jobStatus = jobStatus;
    this.jobError = jobError;
    this.logTail = logTail;
  }
}

/** waitForBuild / waitForAgents ran out of time. `lastState` describes what was seen last. */
export class WaitTimeoutError extends Error {
  readonly what: string;
  readonly lastState: string;
  readonly timeoutMs: number;

  constructor(what: string, lastState: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}; last state: ${lastState}`);
    this.name = "WaitTimeoutError";
    this.what = what;
    this.lastState = lastState;
    this.timeoutMs = timeoutMs;
  }
}

/** An agent reached a terminal bad lifecycle state (start_error, start_timeout) or the build failed under it. */
export class AgentNotReadyError extends Error {
  readonly agent: WorkspaceAgent | undefined;
  readonly workspaceId: string;

  constructor(workspaceId: string, agent: WorkspaceAgent | undefined, reason: string) {
    super(
      agent
        ? `agent ${agent.name} (${agent.id}) of workspace ${workspaceId} is not usable: ${reason} ` +
            `(status ${agent.status}, lifecycle ${agent.lifecycle_state})`
        : `workspace ${workspaceId} agents not usable: ${reason}`,
    );
    this.name = "AgentNotReadyError";
    this.agent = agent;
    this.workspaceId = workspaceId;
  }
}

/**
 * The server answered, but not with what the client expects: not JSON (e.g. an HTML login page answered
 * 200), a missing field, a wrong type, nesting too deep, or a body over the size cap. One clear line naming
 * the URL and what was expected, instead of a confusing failure later ("token belongs to undefined").
 */
export class UnexpectedResponseError extends Error {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly expected: string;

  constructor(init: { method: string; path: string; status: number; expected: string; problem: string; secrets?: readonly (string | undefined)[] }) {
    super(
      redactAndTruncate(
        `${init.method} ${init.path}: unexpected answer (HTTP ${init.status}): expected ${init.expected}, but ${init.problem}. ` +
          `Is CODER_URL the Coder deployment itself (not a login page, proxy or another service)?`,
        ERROR_TEXT_MAX,
        init.secrets,
      ),
    );
    this.name = "UnexpectedResponseError";
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.expected = init.expected;
  }
}
