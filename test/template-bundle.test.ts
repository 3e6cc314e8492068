// The template bundle: `npm run template:bundle`'s gzipped tarball holds exactly the project's runtime files,
// GNU tar reads it, and the real startup.sh installs the project from it (fake node/tsx/coder on PATH, so no
// server or pipeline really starts).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { BUNDLE_ENTRIES, bundleArchive } from "../template/tools/bundle.ts";
import { tar } from "../template/tools/tar.ts";
import { ROOT, TEMPLATE_DIR } from "./helpers/template.ts";

const haveTar = spawnSync("tar", ["--version"]).status === 0;
const haveTools = haveTar && ["bash", "setsid"].every((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0);

test("tar writer: long paths use the ustar prefix; tar lists what was written", { skip: haveTar ? false : "needs tar" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tar-writer-"));
  try {
    const long = `${"d".repeat(80)}/${"e".repeat(60)}/file.txt`;
    const archive = tar([
      { name: "a.txt", data: Buffer.from("hello\n"), mode: 0o644, mtime: 1_700_000_000 },
      { name: long, data: Buffer.alloc(1000, 120), mode: 0o755, mtime: 1_700_000_000 },
    ]);
    assert.equal(archive.length % 512, 0);
    writeFileSync(join(dir, "x.tar"), archive);
    const listed = execFileSync("tar", ["-tf", join(dir, "x.tar")], { encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(listed, ["a.txt", long]);
    execFileSync("tar", ["-xf", join(dir, "x.tar"), "-C", dir]);
    assert.equal(readFileSync(join(dir, "a.txt"), "utf8"), "hello\n");
    assert.equal(readFileSync(join(dir, long)).length, 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the bundle is every runtime file, byte for byte, and nothing else", { skip: haveTar ? false : "needs tar" }, () => {
  const { archive, files } = bundleArchive();
  const names = execFileSync("tar", ["-tz"], { input: archive, encoding: "utf8", maxBuffer: 64 << 20 }).trim().split("\n");
  assert.equal(names.length, files);
  const tops = new Set(names.map((n) => n.split("/")[0]));
  assert.deepEqual([...tops].sort(), [...BUNDLE_ENTRIES].sort());
  assert.ok(!names.some((n) => n.includes("node_modules") || n.startsWith("sim/") || n.startsWith("test/")));
  for (const f of ["scripts/run.ts", "scenarios/cleanup.ts", "src/pipeline/pipeline.ts"]) assert.ok(names.includes(f), f);
  assert.ok(archive.length < gunzipSync(archive).length / 2, "compressed");
  const lock = execFileSync("tar", ["-xzO", "package-lock.json"], { input: archive, maxBuffer: 64 << 20 });
  assert.ok(lock.equals(readFileSync(join(ROOT, "package-lock.json"))));
});

test("startup.sh installs the project from the bundle", { skip: haveTools ? false : "needs bash, setsid and tar", timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "template-bundle-"));
  try {
    const home = join(dir, "home");
    const image = join(dir, "image");
    const bin = join(dir, "bin");
    const calls = join(dir, "calls.log");
    mkdirSync(home);
    mkdirSync(join(image, "node_modules"), { recursive: true });
    const bundle = join(dir, "project.tar.gz");
    const { archive } = bundleArchive();
    writeFileSync(bundle, archive);
    // Compared with the archive, not the checkout (which other work may be editing meanwhile).
    const inArchive = (f: string): Buffer => execFileSync("tar", ["-xzO", f], { input: archive, maxBuffer: 64 << 20 });
    // The image has the same lockfile, so its node_modules are linked rather than npm ci run.
    writeFileSync(join(image, "package-lock.json"), inArchive("package-lock.json"));
    mkdirSync(bin);
    const fake = (name: string, body: string): void => {
      writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >>${JSON.stringify(calls)}\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    fake("coder", 'if [[ "$1 $2" == "tokens create" ]]; then echo "fake-id-fakesecret"; fi');
    fake("node", 'if [[ "$1" == "-e" ]]; then printf abc123; fi'); // run id; the results server does not start
    fake("tsx", "exit 0");
    const env = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: home,
      SCALETEST_RESULTS_DIR: join(home, "results"),
      SCALETEST_PROJECT_DIR: join(home, "scaletest-runner"),
      SCALETEST_IMAGE_DIR: image,
      SCALETEST_BUNDLE: bundle,
      CODER_URL: "http://127.0.0.1:9",
      CODER_OWNER_SESSION_TOKEN: "owner-token",
      CODER_CONFIG_DIR: join(home, ".config/coderv2"),
    };
    const r = spawnSync("bash", [join(TEMPLATE_DIR, "startup.sh")], { env, encoding: "utf8", timeout: 45_000 });
    assert.equal(r.status, 0, `startup.sh: ${r.error?.message ?? ""}\n${r.stdout}\n${r.stderr}`);
    const out = r.stdout;
    assert.match(out, /project installed in .*, bundled with the template version/);
    const project = env.SCALETEST_PROJECT_DIR;
    for (const f of ["scripts/run.ts", "scenarios/cleanup.ts", "src/pipeline/pipeline.ts", "package.json", "tsconfig.json"]) {
      assert.ok(readFileSync(join(project, f)).equals(inArchive(f)), `${f} installed from the bundle`);
    }
    assert.equal(readlinkSync(join(project, "node_modules")), join(image, "node_modules"));
    assert.ok(!existsSync(join(project, "sim")));
    assert.match(out, /pipeline started: run abc123/);
    // The pipeline is started detached, through src/boot/register.mjs: wait for the fake node to have recorded its call.
    const pipelineCall = new RegExp(`^node --import ${project.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/src/boot/register\\.mjs scripts/run\\.ts$`, "m");
    const started = Date.now();
    while (!pipelineCall.test(readFileSync(calls, "utf8")) && Date.now() - started < 15_000) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    assert.match(readFileSync(calls, "utf8"), pipelineCall);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
