/**
 * Garbage-collector activity of this process while a Node tool runs (perf_hooks "gc" entries), so the
 * benchmark can show how much of a tool's CPU is collection of its own garbage (ours vs the floor).
 */
import { PerformanceObserver, constants } from "node:perf_hooks";

export interface GcStats {
  /** minor (scavenge) and major (mark-compact) collections */
  minor: number;
  major: number;
  /** main-thread pause time of all collections, ms */
  pauseMs: number;
}

export function watchGc(): () => GcStats {
  const s: GcStats = { minor: 0, major: 0, pauseMs: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) s.minor++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) s.major++;
      s.pauseMs += e.duration;
    }
  });
  obs.observe({ entryTypes: ["gc"] });
  return () => {
    obs.disconnect();
    return { ...s, pauseMs: Math.round(s.pauseMs) };
  };
}

export interface MemorySample {
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
  arrayBuffersMB: number;
}

/** process.memoryUsage() in MB after `atMs` (mid-run: every connection open, traffic steady). */
export function sampleMemoryAt(atMs: number): () => MemorySample | undefined {
  let m: MemorySample | undefined;
  const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
  const t = setTimeout(() => {
    const u = process.memoryUsage();
    m = { rssMB: mb(u.rss), heapUsedMB: mb(u.heapUsed), heapTotalMB: mb(u.heapTotal), externalMB: mb(u.external), arrayBuffersMB: mb(u.arrayBuffers) };
  }, atMs);
  t.unref();
  return () => {
    clearTimeout(t);
    return m;
  };
}
