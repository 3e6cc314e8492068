// Typed client for the Coder REST API (/api/v2) on undici.
//
// One keep-alive connection pool per client, sized to the caller's concurrency (Coder's scaletest
// CLI likewise gives each runner its own HTTP client so connections spread over coderd replicas:
// create several clients if you want that). Every request carries the session token in the
// `Coder-Session-Token` header; with bypassRateLimit (the Owner's and the run's clients, as Coder's CLI)
// also `X-Coder-Bypass-Ratelimit: true` (honoured for owners only), websocket dials included.
// Retries follow the policy in ./retry.ts and are counted in stats(): faults are never hidden.

import { Pool } from "undici";
import type { ZodType } from "zod";
import { BodyTooLargeError, jsonNestsDeeperThan, MAX_ERROR_BODY_BYTES, MAX_JSON_BODY_BYTES, MAX_JSON_DEPTH, readCapped } from "./body.ts";
import { S } from "./schemas.ts";
import type WebSocket from "ws";
import { redactAndTruncate, registerSecret } from "../util/redact.ts";
import { AgentNotReadyError, BuildFailedError, CoderApiError, UnexpectedResponseError, WaitTimeoutError, redact } from "./errors.ts";
import { assertTokenDestination } from "./destinations.ts";
import { buildPtyUrl, openAuthedWebSocket, type AuthedWebSocketOptions, type OpenPtyOptions, type PtyUrlOptions } from "./pty.ts";
import {
  backoffDelay,
  isIdempotent,
  networkErrorCode,
  parseRetryAfter,
  resolveRetry,
  shouldRetryNetwork,
  shouldRetryStatus,
  type ResolvedRetry,
  type RetryOptions,
} from "./retry.ts";
import { anySignal, attemptSignal } from "../util/abort.ts";
import { sleepOrThrow } from "../util/sleep.ts";
import type {
  APIKey,
  AppearanceConfig,
  BuildInfoResponse,
  CreateTokenRequest,
  CreateUserRequestWithOrgs,
  CreateWorkspaceBuildRequest,
  CreateWorkspaceRequest,
  DeploymentStats,
  GenerateAPIKeyResponse,
  GetUsersResponse,
  HealthcheckReport,
  Organization,
  ProvisionerJobLog,
  Response,
  Template,
  TemplateVersion,
  TemplateVersionParameter,
  UpdateAppearanceConfig,
  User,
  Workspace,
  WorkspaceAgent,
  WorkspaceBuild,
  WorkspaceResource,
  WorkspacesResponse,
} from "./types.ts";

export interface RetryInfo {
  method: string;
  /** Path without query. */
  path: string;
  /** The attempt that just failed (1-based). */
  attempt: number;
  /** HTTP status of the failed attempt, 0 for a connection error. */
  status: number;
  /** Network error code when status is 0. */
  code?: string;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  /** True when the wait came from the server's Retry-After header. */
  retryAfter: boolean;
}

export interface CoderClientOptions {
  url: string | URL;
  token: string;
  /** Expected parallel requests; sizes the keep-alive pool (connections = max(1, concurrency)). Default 8. */
  concurrency?: number;
  retry?: RetryOptions;
  /** Extra headers on every request (never logged). */
  headers?: Record<string, string>;
  /**
   * Send `X-Coder-Bypass-Ratelimit: true` on every request and websocket dial (default false). As Coder's
   * scale test: on the Owner's client and the run's (runner) clients, never on a user's own client made after
   * its login or for its token; coderd honours it for owners only.
   */
  bypassRateLimit?: boolean;
  userAgent?: string;
  /** Aborts every request and wait of this client. */
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
  /**
   * Per-attempt timeout for an HTTP request, connect, headers and body (default DEFAULT_REQUEST_TIMEOUT_MS; 0 =
   * none). Attempts that end with no answer are retried once at most (MAX_SILENT_ATTEMPTS), so a deployment that
   * accepts connections and never answers fails a call within 2 x timeoutMs + the first backoff (<= 250 ms).
   */
  timeoutMs?: number;
  /** Longest wait for a TCP/TLS connection (default DEFAULT_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  /**
   * Origins besides the deployment's (and hosts under its registrable domain) that may receive the token
   * (--trusted-origins); see ./destinations.ts.
   */
  trustedOrigins?: readonly string[];
  /** Largest successful JSON answer read (default MAX_JSON_BODY_BYTES, 16 MiB); error answers are read to 8 KiB. */
  maxResponseBytes?: number;
  /**
   * A client with no session yet (token ""), for the one call that needs none: POST /users/login (see login()).
   * Nothing else is sent by such a client.
   */
  anonymous?: boolean;
  /**
   * Send through the process-wide pool for users' own sessions (one per deployment origin) instead of a pool
   * of this client's own: Coder's scale test makes each user's client with codersdk.New(url), and all of them
   * share Go's http.DefaultTransport. A pool per user instead opened (and tore down) TCP connections for every
   * login and every workspace, which coderd never sees from Coder's tool and which cost the runner more CPU
   * than the requests themselves. close() leaves the shared pool open (its idle sockets do not hold the process).
   */
  sharedSessionPool?: boolean;
}

/** The user-session pools (CoderClientOptions.sharedSessionPool), by origin and connect timeout. */
const sessionPools = new Map<string, Pool>();

function sessionPool(origin: string, connectTimeoutMs: number): Pool {
  const key = `${origin} ${connectTimeoutMs}`;
  let p = sessionPools.get(key);
  if (!p || p.closed || p.destroyed) {
    // No connection limit, as Go's default transport (MaxConnsPerHost 0): each user's calls go out when made.
    p = new Pool(origin, { connections: null, pipelining: 1, keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connect: { timeout: connectTimeoutMs } });
    sessionPools.set(key, p);
  }
  return p;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** A smaller cap than the client's for this answer (one small record, e.g. the user: 1 MiB is plenty). */
  maxResponseBytes?: number;
  body?: unknown;
  /** A body sent as is instead of JSON (POST /files takes a tar archive). */
  rawBody?: { data: Uint8Array; contentType: string };
  /** Statuses that count as success (default: any 2xx). */
  expect?: number[];
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * Treat this call as idempotent for retries on 502/504 and connection resets even if its method
   * is not (e.g. a create whose duplicate would be rejected by a unique name).
   */
  idempotent?: boolean;
  /**
   * The shape a successful answer must have: anything else (not JSON, a missing field, a wrong type)
   * throws one UnexpectedResponseError naming the URL and `expected`. A check only: the answer is returned as
   * parsed, all its fields kept (the schema's transforms, defaults and stripping are not applied).
   */
  schema?: ZodType<unknown>;
  /** What `schema` describes, for the error ("a Coder user"). */
  expected?: string;
}

export interface ClientStats {
  /** HTTP attempts made (each retry counts). */
  requests: number;
  /** Retries performed. */
  retries: number;
  /** Attempts per outcome: HTTP status ("200", "503") or network error code ("ECONNRESET"). */
  byStatus: Record<string, number>;
  /** Retries per cause: status or error code. */
  retriesBy: Record<string, number>;
}

export interface PageOptions {
  q?: string;
  limit?: number;
  offset?: number;
  signal?: AbortSignal;
}

export interface IterateOptions {
  q?: string;
  /** Page size (default 100). */
  pageSize?: number;
  signal?: AbortSignal;
}

export interface WaitForBuildOptions {
  /** Longest poll interval in ms (default 1000); polling starts at 250 ms and backs off to this. */
  pollMs?: number;
  /** Default 10 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with every polled build whose job status changed (and the first one). */
  onUpdate?: (build: WorkspaceBuild) => void;
  /** Build-log lines kept in a BuildFailedError (default 20). */
  logTailLines?: number;
}

export interface WaitForAgentsOptions {
  pollMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  onUpdate?: (agents: WorkspaceAgent[], workspace: Workspace) => void;
}

export interface CreateBuildOptions extends Omit<CreateWorkspaceBuildRequest, "transition"> {
  transition: CreateWorkspaceBuildRequest["transition"];
}

/** Characters of a non-JSON error body kept in the error (after redaction). */
const ERROR_BODY_SHOWN = 300;

/** codersdk.BypassRatelimitHeader. */
export const BYPASS_RATELIMIT_HEADER = "X-Coder-Bypass-Ratelimit";

/** Defaults of --request-timeout and --connect-timeout (src/config/settings/deployment.ts). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 14_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/**
 * Attempts of one call that may end with no answer at all (a timeout): retrying a silent deployment only
 * multiplies the wait, so the second silence is the error.
 */
export const MAX_SILENT_ATTEMPTS = 2;
const SILENT_CODES: ReadonlySet<string> = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

const DEFAULT_USER_AGENT = "coder-scaletest-runner/0.1";

/** Agent lifecycle states after which the agent will not become ready by itself. */
const AGENT_BAD_LIFECYCLE = new Set(["start_error", "start_timeout", "shutting_down", "shutdown_timeout", "shutdown_error", "off"]);

export class CoderClient {
  readonly url: URL;
  readonly #token: string;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #retry: ResolvedRetry;
  readonly #headers: Record<string, string>;
  readonly #userAgent: string;
  readonly #signal: AbortSignal | undefined;
  readonly #onRetry: ((info: RetryInfo) => void) | undefined;
  readonly #timeoutMs: number;
  readonly #basePath: string;
  readonly #trustedOrigins: readonly string[];
  readonly #maxResponseBytes: number;
  // Shared with the clients made by forSession(), so every request of the run is counted in one place.
  #stats: ClientStats = { requests: 0, retries: 0, byStatus: {}, retriesBy: {} };
  readonly #opts: CoderClientOptions;
  #anon: CoderClient | undefined;

  constructor(opts: CoderClientOptions) {
    const url = new URL(opts.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error(`Coder URL must be http(s)://, got ${url.protocol}//${url.host}`);
    }
    if (!opts.token && !opts.anonymous) throw new Error("Coder session token is empty: set CODER_SESSION_TOKEN (or pass token)");
    this.url = url;
    this.#opts = opts;
    this.#token = opts.anonymous ? "" : opts.token;
    registerSecret(this.#token); // whoever made this client, its token never reaches any output
    this.#basePath = url.pathname.replace(/\/+$/, "");
    this.#retry = resolveRetry(opts.retry);
    // The bypass header travels with the client's own headers, so websocket dials carry it exactly as REST calls.
    this.#headers = { ...opts.headers, ...(opts.bypassRateLimit ? { [BYPASS_RATELIMIT_HEADER]: "true" } : {}) };
    this.#userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
    this.#signal = opts.signal;
    this.#onRetry = opts.onRetry;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#trustedOrigins = [...(opts.trustedOrigins ?? [])];
    this.#maxResponseBytes = opts.maxResponseBytes ?? MAX_JSON_BODY_BYTES;
    this.#ownsPool = !opts.sharedSessionPool;
    this.#pool = opts.sharedSessionPool
      ? sessionPool(url.origin, opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)
      : new Pool(url.origin, {
          connections: Math.max(1, Math.floor(opts.concurrency ?? 8)),
          pipelining: 1,
          keepAliveTimeout: 10_000,
          keepAliveMaxTimeout: 60_000,
          connect: { timeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
        });
  }

  /** Counters since construction (a copy). */
  stats(): ClientStats {
    return {
      requests: this.#stats.requests,
      retries: this.#stats.retries,
      byStatus: { ...this.#stats.byStatus },
      retriesBy: { ...this.#stats.retriesBy },
    };
  }

  /**
   * A client for another session (a scale-test user's, after its login) to the same deployment with the same
   * timeouts, retries and trusted origins, counted in this client's stats() — but without the rate-limit bypass
   * header: as Coder's scale test, a user's own client is a fresh one (codersdk.New), not a copy of the Owner's.
   * It sends through the users' shared pool (see CoderClientOptions.sharedSessionPool); close() it when the
   * user is done all the same (a no-op for the pool today, but the client's life ends there).
   */
  forSession(token: string): CoderClient {
    const { bypassRateLimit: _bypass, anonymous: _anon, ...rest } = this.#opts;
    const c = new CoderClient({ ...rest, token, sharedSessionPool: true });
    c.#stats = this.#stats;
    return c;
  }

  /**
   * POST /users/login with email and password from a client that carries no session and no bypass header
   * (as Coder's createworkspaces runner's fresh one); returns a client for the new session (see forSession). The password
   * and the session token are registered as secrets.
   */
  async login(email: string, password: string, opts: { signal?: AbortSignal } = {}): Promise<CoderClient> {
    registerSecret(password);
    const r = await this.#anonymous().request<{ session_token: string }>("POST", "/users/login", {
      body: { email, password },
      // codersdk.LoginWithPassword accepts only 201.
      expect: [201],
      schema: S.loginResponse,
      expected: "a login answer ({session_token})",
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    registerSecret(r.session_token);
    return this.forSession(r.session_token);
  }

  /**
   * The session-less client logins go through: no token, no bypass header, the users' shared pool. One per
   * client, made at the first login: it holds nothing of any user (the password goes in each call's body),
   * so every login sends exactly what a fresh one would, without building a client per user.
   */
  #anonymous(): CoderClient {
    if (!this.#anon) {
      const { bypassRateLimit: _bypass, ...rest } = this.#opts;
      this.#anon = new CoderClient({ ...rest, token: "", anonymous: true, sharedSessionPool: true });
      this.#anon.#stats = this.#stats;
    }
    return this.#anon;
  }

  /** Closes the client's own connection pool (in-flight requests finish first); the shared users' pool stays. */
  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.close();
  }

  // ---- generic request ---------------------------------------------------------------------------

  /**
   * Sends one API call with retries. `path` is relative to /api/v2 unless it starts with "/api/".
   * Returns the parsed JSON body, or undefined for an empty body.
   */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const m = method.toUpperCase();
    // A query written into `path` is merged with opts.query and kept out of error messages.
    const qIdx = path.indexOf("?");
    const bare = qIdx >= 0 ? path.slice(0, qIdx) : path;
    const inline = qIdx >= 0 ? Object.fromEntries(new URLSearchParams(path.slice(qIdx + 1))) : {};
    const fullPath = bare.startsWith("/api/") ? `${this.#basePath}${bare}` : `${this.#basePath}/api/v2${bare.startsWith("/") ? "" : "/"}${bare}`;
    const search = buildQuery({ ...inline, ...opts.query });
    const body = opts.rawBody ? Buffer.from(opts.rawBody.data) : opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const idempotent = opts.idempotent ?? isIdempotent(m);
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const headers: Record<string, string> = {
      ...this.#headers,
      accept: "application/json",
      "user-agent": this.#userAgent,
    };
    if (this.#token) headers["coder-session-token"] = this.#token;
    if (body !== undefined) headers["content-type"] = opts.rawBody?.contentType ?? "application/json";
    const callerSignals = [this.#signal, opts.signal].filter((s): s is AbortSignal => s !== undefined);
    const secrets = [this.#token];

    let silent = 0;
    for (let attempt = 1; ; attempt++) {
      const aborted = callerSignals.find((s) => s.aborted);
      if (aborted) throw apiError(m, fullPath, secrets, { status: 0, code: "ABORTED", attempts: attempt - 1 || 1, cause: aborted.reason });
      const attemptBound = attemptSignal(callerSignals, timeoutMs);
      const signal = attemptBound.signal;
      this.#stats.requests++;
      let status = 0;
      let text: string;
      let retryAfterHeader: string | string[] | undefined;
      try {
        const res = await this.#pool.request({ method: m as "GET", path: fullPath + search, headers, body, signal });
        status = res.statusCode;
        retryAfterHeader = res.headers["retry-after"];
        // Bounded whatever the server sends: a success up to the JSON cap (more is an error), an error
        // answer only as far as its first few KiB (all that is ever shown of it).
        text = isOkStatus(opts.expect, status)
          ? (await readCapped(res.body, Math.min(opts.maxResponseBytes ?? Infinity, this.#maxResponseBytes))).text
          : (await readCapped(res.body, MAX_ERROR_BODY_BYTES, true)).text;
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          throw new UnexpectedResponseError({
            method: m, path: fullPath, status, expected: `a JSON answer of at most ${err.limit} bytes`, problem: "the answer was larger", secrets,
          });
        }
        if (callerSignals.some((s) => s.aborted)) {
          throw apiError(m, fullPath, secrets, { status: 0, code: "ABORTED", attempts: attempt, cause: err });
        }
        const timedOut = attemptBound.timedOut();
        const code = timedOut ? "ETIMEDOUT" : (networkErrorCode(err) ?? "UNKNOWN");
        this.#count("byStatus", code);
        // The deployment's URL in the message: "no answer" is about the deployment, not the endpoint.
        const where = this.url.origin;
        const cause = timedOut
          ? new Error(`${where} gave no complete answer within ${timeoutMs} ms (--request-timeout)`)
          : prefixed(where, scrubError(err, secrets));
        if (SILENT_CODES.has(code)) silent++;
        if (attempt < this.#retry.attempts && silent < MAX_SILENT_ATTEMPTS && shouldRetryNetwork(m, code, idempotent)) {
          await this.#backoff({ method: m, path: fullPath, attempt, status: 0, code, retryAfter: undefined }, callerSignals, (init) => apiError(m, fullPath, secrets, init));
          continue;
        }
        throw apiError(m, fullPath, secrets, { status: 0, code, attempts: attempt, cause });
      } finally {
        attemptBound.dispose();
      }
      this.#count("byStatus", String(status));
      if (isOkStatus(opts.expect, status)) return this.#parseOk<T>(m, fullPath, status, text, opts);
      if (attempt < this.#retry.attempts && shouldRetryStatus(m, status, idempotent)) {
        await this.#backoff({ method: m, path: fullPath, attempt, status, retryAfter: retryAfterHeader }, callerSignals, (init) => apiError(m, fullPath, secrets, init));
        continue;
      }
      const response = parseErrorBody(text);
      throw apiError(m, fullPath, secrets, {
        status,
        attempts: attempt,
        response,
        bodyText: response ? undefined : redactAndTruncate(text.trim(), ERROR_BODY_SHOWN, secrets),
      });
    }
  }

  /** A successful answer: JSON within the depth limit and, when a schema is given, of that shape. */
  #parseOk<T>(method: string, path: string, status: number, text: string, opts: RequestOptions): T {
    const expected = opts.expected ?? "a JSON answer";
    if (text.trim() === "") {
      if (opts.schema) throw this.#unexpected(method, path, status, expected, "the body was empty");
      return undefined as T;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (opts.schema) throw this.#unexpected(method, path, status, expected, `the body is not JSON (it starts ${JSON.stringify(text.trim().slice(0, 60))})`);
      return text as T;
    }
    if (value !== null && typeof value === "object" && jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
      throw this.#unexpected(method, path, status, expected, `the JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
    }
    if (!opts.schema) return value as T;
    const r = opts.schema.safeParse(value);
    // The answer as sent, not zod's copy: the schema only checks the fields callers rely on (./schemas.ts).
    if (r.success) return value as T;
    const issues = r.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join(".") : "(body)"}: ${i.message}`);
    throw this.#unexpected(method, path, status, expected, `the answer does not match (${issues.join("; ")})`);
  }

  #unexpected(method: string, path: string, status: number, expected: string, problem: string): UnexpectedResponseError {
    return new UnexpectedResponseError({ method, path, status, expected, problem, secrets: [this.#token] });
  }

  #count(which: "byStatus" | "retriesBy", key: string): void {
    const rec = this.#stats[which];
    rec[key] = (rec[key] ?? 0) + 1;
  }

  async #backoff(
    f: { method: string; path: string; attempt: number; status: number; code?: string; retryAfter: string | string[] | undefined },
    signals: AbortSignal[],
    fail: (init: { status: number; code?: string; attempts: number; cause?: unknown }) => CoderApiError,
  ): Promise<void> {
    const fromHeader = parseRetryAfter(f.retryAfter);
    const delayMs =
      fromHeader !== undefined
        ? Math.min(fromHeader, this.#retry.maxRetryAfterMs)
        : backoffDelay(f.attempt, this.#retry.baseDelayMs, this.#retry.maxDelayMs);
    this.#stats.retries++;
    this.#count("retriesBy", f.code ?? String(f.status));
    const info: RetryInfo = { method: f.method, path: f.path, attempt: f.attempt, status: f.status, delayMs, retryAfter: fromHeader !== undefined };
    if (f.code) info.code = f.code;
    this.#onRetry?.(info);
    try {
      await sleepOrThrow(delayMs, anySignal(...signals));
    } catch (err) {
      throw fail({ status: 0, code: "ABORTED", attempts: f.attempt, cause: err });
    }
  }

  // ---- deployment --------------------------------------------------------------------------------

  buildInfo(): Promise<BuildInfoResponse> {
    return this.request("GET", "/buildinfo");
  }

  /** Deployment health report (GET /debug/health); owner only. */
  health(opts: { force?: boolean } = {}): Promise<HealthcheckReport> {
    return this.request("GET", "/debug/health", { query: { force: opts.force } });
  }

  getAppearance(): Promise<AppearanceConfig> {
    return this.request("GET", "/appearance");
  }

  updateAppearance(cfg: UpdateAppearanceConfig): Promise<UpdateAppearanceConfig> {
    return this.request("PUT", "/appearance", { body: cfg });
  }

  deploymentStats(): Promise<DeploymentStats> {
    return this.request("GET", "/deployment/stats");
  }

  // ---- users & organizations ---------------------------------------------------------------------

  me(): Promise<User> {
    return this.user("me");
  }

  user(nameOrId: string): Promise<User> {
    // One user record: a few KiB; a larger answer is a broken or hostile server, not a user.
    return this.request("GET", `/users/${seg(nameOrId)}`, { schema: S.user, expected: "a Coder user (id, username)", maxResponseBytes: 1024 * 1024 });
  }

  organizations(): Promise<Organization[]> {
    return this.request("GET", "/organizations");
  }

  async defaultOrganization(): Promise<Organization> {
    const orgs = await this.organizations();
    const def = orgs.find((o) => o.is_default);
    if (!def) throw new Error(`no default organization among ${orgs.length} organization(s): ${orgs.map((o) => o.name).join(", ")}`);
    return def;
  }

  /** POST /users (201). Give organization_ids (e.g. the default org's id). */
  createUser(req: CreateUserRequestWithOrgs): Promise<User> {
    return this.request("POST", "/users", { body: req, expect: [201, 200], schema: S.user, expected: "the created Coder user (id, username)" });
  }

  /** DELETE /users/{user} (200, no body). */
  async deleteUser(nameOrId: string): Promise<void> {
    await this.request("DELETE", `/users/${seg(nameOrId)}`);
  }

  listUsers(opts: PageOptions = {}): Promise<GetUsersResponse> {
    return this.request("GET", "/users", {
      query: { q: opts.q, limit: opts.limit, offset: opts.offset },
      signal: opts.signal,
      schema: S.usersPage,
      expected: "a page of Coder users ({users: [{id, username, email}], count})",
    });
  }

  /**
   * Every user matching `q`, page by page (limit/offset). Deleting while iterating shifts offsets:
   * collect first, then delete.
   */
  async *iterateUsers(opts: IterateOptions = {}): AsyncGenerator<User, void, undefined> {
    yield* paginate(async (limit, offset) => {
      const page = await this.listUsers({ q: opts.q, limit, offset, signal: opts.signal });
      return { items: page.users ?? [], count: page.count };
    }, opts.pageSize);
  }

  /** POST /users/{user}/keys/tokens (201) → {key}. `lifetime` is in nanoseconds (Go duration). */
  async createToken(user: string, req: CreateTokenRequest = {}): Promise<GenerateAPIKeyResponse> {
    const r = await this.request<GenerateAPIKeyResponse>("POST", `/users/${seg(user)}/keys/tokens`, {
      body: req, expect: [201, 200], schema: S.apiKey, expected: "a new API key ({key})",
    });
    registerSecret(r.key); // every token minted is a secret from the moment it exists
    return r;
  }

  /** GET /users/{user}/keys/tokens */
  listTokens(user: string): Promise<APIKey[]> {
    return this.request("GET", `/users/${seg(user)}/keys/tokens`);
  }

  /** DELETE /users/{user}/keys/{keyid} (204). keyId is the part of the key before the first '-'. */
  async deleteToken(user: string, keyId: string): Promise<void> {
    await this.request("DELETE", `/users/${seg(user)}/keys/${seg(keyId)}`);
  }

  // ---- templates ---------------------------------------------------------------------------------

  /** GET /organizations/{org}/templates/{name}; org is an id or name. */
  templateByName(org: string, name: string): Promise<Template> {
    return this.request("GET", `/organizations/${seg(org)}/templates/${seg(name)}`);
  }

  template(id: string): Promise<Template> {
    return this.request("GET", `/templates/${seg(id)}`);
  }

  listTemplates(): Promise<Template[]> {
    return this.request("GET", "/templates");
  }

  templateVersion(id: string): Promise<TemplateVersion> {
    return this.request("GET", `/templateversions/${seg(id)}`);
  }

  templateVersionRichParameters(versionId: string): Promise<TemplateVersionParameter[]> {
    return this.request("GET", `/templateversions/${seg(versionId)}/rich-parameters`);
  }

  // ---- workspaces --------------------------------------------------------------------------------

  /**
   * POST /users/{user}/workspaces (the current endpoint; answers 200). Not retried on 502/504 or
   * connection resets unless `opts.idempotent` (a duplicate name would answer 409).
   */
  createWorkspace(user: string, req: CreateWorkspaceRequest, opts: { idempotent?: boolean; signal?: AbortSignal } = {}): Promise<Workspace> {
    // Only 201, as codersdk.CreateUserWorkspace: another success status is not what coderd sends.
    return this.request("POST", `/users/${seg(user)}/workspaces`, { body: req, expect: [201], ...opts });
  }

  workspace(id: string, opts: { includeDeleted?: boolean; signal?: AbortSignal } = {}): Promise<Workspace> {
    return this.request("GET", `/workspaces/${seg(id)}`, {
      query: { include_deleted: opts.includeDeleted || undefined },
      signal: opts.signal,
      schema: S.workspace,
      expected: "a Coder workspace (id, name, owner_id, owner_name, latest_build)",
    });
  }

  workspaceByOwnerAndName(owner: string, name: string, opts: { includeDeleted?: boolean } = {}): Promise<Workspace> {
    return this.request("GET", `/users/${seg(owner)}/workspace/${seg(name)}`, {
      query: { include_deleted: opts.includeDeleted || undefined },
    });
  }

  listWorkspaces(opts: PageOptions = {}): Promise<WorkspacesResponse> {
    return this.request("GET", "/workspaces", {
      query: { q: opts.q, limit: opts.limit, offset: opts.offset },
      signal: opts.signal,
      schema: S.workspacesPage,
      expected: "a page of Coder workspaces ({workspaces: [{id, name, owner_id, owner_name, latest_build}], count})",
    });
  }

  /** Every workspace matching `q` (e.g. `name:scaletest-abc owner:me`), page by page. */
  async *iterateWorkspaces(opts: IterateOptions = {}): AsyncGenerator<Workspace, void, undefined> {
    yield* paginate(async (limit, offset) => {
      const page = await this.listWorkspaces({ q: opts.q, limit, offset, signal: opts.signal });
      return { items: page.workspaces ?? [], count: page.count };
    }, opts.pageSize);
  }

  /** POST /workspaces/{id}/builds: start, stop or delete (there is no DELETE /workspaces/{id}). */
  createBuild(workspaceId: string, req: CreateBuildOptions, opts: { signal?: AbortSignal } = {}): Promise<WorkspaceBuild> {
    // Only 201, as codersdk.CreateWorkspaceBuild.
    return this.request("POST", `/workspaces/${seg(workspaceId)}/builds`, { body: req, expect: [201], ...opts });
  }

  startWorkspace(id: string, req: Omit<CreateBuildOptions, "transition"> = {}): Promise<WorkspaceBuild> {
    return this.createBuild(id, { ...req, transition: "start" });
  }

  stopWorkspace(id: string): Promise<WorkspaceBuild> {
    return this.createBuild(id, { transition: "stop" });
  }

  /** Starts a delete build; `orphan` deletes without running the provisioner (owner only). */
  deleteWorkspace(id: string, opts: { orphan?: boolean } = {}): Promise<WorkspaceBuild> {
    return this.createBuild(id, { transition: "delete", ...(opts.orphan ? { orphan: true } : {}) });
  }

  workspaceBuild(id: string, opts: { signal?: AbortSignal } = {}): Promise<WorkspaceBuild> {
    return this.request("GET", `/workspacebuilds/${seg(id)}`, { ...opts, schema: S.build, expected: "a workspace build (id, transition, job.status)" });
  }

  /** Build logs so far (GET /workspacebuilds/{id}/logs without follow). */
  workspaceBuildLogs(buildId: string, opts: { before?: number; after?: number } = {}): Promise<ProvisionerJobLog[]> {
    return this.request("GET", `/workspacebuilds/${seg(buildId)}/logs`, { query: { before: opts.before, after: opts.after } });
  }

  /** PATCH /workspacebuilds/{id}/cancel */
  async cancelBuild(buildId: string, opts: { expectStatus?: "running" | "pending" } = {}): Promise<Response | undefined> {
    return this.request("PATCH", `/workspacebuilds/${seg(buildId)}/cancel`, { query: { expect_status: opts.expectStatus } });
  }

  /** Resources of the workspace's latest build (WorkspaceBuild.resources; the resources endpoint is deprecated). */
  async workspaceResources(workspaceId: string): Promise<WorkspaceResource[]> {
    const ws = await this.workspace(workspaceId);
    return ws.latest_build?.resources ?? [];
  }

  workspaceAgent(id: string): Promise<WorkspaceAgent> {
    return this.request("GET", `/workspaceagents/${seg(id)}`);
  }

  /**
   * Polls a build until its job ends. Resolves with the build when it succeeded; throws
   * BuildFailedError (job error + log tail) when it failed or was canceled; WaitTimeoutError after
   * timeoutMs. Polling (not the watch websocket) keeps it simple and proxy-friendly; the interval
   * starts at 250 ms and grows 1.5x to pollMs, with ±10% jitter so many waiters do not align.
   */
  async waitForBuild(buildId: string, opts: WaitForBuildOptions = {}): Promise<WorkspaceBuild> {
    const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
    const maxPoll = Math.max(10, opts.pollMs ?? 1000);
    const deadline = Date.now() + timeoutMs;
    let interval = Math.min(250, maxPoll);
    let lastStatus = "";
    let last: WorkspaceBuild | undefined;
    const signal = this.#combine(opts.signal);
    for (;;) {
      const build = await this.workspaceBuild(buildId, signal ? { signal } : {});
      last = build;
      const jobStatus = build.job?.status;
      if (jobStatus !== lastStatus) {
        lastStatus = jobStatus;
        opts.onUpdate?.(build);
      }
      if (jobStatus === "succeeded") return build;
      if (jobStatus === "failed" || jobStatus === "canceled") {
        let logs: ProvisionerJobLog[] = [];
        try {
          logs = await this.workspaceBuildLogs(buildId);
        } catch {
          // the failure matters more than its logs
        }
        throw new BuildFailedError(build, logs, opts.logTailLines ?? 20);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new WaitTimeoutError(
          `workspace build ${buildId} (${last.transition} of ${last.workspace_owner_name}/${last.workspace_name})`,
          `build status ${last.status}, job ${jobStatus}${last.job?.queue_position ? `, queue position ${last.job.queue_position}` : ""}`,
          timeoutMs,
        );
      }
      await this.#pause(Math.min(remaining, jitter(interval)), signal, `waiting for build ${buildId}`);
      interval = Math.min(maxPoll, interval * 1.5);
    }
  }

  /**
   * Polls the workspace until its latest build succeeded and every agent is `connected` with
   * lifecycle `ready`; returns the agents. Throws AgentNotReadyError when an agent reaches
   * start_error/start_timeout (or shuts down) or the latest build is not a start, BuildFailedError
   * when the build failed, WaitTimeoutError (naming the agent and its last state) after timeoutMs.
   * An agent whose status is `timeout` is still waited for: it may connect late.
   */
  async waitForAgents(workspaceId: string, opts: WaitForAgentsOptions = {}): Promise<WorkspaceAgent[]> {
    const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
    const maxPoll = Math.max(10, opts.pollMs ?? 1000);
    const deadline = Date.now() + timeoutMs;
    let interval = Math.min(250, maxPoll);
    const signal = this.#combine(opts.signal);
    for (;;) {
      const ws = await this.workspace(workspaceId, signal ? { signal } : {});
      const build = ws.latest_build;
      const agents = (build.resources ?? []).flatMap((r) => r.agents ?? []);
      opts.onUpdate?.(agents, ws);
      if (build.transition !== "start") {
        throw new AgentNotReadyError(workspaceId, undefined, `latest build #${build.build_number} is a ${build.transition}, not a start`);
      }
      const jobStatus = build.job?.status;
      if (jobStatus === "failed" || jobStatus === "canceled") {
        let logs: ProvisionerJobLog[] = [];
        try {
          logs = await this.workspaceBuildLogs(build.id);
        } catch {
          // keep the build failure
        }
        throw new BuildFailedError(build, logs);
      }
      for (const a of agents) {
        if (AGENT_BAD_LIFECYCLE.has(a.lifecycle_state)) {
          throw new AgentNotReadyError(workspaceId, a, `lifecycle ${a.lifecycle_state}`);
        }
      }
      const pending = agents.filter((a) => a.status !== "connected" || a.lifecycle_state !== "ready");
      if (jobStatus === "succeeded" && pending.length === 0) return agents;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const state =
          jobStatus !== "succeeded"
            ? `build #${build.build_number} job ${jobStatus}`
            : pending.map((a) => `agent ${a.name} (${a.id}) status ${a.status}, lifecycle ${a.lifecycle_state}`).join("; ");
        throw new WaitTimeoutError(`agents of workspace ${ws.owner_name}/${ws.name} (${workspaceId})`, state, timeoutMs);
      }
      await this.#pause(Math.min(remaining, jitter(interval)), signal, `waiting for agents of ${workspaceId}`);
      interval = Math.min(maxPoll, interval * 1.5);
    }
  }

  #combine(signal: AbortSignal | undefined): AbortSignal | undefined {
    return anySignal(this.#signal, signal);
  }

  async #pause(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
    try {
      await sleepOrThrow(ms, signal);
    } catch (err) {
      throw new Error(`aborted while ${what}`, { cause: err });
    }
  }

  // ---- reconnecting PTY --------------------------------------------------------------------------

  /** ws(s):// URL of the agent's reconnecting PTY with Coder's query (reconnect, width, height, command). */
  ptyUrl(agentId: string, opts: PtyUrlOptions = {}): URL {
    return buildPtyUrl(this.url, agentId, opts);
  }

  /**
   * Opens the agent's reconnecting-PTY websocket (cookie + header auth, like Coder's CLI). Resolves
   * with the open socket; rejects with CoderApiError on a non-101 answer. Write with sendPtyInput().
   * Not retried: the caller (a traffic scenario) decides and counts.
   */
  openReconnectingPty(agentId: string, opts: OpenPtyOptions = {}): Promise<WebSocket> {
    const signal = this.#combine(opts.signal);
    return openAuthedWebSocket(this.ptyUrl(agentId, opts), {
      token: this.#token,
      headers: this.#headers,
      userAgent: this.#userAgent,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? this.#timeoutMs,
      ...(signal ? { signal } : {}),
      ...(opts.onMessage ? { onMessage: opts.onMessage } : {}),
      ...(opts.zeroMask ? { zeroMask: true } : {}),
    });
  }

  /**
   * Opens a websocket to `url` authenticated with this client's own token (cookie + header), after checking
   * that the token may go there (./destinations.ts): the deployment's origin, a host under its registrable
   * domain (the wildcard app host), or a --trusted-origins entry. Anything else rejects before connecting.
   */
  openWebSocket(url: URL, opts: Omit<AuthedWebSocketOptions, "token" | "headers" | "userAgent"> = {}): Promise<WebSocket> {
    try {
      assertTokenDestination(this.url, url, this.#trustedOrigins);
    } catch (e) {
      return Promise.reject(e);
    }
    const signal = this.#combine(opts.signal);
    return openAuthedWebSocket(url, {
      ...opts,
      token: this.#token,
      headers: this.#headers,
      userAgent: this.#userAgent,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? this.#timeoutMs,
      ...(signal ? { signal } : {}),
    });
  }

  /**
   * The session token this client sends, for the one consumer that cannot go through the client: a child
   * process that must authenticate itself (the coder CLI for ssh). Never log it.
   */
  get sessionToken(): string {
    return this.#token;
  }

  /** Token-free description for logs. */
  toString(): string {
    return `CoderClient(${this.url.origin}${this.#basePath})`;
  }

  /** Keeps the token out of console.log / util.inspect output. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

// ---- helpers -------------------------------------------------------------------------------------

// Module functions rather than closures made per request: tsx (esbuild keepNames) wraps every function bound to
// a name in a __name() call, an Object.defineProperty each time the closure is created, on every request.
type ApiErrorInit = Omit<ConstructorParameters<typeof CoderApiError>[0], "method" | "path" | "secrets">;

function apiError(method: string, path: string, secrets: string[], init: ApiErrorInit): CoderApiError {
  return new CoderApiError({ ...init, method, path, secrets });
}

/** A status that counts as success: one of `expect` when given, else any 2xx. */
function isOkStatus(expect: number[] | undefined, status: number): boolean {
  return expect ? expect.includes(status) : status >= 200 && status < 300;
}

function seg(s: string): string {
  if (s === "") throw new Error("empty path segment: an id or name is required");
  return encodeURIComponent(s);
}

function buildQuery(query: RequestOptions["query"]): string {
  if (!query) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

function parseBody<T>(text: string): T {
  if (text.trim() === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

function parseErrorBody(text: string): Response | undefined {
  if (text.trim() === "") return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Response;
  } catch {
    // not JSON
  }
  return undefined;
}

/** An error safe to attach as `cause`: same class of information, token scrubbed from its message. */
/** `err` with its message prefixed by `where` (name and cause kept). */
function prefixed(where: string, err: Error): Error {
  const e = new Error(`${where}: ${err.message}`, { cause: err.cause });
  e.name = err.name;
  return e;
}

function scrubError(err: unknown, secrets: string[]): Error {
  if (err instanceof Error) {
    const msg = redact(err.message, secrets);
    if (msg === err.message) return err;
    const e = new Error(msg);
    e.name = err.name;
    return e;
  }
  return new Error(redact(String(err), secrets));
}

function jitter(ms: number): number {
  return Math.max(1, Math.round(ms * (0.9 + Math.random() * 0.2)));
}

async function* paginate<T>(
  fetchPage: (limit: number, offset: number) => Promise<{ items: T[]; count: number | undefined }>,
  pageSize = 100,
): AsyncGenerator<T, void, undefined> {
  const limit = Math.max(1, Math.floor(pageSize));
  let offset = 0;
  for (;;) {
    const { items, count } = await fetchPage(limit, offset);
    for (const it of items) yield it;
    offset += items.length;
    if (items.length === 0) return;
    // Trust the total when the server gives one (it may cap `limit` below ours); else a short page ends it.
    if (typeof count === "number" ? offset >= count : items.length < limit) return;
  }
}
