// Atomic file writes: readers (the report, metadata scripts, a person with `cat`) never see a
// half-written file, even if the run is killed mid-write.
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile, open } from "node:fs/promises";
import { constants, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeAtomicNoFollow } from "../util/nofollow.ts";

// The temp file is created exclusively and never through a symlink; the rename replaces a link at `path`
// rather than writing through it.
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/** Writes `data` to a temp file beside `path`, flushes it, then renames it over `path`. Creates parent folders. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPath(path);
  try {
    await writeFile(tmp, data, { encoding: "utf8", flag: TEMP_FLAGS });
    const fh = await open(tmp, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Synchronous writeFileAtomic, for exit paths where awaiting is not possible. */
export function writeFileAtomicSync(path: string, data: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeAtomicNoFollow(path, data);
}
