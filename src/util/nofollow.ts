// Writing the results folder without following symlinks: a symlinked run folder, phase folder, state file,
// log or LATEST must not carry the run's files (or appends) somewhere else. Every folder from the results
// root down is checked with lstat (and created one level at a time, never `recursive`, which follows
// links); files are opened with O_NOFOLLOW, temp files also with O_EXCL; a rename replaces a symlink at
// the destination rather than writing through it. Node has no openat(), so a link swapped in between the
// check and the write by someone who can already write the folder is out of reach; nothing is followed
// that was there before.
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW } = constants;

/** A results path that is a symlink (or not what it should be): never written through. */
export class SymlinkRefusedError extends Error {
  constructor(readonly path: string, what: string) {
    super(`${path} is ${what}: results are never written through a symlink; remove it (or point the results directory at a real folder)`);
    this.name = "SymlinkRefusedError";
  }
}

function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Throws unless `path` is a real folder; creates it (one level) when missing and `create`. */
export function realDir(path: string, create = true): void {
  let st = lstatOrNull(path);
  if (!st && create) {
    try {
      mkdirSync(path, { mode: 0o755 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    st = lstatOrNull(path);
  }
  if (!st) throw Object.assign(new Error(`${path} does not exist`), { code: "ENOENT" });
  if (st.isSymbolicLink()) throw new SymlinkRefusedError(path, "a symlink");
  if (!st.isDirectory()) throw new SymlinkRefusedError(path, "not a folder");
}

/** Every folder from `root` (which must be a real folder) down to `dir`, each real, missing ones created. */
export function realDirs(root: string, dir: string): void {
  const rel = relative(root, dir);
  if (rel.startsWith("..") || isAbsolute(rel)) throw new Error(`${dir} is outside ${root}`);
  realDir(root, false);
  let cur = root;
  for (const part of rel.split(sep).filter(Boolean)) {
    cur = join(cur, part);
    realDir(cur);
  }
}

/** Throws if `file` exists as anything but a regular file (a symlink above all). */
export function refuseNonFile(file: string): void {
  const st = lstatOrNull(file);
  if (st && st.isSymbolicLink()) throw new SymlinkRefusedError(file, "a symlink");
  if (st && !st.isFile()) throw new SymlinkRefusedError(file, "not a regular file");
}

function openNoFollow(file: string, flags: number): number {
  try {
    return openSync(file, flags | O_NOFOLLOW, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") throw new SymlinkRefusedError(file, "a symlink");
    throw e;
  }
}

function writeAll(fd: number, data: string): void {
  const buf = Buffer.from(data, "utf8");
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** Appends `text` to `file` (created if missing), never through a symlink. */
export function appendNoFollow(file: string, text: string): void {
  const fd = openNoFollow(file, O_WRONLY | O_APPEND | O_CREAT);
  try {
    writeAll(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** An append-only file descriptor (a log), never through a symlink. */
export function openAppendNoFollow(file: string): number {
  return openNoFollow(file, O_WRONLY | O_APPEND | O_CREAT);
}

/** A fresh temp file beside `path`, created exclusively (never an existing file or link). */
function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/** Writes `data` to a new temp file beside `path`, flushes it, renames it over `path` (replacing a link, never following it). */
export function writeAtomicNoFollow(path: string, data: string): void {
  const tmp = tempPath(path);
  try {
    const fd = openNoFollow(tmp, O_WRONLY | O_CREAT | O_EXCL);
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** `resolve(root, rel)`, refusing anything outside `root`. */
export function inside(root: string, rel: string): string {
  const abs = resolve(root, rel);
  const r = relative(root, abs);
  if (r === "" || r.startsWith("..") || isAbsolute(r)) throw new Error(`path ${JSON.stringify(rel)} is outside the run's results folder ${root}`);
  return abs;
}
