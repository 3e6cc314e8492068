// What a source of coderd metrics gives the phase code: windows (one per replica) and warnings.
import type { ReplicaWindow } from "./snapshot.ts";

/** One point of the server-side timeline (for the report's charts). */
export interface TimelinePoint {
  /** ms since the epoch (end of the interval). */
  at: number;
  replica: string;
  /** Mean cores used over the interval. */
  cpuCores: number | null;
  memoryBytes: number | null;
  /** API p95 over the interval (all routes), ms; null when no request ended in it. */
  apiP95Ms: number | null;
}

export interface SourceWindow {
  /** Where the figures came from: "prometheus" or "scrape". */
  source: "prometheus" | "scrape";
  replicas: ReplicaWindow[];
  timeline: TimelinePoint[];
  /** Unreachable replicas, failed queries: recorded, never fatal. */
  warnings: string[];
}

export interface WindowHandle {
  /** The window from its start until now (abort checks during a phase). */
  peek(): Promise<SourceWindow>;
  /** Closes the window now. */
  end(): Promise<SourceWindow>;
}

export interface CoderdSource {
  readonly kind: SourceWindow["source"];
  /** For logs: which endpoints (no credentials). */
  readonly description: string;
  /** Opens a window now (resolves once its start is recorded). */
  begin(): Promise<WindowHandle>;
  /** Throws an Error when the source cannot be read at all (preflight when a threshold needs it). */
  check(): Promise<void>;
  close(): void;
}
