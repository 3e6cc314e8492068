// `npm run template:bundle`: copies the project's runtime files into template/runner/, so that
// `coder templates push -d template/` carries the scripts at this exact version (main.tf zips the folder into a
// ConfigMap that startup.sh unpacks into the workspace). Without a bundle the workspace uses the image's copy.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = join(TEMPLATE_DIR, "..");
export const BUNDLE_DIR = join(TEMPLATE_DIR, "runner");
/** What the workspace needs to run every entry point (sim/, test/, bench/ stay out). */
export const BUNDLE_ENTRIES = ["package.json", "package-lock.json", "tsconfig.json", "src", "scripts", "scenarios"];
/** Coder refuses template archives of 1 MiB or more (provisionersdk.TemplateArchiveLimit). */
export const TEMPLATE_ARCHIVE_LIMIT = 1 << 20;

/** Bytes Coder would upload from a template dir (it skips hidden files and folders). */
export function uploadSize(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (name.startsWith(".")) continue;
    const p = join(dir, name);
    const st = statSync(p);
    total += st.isDirectory() ? uploadSize(p) : st.size + 512; // + tar header
  }
  return total;
}

export function bundle(): { files: number; bytes: number } {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  mkdirSync(BUNDLE_DIR);
  for (const entry of BUNDLE_ENTRIES) {
    const from = join(ROOT, entry);
    if (!existsSync(from)) throw new Error(`${entry} is missing from ${ROOT}: run this from a complete checkout`);
    cpSync(from, join(BUNDLE_DIR, entry), { recursive: true, filter: (src) => !src.includes(`${"/"}node_modules`) });
  }
  const bytes = uploadSize(TEMPLATE_DIR);
  let files = 0;
  const count = (d: string): void => {
    for (const n of readdirSync(d)) statSync(join(d, n)).isDirectory() ? count(join(d, n)) : files++;
  };
  count(BUNDLE_DIR);
  return { files, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files, bytes } = bundle();
  const rel = relative(process.cwd(), BUNDLE_DIR) || BUNDLE_DIR;
  if (bytes >= TEMPLATE_ARCHIVE_LIMIT) {
    rmSync(BUNDLE_DIR, { recursive: true, force: true });
    process.stderr.write(
      `The template with the bundle would be ${Math.round(bytes / 1024)} KiB; Coder accepts less than 1024 KiB.\n` +
        "Removed the bundle: push without it and the workspace uses the scripts baked into the runner image.\n",
    );
    process.exit(1);
  }
  process.stdout.write(`Bundled ${files} files into ${rel}; the template dir uploads ${Math.round(bytes / 1024)} KiB (limit 1024).\n`);
}
