// API calls and retries per phase: the client retries 429/5xx and connection failures by itself
// (src/coder/retry.ts), so each phase records what its calls met. Without this a fault the client
// absorbed would leave no trace in the results. Fields are snake_case like the rest of result.json.
import type { ClientStats } from "./client.ts";

export interface ApiBlock {
  /** HTTP attempts (each retry counts). */
  requests: number;
  retries: number;
  /** Attempts per outcome: status ("200", "503") or network error code ("ECONNREFUSED"). */
  by_status: Record<string, number>;
  /** Retries per cause. */
  retries_by: Record<string, number>;
}

export const emptyStats = (): ClientStats => ({ requests: 0, retries: 0, byStatus: {}, retriesBy: {} });

function addCounts(a: Record<string, number>, b: Record<string, number>, sign: 1 | -1): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const n = (out[k] ?? 0) + sign * v;
    if (n === 0) delete out[k];
    else out[k] = n;
  }
  return out;
}

export function addStats(a: ClientStats, b: ClientStats): ClientStats {
  return {
    requests: a.requests + b.requests,
    retries: a.retries + b.retries,
    byStatus: addCounts(a.byStatus, b.byStatus, 1),
    retriesBy: addCounts(a.retriesBy, b.retriesBy, 1),
  };
}

/** What happened between two snapshots of the same counters. */
export function diffStats(after: ClientStats, before: ClientStats): ClientStats {
  return {
    requests: after.requests - before.requests,
    retries: after.retries - before.retries,
    byStatus: addCounts(after.byStatus, before.byStatus, -1),
    retriesBy: addCounts(after.retriesBy, before.retriesBy, -1),
  };
}

export function apiBlock(s: ClientStats): ApiBlock {
  return { requests: s.requests, retries: s.retries, by_status: { ...s.byStatus }, retries_by: { ...s.retriesBy } };
}
