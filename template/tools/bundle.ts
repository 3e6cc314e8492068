// `npm run template:bundle`: packs the project's runtime files into template/runner.tar.gz, so that
// `coder templates push -d template/` carries the scripts at this exact version (main.tf ships the archive in a
// ConfigMap that startup.sh unpacks into the workspace). Without a bundle the workspace uses the image's copy.
// One gzipped tarball, not a copied folder: Coder limits a template to 1 MiB and the sources compress ~5x.
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { collect, tarGz } from "./tar.ts";

const TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = join(TEMPLATE_DIR, "..");
/** The bundle main.tf looks for. */
export const BUNDLE_FILE = join(TEMPLATE_DIR, "runner.tar.gz");
/** Where older versions copied the files uncompressed; removed so it is not uploaded as well. */
const LEGACY_BUNDLE_DIR = join(TEMPLATE_DIR, "runner");
/** What the workspace needs to run every entry point (sim/, test/, bench/ stay out). */
export const BUNDLE_ENTRIES = ["package.json", "package-lock.json", "tsconfig.json", "src", "scripts", "scenarios"];
/** Coder refuses template archives of 1 MiB or more (provisionersdk.TemplateArchiveLimit). */
export const TEMPLATE_ARCHIVE_LIMIT = 1 << 20;

/** The one hidden file `coder templates push` uploads: the provider lock file (Coder caches providers by it). */
export const LOCK_FILE = ".terraform.lock.hcl";

/**
 * The files `coder templates push -d <dir>` uploads, as Coder's provisionersdk.Tar picks them: no hidden files or
 * folders except the lock file, no Terraform state, no .tfvars (Coder passes its own variables).
 */
export function uploadFiles(dir: string, skip: (path: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if ((name.startsWith(".") && name !== LOCK_FILE) || skip(p)) continue;
    if (name.includes(".tfstate") || name === "terraform.tfvars" || name === "terraform.tfvars.json" || /\.auto\.tfvars(\.json)?$/.test(name)) continue;
    if (statSync(p).isDirectory()) out.push(...uploadFiles(p, skip));
    else out.push(p);
  }
  return out;
}

/** Bytes Coder would upload from a template dir (uploadFiles(), each with its tar header). */
export function uploadSize(dir: string, skip: (path: string) => boolean = () => false): number {
  return uploadFiles(dir, skip).reduce((n, p) => n + statSync(p).size + 512, 0);
}

/** The bundle's bytes: BUNDLE_ENTRIES (without node_modules or hidden files) as a gzipped tarball. */
export function bundleArchive(root = ROOT): { archive: Buffer; files: number } {
  for (const entry of BUNDLE_ENTRIES) {
    if (!existsSync(join(root, entry))) throw new Error(`${entry} is missing from ${root}: run this from a complete checkout`);
  }
  const entries = collect(root, BUNDLE_ENTRIES, (name) => name === "node_modules" || name.startsWith("."));
  return { archive: tarGz(entries), files: entries.length };
}

/** What Coder would upload: the template files without any bundle, plus an archive of `bundleBytes`. */
export function templateUploadSize(bundleBytes: number): number {
  return uploadSize(TEMPLATE_DIR, (p) => p === BUNDLE_FILE || p === LEGACY_BUNDLE_DIR) + bundleBytes + 512;
}

export function bundle(): { files: number; archiveBytes: number; bytes: number } {
  rmSync(LEGACY_BUNDLE_DIR, { recursive: true, force: true });
  const { archive, files } = bundleArchive();
  writeFileSync(BUNDLE_FILE, archive);
  return { files, archiveBytes: archive.length, bytes: templateUploadSize(archive.length) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files, archiveBytes, bytes } = bundle();
  const rel = relative(process.cwd(), BUNDLE_FILE) || BUNDLE_FILE;
  if (bytes >= TEMPLATE_ARCHIVE_LIMIT) {
    rmSync(BUNDLE_FILE, { force: true });
    process.stderr.write(
      `The template with the bundle would be ${Math.round(bytes / 1024)} KiB; Coder accepts less than 1024 KiB.\n` +
        "Removed the bundle: push without it and the workspace uses the scripts baked into the runner image.\n",
    );
    process.exit(1);
  }
  process.stdout.write(
    `Bundled ${files} files into ${rel} (${Math.round(archiveBytes / 1024)} KiB); the template dir uploads ${Math.round(bytes / 1024)} KiB (limit 1024).\n`,
  );
}
