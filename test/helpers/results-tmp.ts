// Shared helpers for the results/util tests: temp folders and captured output streams.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";

/** A fresh temp folder removed by the returned cleanup function. */
export function tempDir(prefix = "scaletest-results-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A writable stream that keeps everything written to it. */
export class CaptureStream extends Writable {
  chunks: string[] = [];
  isTTY = false;
  columns = 120;
  rows = 40;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  text(): string {
    return this.chunks.join("");
  }
}
