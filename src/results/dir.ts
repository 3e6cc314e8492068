// The run results directory, plain files only:
//
//   <resultsDir>/
//     LATEST                    text: the id of the most recently opened run + "\n"
//     <runId>/
//       run.json                the run's settings and identity (written by the pipeline)
//       NN-<phase-name>/        one folder per phase, NN = 01, 02, ... in start order
//         result.json           the phase's record (harness JSON + our fields; see summary.ts)
//         summary.txt           human summary (Coder's text format + timing tables)
//         phase.log             the phase's log lines (log.toFile)
//       summary.json            the whole run (see summary.ts RunSummary)
//       report.md, report.html  the human report
//       state/                  read by the template's metadata scripts (format of Coder's lib.sh):
//         status                lines "<ISO ts> <status>", e.g. "2025-01-01T00:00:00.000Z Running"
//         phase                 lines "<ISO ts> START:<n>: <text>" and "<ISO ts> END:<n>: <text>"
import { randomBytes } from "node:crypto";
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { BadInputError } from "../util/errors.ts";
import { isRunId, validateRunId } from "../util/naming.ts";
import { redact, redactDeep } from "../util/redact.ts";
import { lockRunDir } from "./lock.ts";
import { appendNoFollow, inside, realDir, realDirs, SymlinkRefusedError, writeAtomicNoFollow } from "../util/nofollow.ts";
import { tolerateWrite, writeFaults } from "../util/write-faults.ts";

export const RUN_FILE = "run.json";
export const SUMMARY_FILE = "summary.json";
export const REPORT_MD_FILE = "report.md";
export const REPORT_HTML_FILE = "report.html";
export const PHASE_RESULT_FILE = "result.json";
export const PHASE_SUMMARY_FILE = "summary.txt";
export const PHASE_LOG_FILE = "phase.log";
export const STATE_DIR = "state";
export const STATUS_FILE = "state/status";
export const PHASE_FILE = "state/phase";
export const LATEST_FILE = "LATEST";

/** What get_status prints before any status was set. */
export const NOT_STARTED = "Not started";
/** What get_phase / get_previous_phase print when there is none. */
export const NO_PHASE = "None";

const PHASE_NAME_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PHASE_DIR_RE = /^(\d{2,})-([a-z0-9]+(?:-[a-z0-9]+)*)$/;
const PHASE_LINE_RE = /^\S+ (START|END):(\d+): ?(.*)$/;

export interface PhaseDirInfo {
  /** 1-based phase number from the folder name. */
  index: number;
  name: string;
  /** Folder name, e.g. "02-ssh-traffic". */
  dirName: string;
  path: string;
}

export interface ResultsDir {
  /** Absolute path of `<resultsDir>/<runId>`. */
  readonly path: string;
  readonly runId: string;
  /** Absolute path of a file in the run folder (rejects paths escaping it). */
  resolve(rel: string): string;
  /** The folder of phase `name` (creates `NN-name/`; reuses an existing folder of that name). */
  phaseDir(name: string): string;
  /**
   * A new folder for a run of phase `name`: `NN-name/` with the next NN, so a rerun never overwrites an
   * earlier attempt. `attempt` counts the folders of that name (1 for the first).
   */
  newPhaseDir(name: string): { path: string; dirName: string; attempt: number };
  /** Existing phase folders in order. */
  listPhases(): PhaseDirInfo[];
  /** Writes pretty JSON atomically, secrets redacted. */
  writeJSON(rel: string, value: unknown): void;
  /** Writes text atomically, secrets redacted. */
  writeText(rel: string, text: string): void;
  /** Parses a JSON file of the run folder; null if it does not exist. */
  readJSON<T = unknown>(rel: string): T | null;
  exists(rel: string): boolean;
  setStatus(status: string): void;
  getStatus(): string;
  /** Starts phase n = (number of START lines)+1; returns n. */
  startPhase(text: string): number;
  /** Ends the current phase (text defaults to its START text); throws if no phase is open. */
  endPhase(text?: string): number;
  getPhase(): string;
  getPreviousPhase(): string;
  /** Releases the run folder's lock (also released at process exit). */
  close(): void;
}

/**
 * Throws a clear error unless `dir` exists or can be created, is a real folder (not a symlink: results are
 * never written through one), and a file can be written in it.
 */
export function checkWritable(dir: string): void {
  const abs = resolve(dir);
  try {
    mkdirSync(dirname(abs), { recursive: true });
    realDir(abs);
    const probe = join(abs, `.write-test-${process.pid}-${randomBytes(4).toString("hex")}`);
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
    rmSync(probe, { force: true });
  } catch (err) {
    if (err instanceof SymlinkRefusedError) {
      throw new BadInputError(`results directory ${err.message}; choose another with SCALETEST_RESULTS_DIR / --results-dir`);
    }
    const code = (err as NodeJS.ErrnoException).code;
    throw new BadInputError(
      `results directory ${abs} is not writable${code ? ` (${code})` : ""}: ` +
        `choose another with SCALETEST_RESULTS_DIR / --results-dir, or fix its permissions`,
    );
  }
}

/** True if `path` is a regular file (a symlink is not: its target is none of the run's business). */
function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

function readLines(file: string): string[] {
  if (!isRegularFile(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
}

function now(): string {
  return new Date().toISOString();
}

/** Current status from `<runDir>/state/status` (last line minus timestamp), "Not started" if none. */
export function readStatus(runDir: string): string {
  const last = readLines(join(runDir, STATUS_FILE)).at(-1);
  if (last === undefined) return NOT_STARTED;
  const sp = last.indexOf(" ");
  return sp < 0 ? NOT_STARTED : last.slice(sp + 1);
}

interface PhaseLine {
  kind: "START" | "END";
  n: number;
  text: string;
}

function readPhaseLines(runDir: string): PhaseLine[] {
  const out: PhaseLine[] = [];
  for (const l of readLines(join(runDir, PHASE_FILE))) {
    const m = PHASE_LINE_RE.exec(l);
    if (m) out.push({ kind: m[1] as "START" | "END", n: Number(m[2]), text: m[3] ?? "" });
  }
  return out;
}

/** Current phase text, with " [done]" after its END; "None" if no phase started. */
export function readPhase(runDir: string): string {
  const last = readPhaseLines(runDir).at(-1);
  if (!last) return NO_PHASE;
  return last.kind === "END" ? `${last.text} [done]` : last.text;
}

/** Text of the phase started before the current one; "None" if there is none. */
export function readPreviousPhase(runDir: string): string {
  const starts = readPhaseLines(runDir).filter((l) => l.kind === "START");
  return starts.at(-2)?.text ?? NO_PHASE;
}

/** The run folder named in `<resultsDir>/LATEST`, or null. */
export function latestRunDir(resultsDir: string): string | null {
  const file = join(resultsDir, LATEST_FILE);
  if (!isRegularFile(file)) return null;
  const id = readFileSync(file, "utf8").trim();
  if (!isRunId(id)) return null;
  const dir = join(resolve(resultsDir), id);
  try {
    return lstatSync(dir).isDirectory() ? dir : null;
  } catch {
    return null;
  }
}

function oneLine(text: string, what: string): string {
  if (/[\r\n]/.test(text)) throw new Error(`${what} must be a single line, got ${JSON.stringify(text)}`);
  return redact(text);
}

/** A folder named explicitly (not a run id), e.g. `cleanup-all-20250101-120000`. */
const FOLDER_RE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export interface OpenResultsOptions {
  /** Folder name under resultsDir instead of the run id (such a folder never becomes LATEST). */
  folder?: string;
}

/**
 * Opens (creating if needed) `<resultsDir>/<runId>/` and its `state/` folder, locks it for this process
 * (a second run with the same id is refused) and records it in LATEST. Every failure here is bad input,
 * before anything is created. Once open, a write that fails (a full disk) is counted (write-faults.ts),
 * never thrown: the run must still clean up.
 */
export function openResultsDir(resultsDir: string, runId: string, opts: OpenResultsOptions = {}): ResultsDir {
  validateRunId(runId);
  if (opts.folder !== undefined && (!FOLDER_RE.test(opts.folder) || opts.folder.length > 64)) {
    throw new Error(`invalid results folder name ${JSON.stringify(opts.folder)}: use lowercase letters, digits and single hyphens`);
  }
  checkWritable(resultsDir);
  const base = resolve(resultsDir);
  const root = resolve(base, opts.folder ?? runId);
  let unlock: () => void;
  try {
    realDir(root);
    unlock = lockRunDir(root, runId);
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    throw new BadInputError(`cannot open the run's results folder: ${(e as Error).message}`);
  }
  try {
    realDirs(root, join(root, STATE_DIR));
    if (opts.folder === undefined) writeAtomicNoFollow(join(base, LATEST_FILE), runId + "\n");
  } catch (e) {
    unlock();
    const code = (e as NodeJS.ErrnoException).code;
    throw new BadInputError(`cannot write the run's results folder ${root}${code ? ` (${code})` : ""}: ${(e as Error).message}`);
  }

  const resolveRel = (rel: string): string => inside(root, rel);

  const listPhases = (): PhaseDirInfo[] =>
    readdirSync(root)
      .map((d) => ({ d, m: PHASE_DIR_RE.exec(d) }))
      .filter(({ d, m }) => m !== null && isRealDir(join(root, d)))
      .map(({ d, m }) => ({ index: Number(m![1]), name: m![2]!, dirName: d, path: join(root, d) }))
      .sort((a, b) => a.index - b.index || a.dirName.localeCompare(b.dirName));

  const makeDir = (dir: string): void => tolerateWrite(dir, () => realDirs(root, dir), undefined);
  const writeFile = (file: string, data: () => string): void =>
    tolerateWrite(file, () => {
      realDirs(root, dirname(file));
      writeAtomicNoFollow(file, data());
    }, undefined);
  const append = (rel: string, line: () => string): void =>
    tolerateWrite(join(root, rel), () => {
      realDirs(root, join(root, STATE_DIR));
      appendNoFollow(join(root, rel), line());
    }, undefined);

  return {
    path: root,
    runId,
    resolve: resolveRel,
    phaseDir(name) {
      if (!PHASE_NAME_RE.test(name)) {
        throw new Error(`invalid phase name ${JSON.stringify(name)}: use lowercase letters, digits and single hyphens`);
      }
      const phases = listPhases();
      const existing = phases.find((p) => p.name === name);
      if (existing) return existing.path;
      const next = Math.max(0, ...phases.map((p) => p.index)) + 1;
      const dir = join(root, `${String(next).padStart(2, "0")}-${name}`);
      makeDir(dir);
      return dir;
    },
    newPhaseDir(name) {
      if (!PHASE_NAME_RE.test(name)) {
        throw new Error(`invalid phase name ${JSON.stringify(name)}: use lowercase letters, digits and single hyphens`);
      }
      const phases = listPhases();
      const next = Math.max(0, ...phases.map((p) => p.index)) + 1;
      const dirName = `${String(next).padStart(2, "0")}-${name}`;
      makeDir(join(root, dirName));
      return { path: join(root, dirName), dirName, attempt: phases.filter((p) => p.name === name).length + 1 };
    },
    listPhases,
    writeJSON(rel, value) {
      writeFile(resolveRel(rel), () => JSON.stringify(redactDeep(value), null, 2) + "\n");
    },
    writeText(rel, text) {
      writeFile(resolveRel(rel), () => redact(text));
    },
    readJSON<T>(rel: string): T | null {
      const file = resolveRel(rel);
      if (!isRegularFile(file)) return null;
      try {
        return JSON.parse(readFileSync(file, "utf8")) as T;
      } catch (err) {
        throw new Error(`${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}); it may be from an interrupted older version`);
      }
    },
    exists(rel) {
      return existsSync(resolveRel(rel));
    },
    setStatus(status) {
      const line = `${now()} ${oneLine(status, "status")}\n`;
      append(STATUS_FILE, () => line);
    },
    getStatus: () => readStatus(root),
    startPhase(text) {
      const lines = readPhaseLines(root);
      const n = lines.filter((l) => l.kind === "START").length + 1;
      const line = `${now()} START:${n}: ${oneLine(text, "phase text")}\n`;
      append(PHASE_FILE, () => line);
      return n;
    },
    endPhase(text) {
      const last = readPhaseLines(root).at(-1);
      if (!last || last.kind !== "START") {
        // Its START line could not be written (counted already): nothing to end.
        if (writeFaults().count > 0) return 0;
        throw new Error(`BUG: endPhase called with no phase in progress (last phase line: ${last ? `${last.kind}:${last.n}` : "none"})`);
      }
      const line = `${now()} END:${last.n}: ${oneLine(text ?? last.text, "phase text")}\n`;
      append(PHASE_FILE, () => line);
      return last.n;
    },
    getPhase: () => readPhase(root),
    getPreviousPhase: () => readPreviousPhase(root),
    close: unlock,
  };
}

function isRealDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}
