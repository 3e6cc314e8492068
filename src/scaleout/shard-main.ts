#!/usr/bin/env -S npx tsx
/**
 * Entry point of one shard (a local child process or a pod of the Indexed Job):
 *
 *   tsx src/scaleout/shard-main.ts --script scenarios/web-terminal-traffic.ts --result <file|log> -- <script flags>
 *
 * Runs the scenario script with `--output json:<file>`, then
 *  - `--result <file>`: leaves the JSON there and writes `<file minus .json>.status.json` ({shard, exitCode});
 *  - `--result log`: prints the JSON, framed (shard-log.ts), on stdout for the runner to read from the pod log.
 *
 * Exit status: 0 whenever the script produced its result, even when the script's own verdict failed (exit 1):
 * the verdict travels with the result, and a failed verdict must not make Kubernetes retry the shard.
 * 2 = bad settings (the Job's podFailurePolicy fails the whole Job at once: every shard has the same settings).
 * Anything else = the shard crashed without a result (Kubernetes retries it within backoffLimit).
 */
import { spawn } from "node:child_process";
import { startEnv } from "../util/loader-env.ts";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { writeFileAtomicSync } from "../results/atomic.ts";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { mkdirSync } from "node:fs";
import { constants } from "node:os";
import { Command } from "commander";
import { shardStatusPath } from "./paths.ts";
import { encodeShardLog } from "./shard-log.ts";

interface Args {
  script: string;
  result: string;
  rest: string[];
}

function parseArgs(argv: string[]): Args {
  const cmd = new Command("shard-main.ts")
    .description("Runs one shard of a traffic scenario and hands its result to the runner.")
    .requiredOption("--script <scenario.ts>", "the scenario script to run")
    .requiredOption("--result <file|log>", "where the result goes: a file, or framed on stdout (log)")
    .argument("[flags...]", "the script's own flags, after --")
    .passThroughOptions()
    .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2))
    .parse(argv, { from: "user" });
  const o = cmd.opts<{ script: string; result: string }>();
  return { script: o.script, result: o.result, rest: cmd.args };
}

/** The value of `--shard` among the script flags ("0/1" when absent). */
function shardOf(flags: string[]): string {
  const i = flags.indexOf("--shard");
  return (i >= 0 ? flags[i + 1] : undefined) ?? process.env.SCALETEST_SHARD ?? "0/1";
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const toLog = args.result === "log";
  const scratch = toLog ? mkdtempSync(join(tmpdir(), "scaletest-shard-")) : undefined;
  const file = scratch ? join(scratch, "result.json") : args.result;
  if (!toLog) {
    mkdirSync(dirname(file), { recursive: true });
    // A retried pod must not hand back the previous attempt's result.
    rmSync(file, { force: true });
  }
  const child = spawn(process.execPath, [...process.execArgv, args.script, ...args.rest, "--output", `json:${file}`], {
    stdio: "inherit",
    // The scenario needs the token (its own register.mjs, in execArgv, takes it out of the environment again).
    env: startEnv(),
  });
  // Pod termination / Ctrl+C: let the script stop gracefully and still write its partial result.
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on("SIGTERM", forward);
  process.on("SIGINT", forward);
  const exitCode = await new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    child.on("error", (e) => {
      process.stderr.write(`shard-main: cannot start ${args.script}: ${e.message}\n`);
      resolve(1);
    });
  });
  const shard = shardOf(args.rest);
  if (!existsSync(file)) {
    process.stderr.write(`shard-main: shard ${shard} ended (exit ${exitCode}) without a result\n`);
    return exitCode === 0 ? 1 : exitCode;
  }
  if (toLog) {
    const output: unknown = JSON.parse(readFileSync(file, "utf8"));
    await new Promise<void>((res) => process.stdout.write(encodeShardLog({ shard, exitCode, output }), () => res()));
    rmSync(scratch!, { recursive: true, force: true });
  } else {
    writeFileAtomicSync(shardStatusPath(file), JSON.stringify({ shard, exitCode }) + "\n");
  }
  return 0;
}

process.exitCode = await main();
