// A minimal ustar writer (regular files only) + gzip, so the template bundle needs neither a tar package nor
// GNU tar's flags: entries come sorted with fixed owner/group, so the same tree gives the same archive.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export interface TarEntry {
  /** Path inside the archive, "/"-separated, relative. */
  name: string;
  data: Buffer;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
}

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** Splits a path into ustar's name (<=100 bytes) and prefix (<=155 bytes) fields. */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new Error(`path too long for a tar archive: ${path}`);
}

function header(e: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const { name, prefix } = splitName(e.name);
  h.write(name, 0, 100, "utf8");
  h.write(octal(e.mode & 0o7777, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii"); // uid
  h.write(octal(0, 8), 116, "ascii"); // gid
  h.write(octal(e.data.length, 12), 124, "ascii");
  h.write(octal(Math.max(0, Math.floor(e.mtime)), 12), 136, "ascii");
  h.write("        ", 148, "ascii"); // checksum placeholder (spaces while summing)
  h.write("0", 156, "ascii"); // regular file
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return h;
}

/** The uncompressed tar stream of `entries` (in the given order). */
export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e), e.data);
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0)); // end of archive
  return Buffer.concat(parts);
}

/** Regular files under `root` for each of `paths` (files or folders), sorted, skipping `skip` names. */
export function collect(root: string, paths: string[], skip: (name: string) => boolean): TarEntry[] {
  const out: TarEntry[] = [];
  const walk = (rel: string): void => {
    const abs = join(root, rel);
    const st = statSync(abs);
    if (st.isDirectory()) {
      for (const n of readdirSync(abs).sort()) if (!skip(n)) walk(`${rel}/${n}`);
    } else if (st.isFile()) {
      out.push({ name: rel, data: readFileSync(abs), mode: (st.mode & 0o755) | 0o644, mtime: Math.floor(st.mtimeMs / 1000) });
    }
  };
  for (const p of [...paths].sort()) walk(p);
  return out;
}

export function tarGz(entries: TarEntry[]): Buffer {
  return gzipSync(tar(entries), { level: 9 });
}
