// Run ids and the names of everything the product creates in Coder.
//
// Every user and workspace is named `scaletest-<runId>-<index>` so cleanup can find a run's
// resources by the prefix `scaletest-<runId>-` (or all of them by `scaletest-`) after any crash,
// and nothing else is ever touched. The index is zero-padded (>= 4 digits) so that alphabetical
// order, which is how Coder lists and how `--target-workspaces` ranges count, equals numeric order.
import { randomInt } from "node:crypto";

/** Prefix shared by every resource any run creates. */
export const ALL_PREFIX = "scaletest-";

/** Minimum zero-padding of resource indexes. */
export const MIN_INDEX_WIDTH = 4;

/** Coder limits usernames and workspace names to 32 characters. */
export const MAX_NAME_LENGTH = 32;

const RUN_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** The run id pattern, written once: 1-8 characters of [a-z0-9]. */
const RUN_ID = "[a-z0-9]{1,8}";
const RUN_ID_RE = new RegExp(`^${RUN_ID}$`);
// Coder's username/workspace name rule: letters, digits and single inner hyphens.
const CODER_NAME_RE = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const RESOURCE_NAME_RE = new RegExp(`^scaletest-(${RUN_ID})-([0-9]+)$`);

/** A fresh random run id: 6 characters of [a-z0-9] from a cryptographic source. */
export function newRunId(): string {
  let id = "";
  for (let i = 0; i < 6; i++) id += RUN_ID_ALPHABET[randomInt(RUN_ID_ALPHABET.length)];
  return id;
}

/** True for a well-formed run id (1-8 characters of [a-z0-9]): the one definition of the pattern. */
export function isRunId(id: unknown): id is string {
  return typeof id === "string" && RUN_ID_RE.test(id);
}

/** Throws a clear error unless `id` is 1–8 characters of [a-z0-9]; returns it otherwise. */
export function validateRunId(id: string): string {
  if (!isRunId(id)) {
    throw new Error(
      `invalid run id ${JSON.stringify(id)}: use 1-8 lowercase letters or digits ([a-z0-9]{1,8}), e.g. "k3x9q2"`,
    );
  }
  return id;
}

/** Zero-padding width that keeps `count` indexes (0..count-1) in alphabetical order (>= 4). */
export function indexWidth(count: number): number {
  const largest = Math.max(0, Math.floor(count) - 1);
  return Math.max(MIN_INDEX_WIDTH, String(largest).length);
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new Error(`invalid resource index ${index}: must be a non-negative integer`);
  }
}

function padIndex(index: number, width?: number): string {
  checkIndex(index);
  return String(index).padStart(Math.max(MIN_INDEX_WIDTH, width ?? MIN_INDEX_WIDTH), "0");
}

/** Throws unless `name` is a valid Coder username / workspace name (<= 32 chars, [a-zA-Z0-9-], no edge or double hyphens). */
export function assertCoderName(name: string): string {
  if (name.length > MAX_NAME_LENGTH || !CODER_NAME_RE.test(name)) {
    throw new Error(
      `name ${JSON.stringify(name)} is not a valid Coder username/workspace name: ` +
        `at most ${MAX_NAME_LENGTH} characters of [a-zA-Z0-9-] with no leading, trailing or double hyphen ` +
        `(use a shorter run id or fewer digits)`,
    );
  }
  return name;
}

/** `scaletest-<runId>-<index zero-padded to max(4, width)>`, checked against Coder's name rules. */
export function resourceName(runId: string, index: number, width?: number): string {
  validateRunId(runId);
  return assertCoderName(`${ALL_PREFIX}${runId}-${padIndex(index, width)}`);
}

/** Email for the user named resourceName(runId, index, width): `<runId>-<index>@scaletest.local` (Coder's convention). */
export function scaletestEmail(runId: string, index: number, width?: number): string {
  validateRunId(runId);
  return `${runId}-${padIndex(index, width)}@scaletest.local`;
}

/** `scaletest-<runId>-`: the prefix cleanup uses to find one run's resources. */
export function runPrefix(runId: string): string {
  validateRunId(runId);
  return `${ALL_PREFIX}${runId}-`;
}

/** True for any name created by some scale-test run (starts with `scaletest-`). */
export function isScaletestName(name: string): boolean {
  return name.startsWith(ALL_PREFIX);
}

/** Splits `scaletest-<runId>-<digits>` into its parts; null for anything else. */
export function parseResourceName(name: string): { runId: string; index: number } | null {
  const m = RESOURCE_NAME_RE.exec(name);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  const index = Number(m[2]);
  if (!Number.isSafeInteger(index)) return null;
  return { runId: m[1], index };
}

/** True only for names exactly of the form `scaletest-<runId>-<digits>` for this run id (strict: safe for deletion). */
export function belongsToRun(name: string, runId: string): boolean {
  return parseResourceName(name)?.runId === runId;
}

/** Domain of every scale-test user's email (Coder's own scaletest convention). */
export const SCALETEST_EMAIL_DOMAIN = "scaletest.local";

/**
 * The email a scale-test user named `username` was created with (`<runId>-<index>@scaletest.local`,
 * the name without `scaletest-`); null when the name is not a scale-test resource name.
 */
export function expectedScaletestEmail(username: string): string | null {
  if (!parseResourceName(username)) return null;
  return `${username.slice(ALL_PREFIX.length)}@${SCALETEST_EMAIL_DOMAIN}`;
}
