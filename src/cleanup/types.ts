// Shapes of a cleanup: what to remove, and what happened to each workspace and user.
import type { LogFn } from "../util/log.ts";

export interface CleanupOptions {
  /** Remove this run's resources (prefix scaletest-<runId>-) ... */
  runId?: string;
  /** ... or every scale-test resource (prefix scaletest-). Exactly one of runId / all. */
  all?: boolean;
  /** Only workspaces of this template (name or id), as Coder's cleanup --template; users left with none of the run's other workspaces. */
  template?: string;
  /** Deletions at once; 0 = unlimited. */
  concurrency: number;
  /** Whole cleanup (ms); 0 = none. */
  timeoutMs: number;
  /** One workspace (its delete build) or user, over all its attempts (ms). */
  jobTimeoutMs: number;
  /** Extra attempts after a failed delete (default 2). */
  retries?: number;
  /** Longest poll interval while waiting for delete builds (ms, default 1000). */
  pollMs?: number;
  /** Pause before a retry (ms, default 500; grows linearly per attempt). */
  retryDelayMs?: number;
  /**
   * Key id (the part before the first "-") of the token this cleanup runs with: never deleted here,
   * its holder revokes it when done (the pipeline after its cleanup, the template's shutdown script).
   */
  ownTokenId?: string;
}

export interface CleanupHooks {
  /** Stops starting deletions and ends waits (what is left is reported). */
  signal?: AbortSignal;
  progress?: false | { label?: string; tty?: boolean; intervalMs?: number };
  log?: LogFn;
}

export interface CleanupItem {
  kind: "workspace" | "user" | "template";
  name: string;
  id: string;
  /** Workspace owner (workspaces only). */
  owner: string | null;
  ok: boolean;
  /** It was already gone when we got to it (deleted by someone else meanwhile). */
  already_gone: boolean;
  attempts: number;
  /** Epoch ms. */
  started_at: number;
  duration_ms: number;
  error: string | null;
  logs: string[];
}

export interface CleanupResult {
  /** The name prefix that decided what was deleted. */
  prefix: string;
  run_id: string | null;
  all: boolean;
  started_at: number;
  elapsed_ms: number;
  workspaces: CleanupItem[];
  users: CleanupItem[];
  /** Templates the run created (a load type's trigger or test templates), deleted after the workspaces. */
  templates?: CleanupItem[];
  /** Names still present after cleanup (listed again at the end), e.g. failed deletes. */
  remaining: string[];
  /** Names whose deletion failed after every retry. */
  failed: string[];
  /** The runs' own API tokens (scaletest-runner-<run-id>) removed from the runner's account. */
  tokens_deleted?: string[];
  stopped: "signal" | "timeout" | null;
  exit_code: number;
}
