// Retry policy of the Coder client: which failures are retried, and how long to wait.
//
// Policy (duplicates are worse than failures in a scale test, so non-idempotent calls are careful):
// - 429 and 503 mean the server (or its rate limiter / load balancer) declined the request, so every
//   method is retried, POST included.
// - 502 and 504 come from a proxy that may have forwarded the request before failing; only
//   idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried, unless the caller marks the
//   call idempotent (e.g. a create that would answer 409 on a duplicate).
// - Connection errors: idempotent methods are retried on any of them; POST/PATCH only when the
//   request provably never left (connection refused / DNS / connect timeout), as during a coderd
//   restart. A reset after the request was written may have taken effect, so it is not retried.
// - Waits: `Retry-After` (seconds or HTTP date) when the server sends one, capped at
//   maxRetryAfterMs; otherwise exponential backoff with full jitter: random(0, min(max, base*2^(n-1))).

export interface RetryOptions {
  /** Total tries including the first (default 5; 1 disables retries). */
  attempts?: number;
  /** First backoff ceiling in ms (default 250). */
  baseDelayMs?: number;
  /** Backoff ceiling in ms (default 10 000). */
  maxDelayMs?: number;
  /** Longest Retry-After honoured in ms (default 60 000); longer values are clamped. */
  maxRetryAfterMs?: number;
}

export interface ResolvedRetry {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
}

export function resolveRetry(r: RetryOptions | undefined): ResolvedRetry {
  const attempts = Math.max(1, Math.floor(r?.attempts ?? 5));
  const baseDelayMs = Math.max(0, r?.baseDelayMs ?? 250);
  const maxDelayMs = Math.max(baseDelayMs, r?.maxDelayMs ?? 10_000);
  const maxRetryAfterMs = Math.max(0, r?.maxRetryAfterMs ?? 60_000);
  return { attempts, baseDelayMs, maxDelayMs, maxRetryAfterMs };
}

export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);
/** Statuses meaning "not processed": safe to retry even for POST. */
const DECLINED_STATUSES: ReadonlySet<number> = new Set([429, 503]);
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/** Connection failures where the request cannot have reached the server. */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT",
]);
/** Connection failures that may be transient (resets, closed keep-alive sockets, timeouts). */
export const NETWORK_CODES: ReadonlySet<string> = new Set([
  ...NOT_SENT_CODES, "ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT", "UND_ERR_SOCKET", "UND_ERR_CLOSED",
  "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT",
]);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method.toUpperCase());
}

export function shouldRetryStatus(method: string, status: number, idempotent = isIdempotent(method)): boolean {
  if (!RETRY_STATUSES.has(status)) return false;
  return DECLINED_STATUSES.has(status) || idempotent;
}

export function shouldRetryNetwork(method: string, code: string | undefined, idempotent = isIdempotent(method)): boolean {
  if (!code || !NETWORK_CODES.has(code)) return false;
  return idempotent || NOT_SENT_CODES.has(code);
}

/** Milliseconds to wait per a Retry-After header value (delta-seconds or HTTP date); undefined if absent/invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const s = v.trim();
  if (s === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Full-jitter exponential backoff for retry number `retry` (1 = first retry). */
export function backoffDelay(retry: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** The network error code of an undici/Node error (looks one level into `cause`). */
export function networkErrorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: unknown; cause?: unknown; name?: unknown };
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return e.code;
  const inner = typeof e.cause === "object" && e.cause !== null ? (e.cause as { code?: unknown }).code : undefined;
  if (typeof inner === "string" && NETWORK_CODES.has(inner)) return inner;
  if (typeof e.code === "string") return e.code;
  if (typeof inner === "string") return inner;
  return undefined;
}

