// A ustar archive of a few small text files: what Coder's template upload (POST /files,
// application/x-tar) takes. Coder's own tool builds it the same way (loadtestutil.CreateTarFromFiles:
// one regular-file entry per file, then the two zero blocks that end an archive).
const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: string, size: number, mtimeSec: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name longer than 100 bytes: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, "utf8");
  h.write(octal(0o644, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(mtimeSec, 12), 136, "ascii");
  h.write("        ", 148, "ascii"); // checksum field counts as spaces while summing
  h.write("0", 156, "ascii"); // regular file
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

/** A tar archive holding `files` (name -> UTF-8 content), in the given order. */
export function tarFiles(files: Record<string, string>, mtime = new Date()): Buffer {
  const parts: Buffer[] = [];
  const mtimeSec = Math.floor(mtime.getTime() / 1000);
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content, "utf8");
    parts.push(header(name, data.length, mtimeSec), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
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
