// The repository stands alone: no tracked file refers to the sibling shared/ folder, to an absolute path
// into a checkout on some machine, or to a path that climbs out of the repository from the file's own
// location; lockfiles download only from the npm registry; every file with a `#!` line is executable.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, posix, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

function git(args: string[]): string {
  return execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
}

/** Tracked files (not deleted in the work tree) as [mode, repo-relative path]. */
function trackedFiles(): [string, string][] {
  const deleted = new Set(git(["ls-files", "-z", "--deleted"]).split("\0"));
  return git(["ls-files", "-z", "-s"])
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf("\t");
      return [line.slice(0, line.indexOf(" ")), line.slice(tab + 1)] as [string, string];
    })
    .filter(([, f]) => !deleted.has(f));
}

// Paths under which checkouts live on developer and CI machines. /home/coder is the workspace user's home
// inside the template's image (a path in that container, not a checkout), so it is allowed.
const CHECKOUT_ROOTS = /(?<![\w.~/$-])(?:\/(?:work|Users|mnt|root)\/|\/home\/(?!coder\b)[\w.-]+\/|[A-Za-z]:\\\\?Users\\)/;
const SHARED = /\.\.\/shared\b|\bshared\/reference\b/;
// A line that builds a path from the file's own location (module specifiers, import.meta, __dirname).
const SELF_RELATIVE = /\bfrom\s*["'`]|\bimport\s*\(|\brequire(?:\.resolve)?\s*\(|import\.meta|__dirname|__filename/;
const RELATIVE_LITERAL = /["'`](\.{1,2}(?:\/[^"'`\s]*)?)["'`]/g;

/**
 * Problems in one file's text; `file` is repo-relative. `extraRoots` are more absolute prefixes that must
 * not appear (this checkout's own path).
 */
export function pathProblems(file: string, text: string, extraRoots: readonly string[] = []): string[] {
  const problems: string[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (i === 0 && line.startsWith("#!")) return; // the interpreter, not a path the project reads
    const at = `${file}:${i + 1}`;
    if (SHARED.test(line)) problems.push(`${at}: refers to the sibling shared/ folder: ${line.trim()}`);
    const abs = CHECKOUT_ROOTS.exec(line);
    if (abs) problems.push(`${at}: absolute path into a checkout (${abs[0]}): ${line.trim()}`);
    for (const r of extraRoots) {
      if (line.includes(r)) problems.push(`${at}: absolute path of this checkout (${r}; breaks in any other clone): ${line.trim()}`);
    }
    if (SELF_RELATIVE.test(line)) {
      for (const m of line.matchAll(RELATIVE_LITERAL)) {
        const target = posix.normalize(posix.join(posix.dirname(file), m[1]!));
        if (target === ".." || target.startsWith("../")) {
          problems.push(`${at}: "${m[1]}" leaves the repository (resolves to ${target}): ${line.trim()}`);
        }
      }
    }
  });
  return problems;
}


const isGitCheckout = (() => {
  try {
    return git(["rev-parse", "--is-inside-work-tree"]).trim() === "true";
  } catch {
    return false;
  }
})();

describe("the repository stands alone", { skip: isGitCheckout ? false : "not a git checkout (the checks read git ls-files)" }, () => {
  it("the path rules catch what they are for and pass what is legitimate", () => {
    // The sibling folder's name is spliced in so that this file itself names no such path.
    const SHARED = ["sha", "red"].join("");
    const bad: [string, string][] = [
      ["test/contract-sim.test.ts", `const p = fileURLToPath(new URL("../../${SHARED}/reference/coder-api-contract.json", import.meta.url));`],
      ["test/helpers/client-contract.ts", `export const CONTRACT_PATH = "/work/${SHARED}/reference/coder-api-contract.json";`],
      ["src/coder/types.ts", `// hand-written from ../${SHARED}/reference/coder-api-contract.json`],
      ["bench/run.ts", `import x from "../../other-checkout/src/x.ts";`],
      ["test/x.test.ts", `const data = join(import.meta.dirname, "../../fixtures/big.json");`],
      ["scripts/x.ts", `const cfg = "/home/alice/src/scaletest/config.json";`],
      ["README.md", "run `node /Users/bob/code/runner/scripts/run.ts`"],
      ["test/y.test.ts", `readFileSync("/work/main/package.json")`],
    ];
    for (const [file, line] of bad) assert.ok(pathProblems(file, line).length > 0, `not caught: ${file}: ${line}`);
    assert.ok(pathProblems("x.ts", `const p = "/srv/ci/checkout-2/x";`, ["/srv/ci/checkout-2/"]).length > 0, "this checkout's own path");
    const good: [string, string][] = [
      ["scripts/run.ts", "#!/usr/bin/env -S npx tsx\nimport { x } from \"../src/x.ts\";"],
      ["test/helpers/sim.ts", `import { startSim } from "../../sim/index.ts";`],
      ["test/helpers/client-contract.ts", `fileURLToPath(new URL("../contract/coder-api.json", import.meta.url))`],
      ["bench/run.ts", `const ROOT = fileURLToPath(new URL("..", import.meta.url));`],
      ["test/helpers/chromium.ts", `const CHROMIUM_PATH = "/usr/bin/chromium";`],
      ["test/helpers/reliability.ts", "return readdirSync(`/proc/${pid}/fd`).length;"],
      ["template/main.tf", `dir = "/home/coder"`],
      ["README.md", "results land in `/home/coder/results/<run-id>`, the image at `/opt/scaletest-runner`"],
      ["test/hostile.test.ts", `["run", ["--run-id", "../../etc"]],`],
      ["test/status.test.ts", `writeFileSync(join(tmp.path, "LATEST"), "../../etc\\n");`],
      ["bench/.gitignore", "results/work/"],
      ["src/coder/client.ts", "return this.get(`/api/v2/users/${u}/workspaces`);"],
      ["README.md", "see https://github.com/coder/coder/tree/main/scaletest and /workspaces/{id}"],
    ];
    for (const [file, text] of good) assert.deepEqual(pathProblems(file, text), [], `flagged: ${file}: ${text}`);
  });

  it("no tracked file refers to ../shared, an absolute path into a checkout, or a path climbing out of the repository", () => {
    // This checkout's own absolute path (wherever it was cloned). Its parent is not added: a clone in
    // /home/coder/<dir> would then flag the template's legitimate /home/coder paths.
    const prefixes = [`${ROOT}/`];
    const problems: string[] = [];
    let scanned = 0;
    for (const [mode, file] of trackedFiles()) {
      if (mode === "120000" || mode === "160000") continue; // symlinks and submodules carry no text
      if (file === "test/repo-hygiene.test.ts") continue; // its examples are offenders on purpose
      const buf = readFileSync(join(ROOT, file));
      if (buf.includes(0)) continue; // binary
      scanned++;
      problems.push(...pathProblems(file, buf.toString("utf8"), prefixes));
    }
    assert.ok(scanned > 100, `only ${scanned} tracked text files scanned`);
    assert.deepEqual(problems, []);
  });

  it("lockfiles download only from the npm registry or link folders inside the repository", () => {
    const locks = trackedFiles().map(([, f]) => f).filter((f) => posix.basename(f) === "package-lock.json");
    assert.ok(locks.includes("package-lock.json"), "the root package-lock.json is tracked");
    const problems: string[] = [];
    for (const lock of locks) {
      const doc = JSON.parse(readFileSync(join(ROOT, lock), "utf8")) as {
        packages?: Record<string, { resolved?: string; link?: boolean }>;
      };
      for (const [name, entry] of Object.entries(doc.packages ?? {})) {
        const r = entry.resolved;
        if (r === undefined || r.startsWith("https://registry.npmjs.org/")) continue;
        // A link's target is a folder relative to the lockfile's own folder; it must stay in the repository.
        const inside = !/^[a-z][a-z0-9+.-]*:/i.test(r) && !isAbsolute(r) && !relative(ROOT, join(ROOT, dirname(lock), r)).startsWith("..");
        if (!(entry.link && inside)) problems.push(`${lock}: ${name} resolves to ${r}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it("every tracked file with a #! line is executable in git", () => {
    const notExecutable: string[] = [];
    let withShebang = 0;
    const tracked = trackedFiles();
    for (const [mode, file] of tracked) {
      if (!mode.startsWith("100")) continue;
      const head = readFileSync(join(ROOT, file)).subarray(0, 2).toString("latin1");
      if (head !== "#!") continue;
      withShebang++;
      if (mode !== "100755") notExecutable.push(`${file} (mode ${mode}; fix: git update-index --chmod=+x ${file})`);
    }
    const required = ["scripts/run.ts", "scripts/status.ts", "scripts/report.ts", "scenarios/cleanup.ts"];
    for (const f of required) assert.ok(tracked.some(([, g]) => g === f), `${f} is tracked`);
    assert.ok(withShebang >= required.length, `only ${withShebang} files with a #! line found`);
    assert.deepEqual(notExecutable, []);
  });
});
