// Process-wide secret registry. Anything that writes text a person or file may see (logger,
// results writers, error printing) passes it through `redact`, so a registered secret — above
// all the Coder session token — never appears in logs, results or error messages.

export const REDACTED = "[REDACTED]";

/** Values shorter than this are ignored: redacting them would mangle ordinary text. */
export const MIN_SECRET_LENGTH = 6;

// Every form to replace (raw, URL-encoded, form-encoded), longest first so a longer secret
// containing a shorter one is replaced whole.
let patterns: string[] = [];
const secrets = new Set<string>();

function rebuild(): void {
  const forms = new Set<string>();
  for (const s of secrets) {
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(encodeURIComponent(s).replace(/%20/g, "+"));
  }
  patterns = [...forms].sort((a, b) => b.length - a.length);
}

/** Registers a secret to be hidden from all output. Values shorter than 6 chars (or empty/undefined) are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  rebuild();
}

/** Forgets every registered secret (tests only). */
export function clearSecrets(): void {
  secrets.clear();
  patterns = [];
}

/** Replaces every registered secret (and its URL-encoded forms) in `text` with `[REDACTED]`. */
export function redact(text: string): string {
  if (patterns.length === 0 || typeof text !== "string") return text;
  let out = text;
  for (const p of patterns) {
    if (out.includes(p)) out = out.split(p).join(REDACTED);
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
