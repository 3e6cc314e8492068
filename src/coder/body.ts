// Bounded reading of what a server sends: a body is read up to a cap (a server that streams forever, or
// answers 100 MB, costs at most the cap in memory), JSON nesting is limited before parsing (a deep
// document otherwise ends the run with "Maximum call stack size exceeded" in whatever walks it later).
import type { Readable } from "node:stream";

/** Largest JSON answer accepted from the Coder API (a page of 100 workspaces is well under 1 MiB). */
export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;
/** Error answers are read only this far (their text is cut to a few hundred characters when shown). */
export const MAX_ERROR_BODY_BYTES = 8 * 1024;
/** Deepest JSON nesting accepted (Coder's answers nest fewer than 15 levels). */
export const MAX_JSON_DEPTH = 64;

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the answer is larger than ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Reads `body` as UTF-8 up to `limit` bytes. Over the limit: with `truncate` returns what fit (and stops
 * reading), otherwise throws BodyTooLargeError. Either way the rest is never buffered.
 */
export async function readCapped(body: Readable & { destroy(err?: Error): unknown }, limit: number, truncate = false): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (size + buf.length > limit) {
      chunks.push(buf.subarray(0, limit - size));
      body.destroy();
      if (!truncate) throw new BodyTooLargeError(limit);
      return { text: Buffer.concat(chunks).toString("utf8"), truncated: true };
    }
    chunks.push(buf);
    size += buf.length;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated: false };
}

/** Deepest nesting of arrays/objects in JSON text (strings skipped); stops counting past `stopAt`. */
export function jsonDepth(text: string, stopAt = MAX_JSON_DEPTH + 1): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: jump to its closing quote (indexOf runs natively; strings are most of an answer's text). A
      // quote preceded by an odd run of backslashes is escaped and does not close it.
      for (;;) {
        const q = text.indexOf('"', i + 1);
        if (q < 0) return max;
        let b = q - 1;
        while (text.charCodeAt(b) === 0x5c) b--;
        i = q;
        if ((q - 1 - b) % 2 === 0) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max >= stopAt) return max;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
