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
 * reading), otherwise throws BodyTooLargeError. Either way the rest is never buffered. Read through the
 * stream's events rather than `for await`: an async iterator (its promises, its end-of-stream watcher) cost
 * more than the read itself for the one-chunk answers of almost every API call.
 */
export function readCapped(body: Readable & { destroy(err?: Error): unknown }, limit: number, truncate = false): Promise<{ text: string; truncated: boolean }> {
  // Inline listeners (never removed: `settled` ends their work, and the body is done with either way), not
  // named closures: tsx wraps each function bound to a name in a defineProperty call, on every answer.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    body.on("data", (chunk: Buffer | string) => {
      if (settled) return;
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (size + buf.length > limit) {
        chunks.push(buf.subarray(0, limit - size));
        settled = true;
        body.destroy();
        if (!truncate) reject(new BodyTooLargeError(limit));
        else resolve({ text: joinText(chunks), truncated: true });
        return;
      }
      chunks.push(buf);
      size += buf.length;
    });
    body.on("end", () => {
      if (settled) return;
      settled = true;
      resolve({ text: joinText(chunks), truncated: false });
    });
    // Also after settling: a body destroyed here (over the cap) still emits its abort error, which must not go unhandled.
    body.on("error", (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
    // Closed with neither its end nor an error (destroyed without a reason): the answer is incomplete.
    body.on("close", () => {
      if (settled) return;
      settled = true;
      reject(new Error("the answer's stream closed before its end"));
    });
  });
}

function joinText(chunks: Buffer[]): string {
  if (chunks.length === 0) return "";
  return chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
}

/**
 * Whether JSON text nests deeper than `max` levels. Each level needs an opening bracket, so text with at most
 * `max` of them (most answers: a workspace has a few dozen) cannot, and counting them with indexOf is far
 * cheaper than jsonDepth's character-by-character scan.
 */
export function jsonNestsDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  let opening = 0;
  for (let i = text.indexOf("{"); i >= 0 && opening <= max; i = text.indexOf("{", i + 1)) opening++;
  for (let i = text.indexOf("["); i >= 0 && opening <= max; i = text.indexOf("[", i + 1)) opening++;
  return opening > max && jsonDepth(text, max + 1) > max;
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
