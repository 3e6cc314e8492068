/**
 * The contract between a traffic phase and whatever runs its shards: N processes (local children) or N pods
 * (a Kubernetes Indexed Job), each running one traffic scenario script with `--shard i/N`.
 *
 * An executor only starts shards, waits for them and hands back what each one produced (the scenario
 * script's JSON output, i.e. its phase record). Parsing and merging happen once, in merge.ts, so both
 * executors are merged the same way.
 */

/** The traffic scenario scripts that can be sharded (scenarios/<script>.ts). */
export type ShardScript = "ssh-traffic" | "web-terminal-traffic" | "app-traffic";

export interface ShardRunSpec {
  script: ShardScript;
  /** Number of shards (>= 1). */
  runners: number;
  runId: string;
  /** Folder of the phase inside the run folder (`<resultsDir>/<runId>/<phase>/`); usually the script name. */
  phase: string;
  /** The run's results root (`--results-dir`). Shard results go to `<resultsDir>/<runId>/<phase>/shards/<i>.json`. */
  resultsDir: string;
  /** Extra flags for every shard (e.g. `--target-workspaces 0:300 --web-terminal-percentage 100`). */
  scriptArgs?: readonly string[];
  /** Settings as environment variables (see shardEnv()); never secrets. */
  env?: Readonly<Record<string, string>>;
  /** Secret settings (the session token): passed through a Kubernetes Secret, never a manifest or argv. */
  secretEnv?: Readonly<Record<string, string>>;
  /** Upper bound for the whole fan-out (start to last shard done); shards still running are stopped. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * - "succeeded": the shard produced its result (its own verdict, pass or fail, is inside it; see exitCode).
 * - "failed": it ended without a result (crash, bad settings, pod failed after its retries).
 * - "timeout": still running at the deadline; stopped.
 * - "aborted": the phase was stopped (signal) before it produced a result.
 */
export type ShardState = "succeeded" | "failed" | "timeout" | "aborted";

export interface ShardOutcome {
  index: number;
  /** "i/n" */
  shard: string;
  state: ShardState;
  /** The scenario script's exit status (1 = its thresholds failed or it was interrupted); null if unknown. */
  exitCode: number | null;
  /** Why a shard has no result, for the phase log and report. */
  message?: string;
  /** The script's JSON output (its phase record, with the engine result under extra.traffic), when produced. */
  output?: unknown;
  /** Where the output was read from (file path, or pod name for log collection). */
  source?: string;
}

export interface ShardExecutor {
  /** "local" | "kubernetes" (for logs and the report). */
  readonly name: string;
  /** Starts `spec.runners` shards, waits for all (bounded by spec.timeoutMs / spec.signal) and reports each. */
  runShards(spec: ShardRunSpec): Promise<ShardOutcome[]>;
  /** Removes whatever the executor created for a run (Kubernetes Jobs and Secrets); no-op when nothing exists. */
  cleanup(runId: string): Promise<string[]>;
}
