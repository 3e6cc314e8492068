// `npm test`: node's test runner over test/*.test.ts, the slowest files first. `node --test` sorts the files
// it is given by name, so with two workers a long file that sorts late can leave one worker running it alone
// at the end; handing the list to run() in this order (longest first) keeps both workers busy to the end.
// Usage: node --import tsx test/suite.ts [--concurrency N] [test/x.test.ts ...]  (the files default to all)
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { run } from "node:test";
import { spec, tap } from "node:test/reporters";
import { fileURLToPath } from "node:url";

const TEST_DIR = fileURLToPath(new URL(".", import.meta.url));

/**
 * The files that take longest in the suite (seconds, from a run on 2 cores), longest first. Files not listed
 * run after these, by name. An outdated entry only costs balance, never a test: every file still runs.
 */
export const SLOWEST = [
  "autostart-realtime.test.ts", // ~145: Coder's real 2-minute autostart minimum, mostly waiting
  "capacity.test.ts", // ~85
  "fault-api.test.ts", // ~57
  "pipeline.test.ts", // ~46
  "report-live.test.ts", // ~43
  "bench-guard.test.ts", // ~42
  "crash.test.ts", // ~40
  "scaleout-local.test.ts", // ~32
  "user-pool.test.ts", // ~28
  "coderd-metrics-input.test.ts", // ~27
  "report-view.test.ts", // ~27
  "dashboard.test.ts", // ~24
  "traffic-scenario.test.ts", // ~23
  "hostile-server.test.ts", // ~20
  "traffic-kinds.test.ts", // ~20
  "pipeline-prepare.test.ts", // ~19
  "pipeline-thresholds.test.ts", // ~19
  "task-status.test.ts", // ~18
  "fault-build.test.ts", // ~18
  "report-compare.test.ts", // ~17
  "prebuilds.test.ts", // ~17
];

/** Every test file, the slowest first, then the rest by name. */
export function orderedTestFiles(dir = TEST_DIR): string[] {
  const all = readdirSync(dir).filter((f) => f.endsWith(".test.ts")).sort();
  const rank = (f: string): number => {
    const i = SLOWEST.indexOf(f);
    return i === -1 ? SLOWEST.length : i;
  };
  return all.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0)).map((f) => join(dir, f));
}

function parseArgs(argv: string[]): { concurrency: number; files: string[] } {
  let concurrency = 2;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--concurrency") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--concurrency must be a whole number of at least 1; got ${argv[i]}`);
      concurrency = n;
    } else if (a.startsWith("-")) {
      throw new Error(`unknown option ${a}; usage: node --import tsx test/suite.ts [--concurrency N] [test/x.test.ts ...]`);
    } else files.push(a);
  }
  return { concurrency, files };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const files = args.files.length ? args.files : orderedTestFiles();
  process.stderr.write(`# ${files.length} test file(s), ${args.concurrency} at a time, first: ${files.slice(0, 3).map((f) => relative(process.cwd(), f)).join(", ")}\n`);
  const stream = run({ files, concurrency: args.concurrency });
  // As `node --test` does: any failure (a todo aside) fails the run.
  stream.on("test:fail", (data: { todo?: string | boolean }) => {
    if (!data.todo) process.exitCode = 1;
  });
  stream.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout);
}
