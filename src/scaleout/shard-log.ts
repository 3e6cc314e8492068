/**
 * Returning a shard's result through its pod log (for clusters without a ReadWriteMany volume).
 *
 * The JSON is gzipped, base64-encoded and printed in lines of at most 4,000 characters between two marker
 * lines, after the script's own output. Short lines survive every log pipeline (the kubelet splits lines
 * over 16 KiB); gzip keeps a result with thousands of per-connection rows well under the kubelet's default
 * 10 MiB log rotation.
 */
import { gunzipSync, gzipSync } from "node:zlib";

const BEGIN = "----- BEGIN SCALETEST SHARD RESULT";
const END = "----- END SCALETEST SHARD RESULT -----";
const LINE = 4000;

export interface ShardLogPayload {
  /** "i/n" */
  shard: string;
  /** The scenario script's exit status. */
  exitCode: number;
  /** The script's JSON output. */
  output: unknown;
}

export function encodeShardLog(p: ShardLogPayload): string {
  const b64 = gzipSync(Buffer.from(JSON.stringify(p))).toString("base64");
  const lines = [`${BEGIN} ${p.shard} -----`];
  for (let i = 0; i < b64.length; i += LINE) lines.push(b64.slice(i, i + LINE));
  lines.push(END);
  return lines.join("\n") + "\n";
}

/**
 * Finds the last framed result in a pod log. Returns undefined when there is none (the shard died before
 * printing it); throws when a frame is there but damaged (truncated log), saying so.
 */
export function decodeShardLog(log: string): ShardLogPayload | undefined {
  const start = log.lastIndexOf(BEGIN);
  if (start < 0) return undefined;
  const afterHeader = log.indexOf("\n", start);
  const end = log.indexOf(END, start);
  if (afterHeader < 0 || end < 0) {
    throw new Error("the shard's result in its log is cut off (no end marker): the log may have been rotated or truncated");
  }
  // Tolerate log pipelines that prefix lines or add \r: keep base64 characters only.
  const b64 = log.slice(afterHeader + 1, end).replace(/[^A-Za-z0-9+/=]/g, "");
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(b64, "base64")).toString("utf8"));
  } catch (e) {
    throw new Error(`the shard's result in its log cannot be decoded (${(e as Error).message})`);
  }
  const p = parsed as Partial<ShardLogPayload>;
  if (typeof p.shard !== "string" || typeof p.exitCode !== "number" || !("output" in p)) {
    throw new Error("the shard's result in its log is not a shard result (shard, exitCode, output expected)");
  }
  return p as ShardLogPayload;
}
