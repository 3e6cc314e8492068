// One run per run folder: `<run folder>/.lock`, created exclusively, names the process that holds it and
// is touched every few seconds while it does. A second run with the same id is refused (bad input, before
// anything is created); a lock whose process is gone (same host) or that nobody touched for a minute (a
// crashed or moved runner) is taken over. Released on close and at process exit.
import { closeSync, constants, readFileSync, rmSync, utimesSync, writeSync, openSync, lstatSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { BadInputError } from "../util/errors.ts";
import { SymlinkRefusedError } from "../util/nofollow.ts";

export const LOCK_FILE = ".lock";
/** How often the holder touches the lock. */
const HEARTBEAT_MS = 5_000;
/** A lock untouched this long belongs to a runner that is gone. */
export const STALE_MS = 60_000;

interface Holder {
  pid: number;
  host: string;
  started: string;
}

// Locks this process holds, by file: re-opening a run folder in the same process (tests, report refresh) is no second run.
const held = new Map<string, { count: number; timer: NodeJS.Timeout }>();
let exitHook = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(file: string): { holder: Holder | null; ageMs: number } | null {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return null; // released meanwhile
  }
  if (st.isSymbolicLink() || !st.isFile()) throw new SymlinkRefusedError(file, "not a regular lock file");
  let holder: Holder | null = null;
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as Partial<Holder>;
    if (typeof v.pid === "number" && typeof v.host === "string") holder = { pid: v.pid, host: v.host, started: String(v.started ?? "") };
  } catch {
    // Half-written by a holder that died at once: judged by its age alone.
  }
  return { holder, ageMs: Date.now() - st.mtimeMs };
}

function isStale(h: { holder: Holder | null; ageMs: number }): boolean {
  if (h.ageMs > STALE_MS) return true;
  return h.holder !== null && h.holder.host === hostname() && !alive(h.holder.pid);
}

function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + "\n");
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Locks the run folder `runDir` for run `runId`; returns the release function. Throws BadInputError when
 * another live process holds it.
 */
export function lockRunDir(runDir: string, runId: string): () => void {
  const file = join(runDir, LOCK_FILE);
  const mine = held.get(file);
  if (mine) {
    mine.count++;
    return once(() => release(file));
  }
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(file)) break;
    const h = readHolder(file);
    if (h === null) continue;
    if (h.holder?.pid === process.pid && h.holder.host === hostname()) break; // left by this process (held map lost): ours
    if (attempt === 0 && isStale(h)) {
      rmSync(file, { force: true });
      continue;
    }
    const who = h.holder ? `process ${h.holder.pid} on ${h.holder.host} (started ${h.holder.started})` : "another process";
    throw new BadInputError(
      `run ${runId} is already in progress: ${who} holds ${file}. Wait for it to end or choose another --run-id; ` +
        `if no such run is going on any more, delete that file`,
    );
  }
  const timer = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(file, now, now);
    } catch {
      // Removed under us or the disk is gone: the run goes on; the next run judges the lock by its age.
    }
  }, HEARTBEAT_MS);
  timer.unref();
  held.set(file, { count: 1, timer });
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const f of [...held.keys()]) release(f, true);
    });
  }
  return once(() => release(file));
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

function release(file: string, all = false): void {
  const h = held.get(file);
  if (!h) return;
  if (!all && --h.count > 0) return;
  clearInterval(h.timer);
  held.delete(file);
  try {
    const cur = readHolder(file);
    if (cur?.holder?.pid === process.pid && cur.holder.host === hostname()) rmSync(file, { force: true });
  } catch {
    // Not ours any more (or not a file): leave it.
  }
}
