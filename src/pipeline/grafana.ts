// Grafana annotations for each phase (a region: start time, then timeEnd when the phase ends).
// A failing Grafana never stops the run: every error is logged once and the run goes on.
import { request } from "undici";
import { readCapped } from "../coder/body.ts";
import { log } from "../util/log.ts";
import { redactAndTruncate } from "../util/redact.ts";

export interface Annotator {
  /** Opens a region annotation; returns a function that closes it (both never throw). */
  start(text: string, tags: string[]): Promise<(extraTags?: string[]) => Promise<void>>;
  /** Failures so far (counted, reported in run.json). */
  readonly failures: number;
}

const BASE_TAGS = ["scaletest", "runner"];

export function grafanaAnnotator(opts: { url: string; token: string; runId: string; timeoutMs?: number }): Annotator {
  let failures = 0;
  const base = opts.url.replace(/\/+$/, "");
  const headers = { authorization: `Bearer ${opts.token}`, "content-type": "application/json" };
  const timeout = opts.timeoutMs ?? 5000;

  async function call(method: "POST" | "PATCH", path: string, body: unknown): Promise<{ id?: number } | null> {
    try {
      const res = await request(`${base}${path}`, {
        method,
        headers,
        body: JSON.stringify(body),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const text = (await readCapped(res.body, 64 * 1024, true)).text; // bounded whatever Grafana sends
      if (res.statusCode >= 300) throw new Error(`${res.statusCode}: ${redactAndTruncate(text, 200, [opts.token])}`);
      return text ? (JSON.parse(text) as { id?: number }) : {};
    } catch (e) {
      failures++;
      log.warn(`grafana annotation ${method} ${path} failed (the run goes on): ${(e as Error).message}`);
      return null;
    }
  }

  return {
    get failures() {
      return failures;
    },
    async start(text, tags) {
      const allTags = [...BASE_TAGS, `run:${opts.runId}`, ...tags];
      const created = await call("POST", "/api/annotations", { time: Date.now(), tags: allTags, text });
      return async (extraTags = []) => {
        if (!created?.id) return;
        await call("PATCH", `/api/annotations/${created.id}`, {
          timeEnd: Date.now(),
          ...(extraTags.length ? { tags: [...allTags, ...extraTags] } : {}),
        });
      };
    },
  };
}

/** Used when no Grafana is configured. */
export const noAnnotator: Annotator = {
  failures: 0,
  async start() {
    return async () => {};
  },
};

/**
 * The runner's Grafana dashboard over a run: from its start to `to` (a time in ms, or "now" while it runs).
 * Coder's runner links the same range in its messages.
 */
export function grafanaRunLink(grafanaUrl: string, dashboardUid: string, fromMs: number, to: number | "now"): string {
  const base = grafanaUrl.replace(/\/+$/, "");
  return `${base}/d/${encodeURIComponent(dashboardUid)}/scaletest-runner?orgId=1&from=${Math.floor(fromMs)}&to=${to === "now" ? "now" : Math.ceil(to)}`;
}

/**
 * "Status: <status>" regions (tag `status`, plus `error` for a failure), as Coder's lib.sh set_status: each new
 * status closes the previous region. After a failure the status is locked (Coder's lock_status): later statuses
 * (e.g. a cleanup's) are not annotated, so the failure stays the run's last word.
 */
export function statusAnnotations(annotator: Annotator): { set(status: string): Promise<boolean>; readonly locked: boolean; close(): Promise<void> } {
  let end: ((extraTags?: string[]) => Promise<void>) | null = null;
  let locked = false;
  return {
    get locked() {
      return locked;
    },
    async set(status) {
      if (locked) return false;
      const failed = /^Failed\b/.test(status);
      if (end) await end();
      end = await annotator.start(`Status: ${status}`, failed ? ["status", "error"] : ["status"]);
      if (failed) locked = true;
      return true;
    },
    async close() {
      if (end) await end();
      end = null;
    },
  };
}
