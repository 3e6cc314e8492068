/**
 * Runs the shards of a traffic phase as child processes on this machine: the same entry point
 * (shard-main.ts), flags, env and results layout as the pods of a Kubernetes Job, without a cluster.
 * Useful for tests, for demos, and for spreading load over the cores of one big runner.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { timerDelay } from "../util/abort.ts";
import { shardResultPath, shardStatusPath, shardWorkDir } from "./paths.ts";
import type { ShardExecutor, ShardOutcome, ShardRunSpec } from "./types.ts";

/** The project root (src/scaleout/ -> ../..), where scenarios/ and node_modules/ are. */
export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface LocalExecutorOptions {
  /** Project folder holding scenarios/ and src/ (default: this checkout). */
  projectDir?: string;
  /**
   * Metrics endpoint of each shard process. Default "" (none): N processes cannot share one port; the
   * runner's own endpoint does not see the children's series.
   */
  metricsAddress?: string;
  /** After SIGTERM (timeout/abort), how long a shard gets to write its partial result before SIGKILL. */
  killGraceMs?: number;
  /** Where the shards' stdout/stderr go (default: inherited, i.e. this process's output). */
  stdio?: "inherit" | "ignore";
}

/** The argv that starts shard `index` (exported for the Kubernetes manifest builder's tests and docs). */
export function shardArgs(spec: ShardRunSpec, index: number, result: string): string[] {
  return [
    "--script",
    join("scenarios", `${spec.script}.ts`),
    "--result",
    result,
    "--",
    "--shard",
    `${index}/${spec.runners}`,
    "--run-id",
    spec.runId,
    "--results-dir",
    shardWorkDir(spec.resultsDir, spec.runId, spec.phase, index),
    ...(spec.scriptArgs ?? []),
  ];
}

export class LocalExecutor implements ShardExecutor {
  readonly name = "local";
  private readonly projectDir: string;

  constructor(private readonly opts: LocalExecutorOptions = {}) {
    this.projectDir = opts.projectDir ?? PROJECT_DIR;
  }

  async runShards(spec: ShardRunSpec): Promise<ShardOutcome[]> {
    if (!Number.isInteger(spec.runners) || spec.runners < 1) throw new Error(`runners must be a positive integer (got ${spec.runners})`);
    const resultsDir = resolve(spec.resultsDir);
    const s = { ...spec, resultsDir };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...spec.env,
      ...spec.secretEnv,
    };
    // A flag, not env: an empty env var means "unset" (the default port, which N processes cannot share).
    const metricsArgs = ["--metrics-address", this.opts.metricsAddress ?? ""];
    const children: ChildProcess[] = [];
    let stoppedAs: "timeout" | "aborted" | undefined;
    const stopAll = (why: "timeout" | "aborted") => {
      stoppedAs ??= why;
      for (const c of children) {
        if (c.exitCode !== null || c.signalCode !== null) continue;
        c.kill("SIGTERM");
        setTimeout(() => c.exitCode === null && c.signalCode === null && c.kill("SIGKILL"), this.opts.killGraceMs ?? 10_000).unref();
      }
    };
    const timer = setTimeout(() => stopAll("timeout"), timerDelay(spec.timeoutMs));
    const onAbort = () => stopAll("aborted");
    spec.signal?.addEventListener("abort", onAbort, { once: true });

    try {
      const runs = Array.from({ length: spec.runners }, (_, index) => {
        const file = shardResultPath(resultsDir, spec.runId, spec.phase, index);
        const child = spawn(process.execPath, ["--import", join(this.projectDir, "src", "boot", "register.mjs"), join("src", "scaleout", "shard-main.ts"), ...shardArgs(s, index, file), ...metricsArgs], {
          cwd: this.projectDir,
          env,
          stdio: ["ignore", this.opts.stdio ?? "inherit", this.opts.stdio ?? "inherit"],
        });
        children.push(child);
        return new Promise<ShardOutcome>((res) => {
          const done = (code: number | null, message?: string) => res(this.outcome(spec, index, file, code, stoppedAs, message));
          child.on("error", (e) => done(null, `cannot start shard: ${e.message}`));
          child.on("exit", (code, signal) => done(code, signal ? `killed by ${signal}` : undefined));
        });
      });
      if (spec.signal?.aborted) onAbort();
      return await Promise.all(runs);
    } finally {
      clearTimeout(timer);
      spec.signal?.removeEventListener("abort", onAbort);
    }
  }

  private outcome(
    spec: ShardRunSpec,
    index: number,
    file: string,
    code: number | null,
    stoppedAs: "timeout" | "aborted" | undefined,
    message: string | undefined,
  ): ShardOutcome {
    const shard = `${index}/${spec.runners}`;
    if (code === 0 && existsSync(file)) {
      let status: { exitCode?: number } = {};
      try {
        status = JSON.parse(readFileSync(shardStatusPath(file), "utf8")) as { exitCode?: number };
      } catch {
        // No status file: the result is still good; the script's exit status is unknown.
      }
      try {
        const output: unknown = JSON.parse(readFileSync(file, "utf8"));
        return { index, shard, state: "succeeded", exitCode: status.exitCode ?? null, output, source: file };
      } catch (e) {
        return { index, shard, state: "failed", exitCode: status.exitCode ?? null, message: `result ${file} is not JSON: ${(e as Error).message}` };
      }
    }
    const why = message ?? (code === 2 ? "bad settings (exit 2): see the shard's output above" : `exited with status ${code} without a result`);
    return { index, shard, state: stoppedAs ?? "failed", exitCode: code, message: stoppedAs === "timeout" ? `still running after ${spec.timeoutMs} ms; stopped (${why})` : why };
  }

  async cleanup(): Promise<string[]> {
    // Child processes are gone when runShards returns; results files are kept on purpose.
    return [];
  }
}
