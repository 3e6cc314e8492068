/**
 * The live progress line of a traffic run. The engine reports every second; the line is printed every few
 * seconds and says which figures are "now" (connection states), which are cumulative ("total", "since
 * start") and which cover only the interval since the previous line ("last 10 s"), so a late "open 0/20"
 * after the connections closed is not read as every connection dropping.
 */
import { LatencyHistogram } from "./histogram.ts";
import type { TrafficProgress } from "./engine.ts";
import { formatMs } from "../results/stats.ts";
import { formatBytes } from "../results/units.ts";

const count = new Intl.NumberFormat("en-US");

export class TrafficProgressLine {
  private written = 0;
  private read = 0;
  private ticks = 0;
  private readonly hist = new LatencyHistogram(2);
  private lastAt = 0;

  constructor(
    private readonly label: string,
    private readonly connections: number,
  ) {}

  /** Adds one engine report (one second) to the current interval. */
  add(p: TrafficProgress): void {
    const s = p.lastSecond;
    this.written += s.bytesWritten;
    this.read += s.bytesRead;
    this.ticks += s.ticks;
    if (s.hist) this.hist.merge(LatencyHistogram.decode(s.hist));
  }

  /** Milliseconds of the current interval at `p`. */
  intervalMs(p: TrafficProgress): number {
    return p.elapsedMs - this.lastAt;
  }

  /** The line for the interval that ends at `p` (call add(p) first); starts a new interval. */
  render(p: TrafficProgress): string {
    const secs = Math.max(0.001, this.intervalMs(p) / 1000);
    const c = p.connections;
    const t = p.totals;
    const other = [
      c.dialing ? `${c.dialing} dialling` : "",
      c.reconnecting ? `${c.reconnecting} reconnecting` : "",
      c.pending ? `${c.pending} not started` : "",
      c.queued ? `${c.queued} queued` : "",
      c.failed ? `${c.failed} failed` : "",
      c.closed ? `${c.closed} closed` : "",
    ].filter(Boolean);
    const window = `last ${formatMs(Math.round(secs) * 1000)}`;
    const p95 = this.hist.count ? formatMs(Math.round(this.hist.percentile(95) * 1000) / 1000) : "-";
    const line =
      `${this.label} ${formatMs(Math.round(p.elapsedMs / 1000) * 1000)}: ` +
      `open ${c.open}/${this.connections} now${other.length ? ` (${other.join(", ")})` : ""} · ` +
      `ticks ${count.format(t.ticksCompleted)} total · ` +
      `${formatBytes(this.written / secs)}/s out, ${formatBytes(this.read / secs)}/s in, ` +
      `${count.format(this.ticks)} ticks, tick p95 ${p95} ${window} · ` +
      `${t.drops} drops, ${t.readErrors + t.writeErrors + t.dialErrors} errors since start`;
    this.written = 0;
    this.read = 0;
    this.ticks = 0;
    this.hist.reset();
    this.lastAt = p.elapsedMs;
    return line;
  }
}
