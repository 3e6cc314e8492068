// The template's results server (the "Latest report" app; embedded in template/startup.sh) under bad
// requests and planted symlinks: it serves regular files inside the results dir only, never through a
// symlink (run folder, file or LATEST target), answers `GET /%` and friends with a 4xx, and keeps serving.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const STARTUP = fileURLToPath(new URL("../template/startup.sh", import.meta.url));

/** The server's source, exactly as startup.sh writes it. */
function serverSource(): string {
  const sh = readFileSync(STARTUP, "utf8");
  const m = /cat >"\$STATE\/results-server\.mjs" <<'JS'\n([\s\S]*?)\nJS\n/.exec(sh);
  if (!m?.[1]) throw new Error("results-server.mjs heredoc not found in template/startup.sh");
  return m[1];
}

/** A raw request (the path is sent as given, so `/%` and `..` reach the server unnormalised). */
function get(port: number, path: string, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

let dir: string;
let child: ChildProcess;
let port = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "results-server-"));
  const results = join(dir, "results");
  const outside = join(dir, "outside");
  mkdirSync(join(results, "run1"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(results, "run1", "report.html"), "<h1>report of run1</h1>");
  writeFileSync(join(outside, "secret.txt"), "OUTSIDE-SECRET");
  symlinkSync(outside, join(results, "evil")); // a symlinked run folder
  symlinkSync(join(outside, "secret.txt"), join(results, "run1", "leak.txt")); // a symlinked file
  writeFileSync(join(results, "LATEST"), "run1\n");
  const script = join(dir, "results-server.mjs");
  writeFileSync(script, serverSource());
  child = spawn(process.execPath, [script], { env: { ...process.env, SCALETEST_RESULTS_DIR: results, SCALETEST_RESULTS_PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const deadline = setTimeout(() => reject(new Error(`results server did not start: ${out}`)), 20_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(deadline);
        resolve(Number(m[1]));
      }
    });
    child.on("exit", (code) => reject(new Error(`results server exited ${code}: ${out}`)));
  });
});

after(() => {
  child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

test("serves the run's regular files, and /latest/ through LATEST", async () => {
  assert.deepEqual(await get(port, "/run1/report.html"), { status: 200, body: "<h1>report of run1</h1>" });
  assert.equal((await get(port, "/latest/report.html")).body, "<h1>report of run1</h1>");
  const listing = await get(port, "/run1/");
  assert.equal(listing.status, 200);
  assert.match(listing.body, /report\.html/);
  assert.doesNotMatch(listing.body, /leak\.txt/, "symlinks are not listed");
});

test("never serves through a symlink, nor outside the results dir", async () => {
  for (const path of ["/evil/secret.txt", "/evil/", "/run1/leak.txt", "/../outside/secret.txt", "/run1/../../outside/secret.txt", "/%2e%2e/outside/secret.txt"]) {
    const r = await get(port, path);
    assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
    assert.doesNotMatch(r.body, /OUTSIDE-SECRET/, path);
  }
  writeFileSync(join(dir, "results", "LATEST"), "evil\n");
  assert.equal((await get(port, "/latest/secret.txt")).status, 404, "LATEST naming a symlinked folder");
  writeFileSync(join(dir, "results", "LATEST"), "../outside\n");
  assert.equal((await get(port, "/latest/secret.txt")).status, 404, "LATEST naming a path");
  writeFileSync(join(dir, "results", "LATEST"), "run1\n");
});

test("bad requests get a 4xx and the server keeps serving", async () => {
  for (const [path, method] of [["/%", "GET"], ["/%zz", "GET"], ["/run1/%00", "GET"], ["/run1/report.html", "DELETE"], ["/a\\b", "GET"]] as const) {
    const r = await get(port, path, method);
    assert.ok(r.status >= 400 && r.status < 500, `${method} ${path}: ${r.status}`);
  }
  assert.equal(child.exitCode, null, "still running");
  assert.equal((await get(port, "/run1/report.html")).status, 200, "still serving");
});
