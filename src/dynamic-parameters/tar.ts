// A minimal ustar writer for the few small text files of a template upload (Coder takes templates as
// application/x-tar). Regular files only, names up to 100 bytes, sizes well under 8 GiB.

function octal(n: number, width: number): string {
  // width includes the trailing NUL
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(512, 0);
  const nameBytes = Buffer.from(name, "utf8");
  if (nameBytes.length > 100) throw new Error(`tar: file name ${JSON.stringify(name)} is longer than 100 bytes`);
  nameBytes.copy(h, 0);
  h.write(octal(0o644, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(mtime, 12), 136, "ascii");
  h.write("        ", 148, "ascii"); // checksum field counts as spaces while summing
  h.write("0", 156, "ascii"); // regular file
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

/** A tar archive of `files` (path -> content), in the given order. */
export function tarFiles(files: Record<string, string | Uint8Array>, mtimeSec = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
    parts.push(header(name, data.length, mtimeSec), data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0)); // two empty blocks end the archive
  return Buffer.concat(parts);
}

/** Reads back the regular files of a ustar archive (used to check what was uploaded). */
export function untarFiles(tar: Uint8Array, maxFiles = 64): Map<string, Buffer> {
  const buf = Buffer.from(tar);
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= buf.length && out.size < maxFiles) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(h.subarray(124, 136).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
    const type = String.fromCharCode(h[156] ?? 48);
    off += 512;
    if (!Number.isFinite(size) || size < 0 || off + size > buf.length) break;
    if (type === "0" || type === "\0") out.set(name, buf.subarray(off, off + size));
    off += Math.ceil(size / 512) * 512;
  }
  return out;
}
