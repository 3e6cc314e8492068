// Bounded HTTP reads for the metrics sources: a timeout, a size cap, and errors that name the URL without
// its credentials or query (a Prometheus URL may carry basic auth).
import { MAX_EXPOSITION_BYTES } from "./exposition.ts";

/** The URL as it may appear in results and logs: origin and path, no userinfo, no query. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/** GETs `url` and returns its body as text; throws an Error saying what went wrong. */
export async function getText(url: string, timeoutMs: number, maxBytes = MAX_EXPOSITION_BYTES): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "text/plain, application/json" } });
  } catch (e) {
    const why = (e as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : ((e as { cause?: Error }).cause?.message ?? (e as Error).message);
    throw new Error(`${publicUrl(url)}: ${why}`);
  }
  if (!res.body) throw new Error(`${publicUrl(url)}: empty response (HTTP ${res.status})`);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`${publicUrl(url)}: response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (!res.ok) throw new Error(`${publicUrl(url)}: HTTP ${res.status} ${text.slice(0, 200).replace(/\s+/g, " ")}`);
  return text;
}
