// Process-wide secret registry. Anything that writes text a person or file may see (logger,
// results writers, error printing) passes it through `redact`, so a registered secret — above
// all the Coder session token — never appears in logs, results or error messages: not whole, not
// in part (any FRAGMENT_LENGTH-character piece of a secret is hidden too, so a token cut by a
// truncation elsewhere still cannot leak), and never as URL credentials (`https://user:pass@host`).
// Callers that shorten text redact first, then cut (`redactAndTruncate`).

export const REDACTED = "[REDACTED]";

/** Values shorter than this are ignored: redacting them would mangle ordinary text. */
export const MIN_SECRET_LENGTH = 6;

/** Any run of this many characters of a secret counts as a leak of it and is hidden. */
export const FRAGMENT_LENGTH = 12;

/** Environment variables whose values are secrets even though no setting reads them (the template sets them). */
export const SECRET_ENV_VARS: readonly string[] = ["CODER_OWNER_SESSION_TOKEN", "CODER_AGENT_TOKEN", "CODER_SESSION_TOKEN", "GRAFANA_API_TOKEN", "SLACK_WEBHOOK_URL"];

// Every form to replace (raw, URL-encoded, form-encoded), longest first so a longer secret
// containing a shorter one is replaced whole.
let patterns: string[] = [];
// The same forms as a set: the membership test of each new form (thousands of per-user passwords and tokens in
// a run) is a lookup instead of a scan of `patterns`, which made registering n secrets cost n² comparisons.
let patternSet = new Set<string>();
// Every FRAGMENT_LENGTH-character piece of every form of every secret at least that long.
let grams = new Set<string>();
const secrets = new Set<string>();

function formsOf(s: string): string[] {
  return [...new Set([s, encodeURIComponent(s), encodeURIComponent(s).replace(/%20/g, "+")])];
}

/**
 * Adds one secret's forms to `patterns` (kept longest first) and its pieces to `grams`: incremental, so
 * registering thousands of per-user tokens costs linear time, not a rebuild per token.
 */
function addForms(s: string): void {
  for (const f of formsOf(s)) {
    if (patternSet.has(f)) continue;
    patternSet.add(f);
    // First index whose pattern is shorter than f (binary search over the descending lengths).
    let lo = 0;
    let hi = patterns.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (patterns[mid]!.length >= f.length) lo = mid + 1;
      else hi = mid;
    }
    patterns.splice(lo, 0, f);
    addFragments(grams, f);
  }
}

function fragmentsOf(values: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const v of values) addFragments(out, v);
  return out;
}

/** Adds every FRAGMENT_LENGTH-character piece of `v` to `set`. */
function addFragments(set: Set<string>, v: string): void {
  for (let i = 0; i + FRAGMENT_LENGTH <= v.length; i++) set.add(v.slice(i, i + FRAGMENT_LENGTH));
}

/** Hides every maximal run of text covered by FRAGMENT_LENGTH-character pieces of a secret. */
function hideFragments(text: string, set: Set<string>): string {
  if (set.size === 0 || text.length < FRAGMENT_LENGTH) return text;
  let out = "";
  let last = 0; // end of the text already copied
  let coverEnd = -1; // end of the current covered run
  let coverStart = -1;
  for (let i = 0; i + FRAGMENT_LENGTH <= text.length; i++) {
    if (!set.has(text.slice(i, i + FRAGMENT_LENGTH))) continue;
    if (i <= coverEnd) {
      coverEnd = i + FRAGMENT_LENGTH;
      continue;
    }
    if (coverStart >= 0) {
      out += text.slice(last, coverStart) + REDACTED;
      last = coverEnd;
    }
    coverStart = i;
    coverEnd = i + FRAGMENT_LENGTH;
  }
  if (coverStart < 0) return text;
  out += text.slice(last, coverStart) + REDACTED + text.slice(coverEnd);
  return out;
}

// `scheme://user:pass@` or `scheme://token@` in any text: credentials are dropped before anything is written.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** Removes credentials from every URL in `text` (`https://u:p@host` -> `https://[REDACTED]@host`). */
export function stripUrlCredentials(text: string): string {
  return text.includes("@") ? text.replace(URL_CREDENTIALS, `$1${REDACTED}@`) : text;
}

/** Registers a secret to be hidden from all output. Values shorter than 6 chars (or empty/undefined) are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  addForms(value);
}

/** Forgets every registered secret (tests only). */
export function clearSecrets(): void {
  secrets.clear();
  patterns = [];
  patternSet = new Set();
  grams = new Set();
}

/**
 * Replaces every registered secret (and its URL-encoded forms), every FRAGMENT_LENGTH-character piece
 * of one, and URL credentials in `text` with `[REDACTED]`. `extra` adds secrets for this call only.
 */
export function redact(text: string, extra?: readonly (string | undefined | null)[]): string {
  if (typeof text !== "string") return text;
  let out = stripUrlCredentials(text);
  const more = (extra ?? []).filter((s): s is string => typeof s === "string" && s.length >= MIN_SECRET_LENGTH && !secrets.has(s));
  if (patterns.length === 0 && more.length === 0) return out;
  const all = more.length ? [...more, ...patterns].sort((a, b) => b.length - a.length) : patterns;
  for (const p of all) {
    if (out.includes(p)) out = out.split(p).join(REDACTED);
  }
  return hideFragments(out, more.length ? new Set([...grams, ...fragmentsOf(more)]) : grams);
}

/** Redacts, THEN cuts to at most `max` characters (marking the cut): a secret straddling the cut cannot survive in part. */
export function redactAndTruncate(text: string, max: number, extra?: readonly (string | undefined | null)[]): string {
  const clean = redact(text, extra);
  return clean.length <= max ? clean : `${clean.slice(0, Math.max(0, max))}… [${clean.length - max} more characters cut]`;
}

/**
 * A copy of `env` without any secret: the variables of SECRET_ENV_VARS and `extraNames`, and any variable
 * whose value is (or contains) a registered secret. Child processes start from this, plus only what
 * they need.
 */
export function envWithoutSecrets(env: NodeJS.ProcessEnv = process.env, extraNames: readonly string[] = []): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || SECRET_ENV_VARS.includes(k) || extraNames.includes(k)) continue;
    if (redact(v) !== v) continue; // holds a secret, a piece of one, or URL credentials
    out[k] = v;
  }
  return out;
}

/**
 * Returns a deep copy of a JSON-like value with every string (values and keys) redacted.
 * Error objects become `{name, message, stack}` (redacted) so they survive JSON.stringify.
 */
export function redactDeep<T>(value: T): T {
  return walk(value, new WeakSet()) as T;
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redact(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => walk(v, seen));
    if (value instanceof Error) {
      return { name: value.name, message: redact(value.message), stack: value.stack ? redact(value.stack) : undefined };
    }
    if (value instanceof Date) return value;
    // Objects with their own JSON form (e.g. class instances) are converted first.
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return walk(toJSON.call(value), seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redact(k)] = walk(v, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/** Error text safe to print: message (or stack with `withStack`) with secrets redacted. */
export function redactError(err: unknown, withStack = false): string {
  if (err instanceof Error) return redact(withStack && err.stack ? err.stack : err.message);
  return redact(String(err));
}
