/**
 * The workspace-traffic engine: one engine for every connection kind (web terminal, SSH, workspace apps).
 *
 * What it does. For each target it opens one connection through the kind's `TrafficDialer`
 * (src/traffic/transport.ts) and, every `tickIntervalMs`, writes one `bytesPerTick` payload (Coder's format:
 * printable random chars + "\n", from a pre-generated pool, src/traffic/payload.ts), counts what comes back,
 * and stops after its own `durationMs` window (or when `signal` aborts), then gives echoes in flight a short
 * drain period and closes every connection. It returns a `TrafficResult` (src/traffic/result.ts).
 *
 * Stages. Dialling is its own stage, timed into the dial histogram (`<kind>.dial`), never into tick latency.
 * Connection i is dialled at i * rampMs / targets.length (staggered start). Its timetable starts when its
 * first dial completes ("up"), at the first instant of its own phase (i/n of the interval after the run's
 * start, so the n connections' ticks are spread evenly over each interval, not bunched by dials that complete
 * together): tick k is due at origin + k * tickIntervalMs with origin in [up, up + interval), and its window is
 * [origin, origin + durationMs), so every connection that comes up is due exactly
 * ceil(durationMs / tickIntervalMs) ticks whatever its dial took (sharded and single-process runs get identical
 * totals).
 *
 * Job concurrency (`jobConcurrency` N > 0, Coder's `--concurrency`): at most N connections hold a slot at once
 * (dialling, open or re-dialling); the others wait in a FIFO queue (state "queued", src/traffic/queue.ts). A
 * finished connection lets the echoes in flight arrive (up to the drain period), closes, and only then frees its
 * slot for the next one, so the far end never sees more than N. With N = 0 every connection starts at once and
 * stays open until the end of the run. Queueing happens only at connection start and finish, never per tick.
 *
 * End of the phase. The run ends when every connection is finished: its window has ended, or it failed for
 * good (its dial or re-dial attempts are used up). So a run lasts about ramp + slowest dial + duration. It is
 * bounded by the caller's `signal` (the phase timeout, --traffic-timeout, aborts it: end reason "aborted") and
 * by each dial's `dialTimeoutMs` times the re-dial budget. A connection still dialling when the run ends
 * is recorded as a dial error ("still dialling when the run ended"), never silently.
 *
 * Timing (no coordinated omission). A tick's latency is always measured from its DUE time, never from when
 * it was actually sent:
 *  - echo mode: due -> arrival of that tick's "\n" (ticks complete in order; newlines are counted, so a PTY's
 *    "\r\n" works; `echoNewlinesPerTick` covers far ends that return the line more than once);
 *  - read / write modes: due -> completion of the tick's write.
 * If a connection falls behind (its write is still pending, or more than `maxInFlight` echoes are
 * outstanding), the ticks that fall due are not skipped: they are sent as soon as it can catch up and each is
 * still measured from its own due time, so a 500 ms stall shows up as ~500 ms latencies.
 *
 * Scheduling. One shared timer wheel (src/traffic/scheduler.ts, 1 ms slots, a single re-armed setTimeout)
 * for all connections instead of a timer per tick. bench/traffic-engine-quick.ts compares it with one
 * setTimeout per connection per tick: at 2,000 in-memory connections x 4 KiB / 100 ms the wheel cost ~3.5
 * CPU-ms per connection-minute in steady state vs ~4.5-5.7 for setTimeout (engine + fake far end, i.e.
 * ~12 % of one core for all 2,000). A wheel slot fires when its 1 ms has passed, so ticks go out 0-1 ms
 * after their due time (and that delay is part of the measured latency, as it should be). Hot path per tick: no allocation beyond what the transport does (shared payload
 * buffers, plain-number counters, HDR record, pre-resolved metric children), one `indexOf` scan per chunk read.
 *
 * Faults, each counted once:
 *  - dial failure -> dialErrors (+ a redial with backoff when `reconnect`, bounded by `maxReconnects`); a dial
 *    still in flight when the run ends is a dial failure too;
 *  - connection lost (cut, or closed by the far end) at any time after it opened -> drops (+ readErrors when it
 *    closed with an error, as in Coder where the read loop reports it); with `reconnect` it is re-dialled and a
 *    success counts reconnects; without it the connection ends with status "error". That includes the drain
 *    and our own close: a connection cut before the far end answered our goodbye was lost, not closed (the
 *    kind says so by closing with an Error), and ends with status "error" too;
 *  - a failed write -> writeErrors, then the connection is abandoned, which is a drop (handled as above).
 *    Nothing more is written on that connection, so a dead connection yields exactly one write error.
 * After a drop the timetable keeps running: once re-dialled, the ticks that fell due during the outage are
 * sent at once and each is timed from its own due time, so an outage shows up as latency, not as missing
 * samples. Echoes outstanding when the connection dropped, ticks a connection never got to send (it failed
 * for good, or was still down when the run ended) and ticks still in flight after the drain count as
 * ticksLost (ticksCompleted + ticksLost = ticks due).
 *
 * Metrics (optional `metrics`, src/metrics/traffic.ts): Coder's coderd_scaletest_* series per connection
 * (read latency = time a blocking read would have waited, i.e. since the previous chunk, as in Coder's Go
 * reader; write latency = duration of the write call/promise), plus tick latency, dial time, drops,
 * reconnects and a connections-by-state gauge. Children are resolved once per connection.
 */
import { performance } from "node:perf_hooks";
import type { ConnectionMetrics, ConnectionState, TrafficMetrics } from "../metrics/traffic.ts";
import type { CounterChild, GaugeChild, HistogramChild } from "../metrics/fast.ts";
import { ConnLatency } from "./conn-latency.ts";
import { LatencyHistogram } from "./histogram.ts";
import { makePayloadPool } from "./payload.ts";
import {
  emptyTotals,
  type ConnectionResult,
  type TimelinePoint,
  type TrafficError,
  type TrafficResult,
  type TrafficTotals,
} from "./result.ts";
import { ConnectionQueue } from "./queue.ts";
import { TimeoutScheduler, WheelScheduler, type Schedulable, type Scheduler, type SchedulerKind } from "./scheduler.ts";
import type { EchoMode, TrafficConnection, TrafficDialer, TrafficTarget } from "./transport.ts";

export interface TrafficProgress {
  elapsedMs: number;
  /** Connections by state right now ("queued": waiting for a job-concurrency slot; always set by the engine). */
  connections: Record<Exclude<ConnectionState, "queued"> | "pending", number> & { queued?: number };
  /** Running totals; ticksLost is only computed at the end (0 here). */
  totals: TrafficTotals;
  /** The second that just ended. */
  lastSecond: TimelinePoint;
}

export interface RunTrafficOptions {
  targets: readonly TrafficTarget[];
  dialer: TrafficDialer;
  bytesPerTick: number;
  tickIntervalMs: number;
  durationMs: number;
  /** Spread connection starts evenly over this long (default 0: all at once). Must be < durationMs. */
  rampMs?: number;
  /**
   * At most this many connections at once (Coder's --concurrency); the others queue and start as earlier ones
   * finish and close. 0 (default) = all at once.
   */
  jobConcurrency?: number;
  /** Re-dial dropped connections (and failed dials). Default false. */
  reconnect?: boolean;
  /** Re-dial attempts per connection over the run (default 10). */
  maxReconnects?: number;
  /** First re-dial delay, doubled per consecutive failure up to `reconnectMaxBackoffMs` (100 ms / 5 s). */
  reconnectBackoffMs?: number;
  reconnectMaxBackoffMs?: number;
  /** Per dial attempt (default 30 s). */
  dialTimeoutMs?: number;
  /** After the end, how long to wait for echoes/writes in flight (default clamp(5 ticks, 1 s, 5 s)). */
  drainMs?: number;
  /** Per connection close (default 10 s); a close that takes longer is recorded as an error message. */
  closeTimeoutMs?: number;
  /** Echo mode: max unanswered ticks per connection before sending pauses (default ~64 KiB worth, >= 2). */
  maxInFlight?: number;
  signal?: AbortSignal;
  metrics?: TrafficMetrics;
  /** "i/n", copied into the result. */
  shard?: string;
  /** Called once per second with a snapshot (for live progress lines). */
  onProgress?: (p: TrafficProgress) => void;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
  /** Payload pool seed (default 1). */
  seed?: number;
  /** Default "wheel". */
  scheduler?: SchedulerKind;
  /** Cap of the result's `errors` list (default 200). */
  maxErrors?: number;
}

const MAX_CONN_ERRORS = 5;

type State = ConnectionState | "pending";

const noopCounter: CounterChild = { inc() {}, value: 0 };
const noopHist: HistogramChild = { observe() {} };
const NOOP_METRICS: ConnectionMetrics = {
  bytesRead: noopCounter,
  bytesWritten: noopCounter,
  readErrors: noopCounter,
  writeErrors: noopCounter,
  readLatency: noopHist,
  writeLatency: noopHist,
  tickLatency: noopHist,
  dial: noopHist,
  drops: noopCounter,
  reconnects: noopCounter,
};

function errMsg(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function targetLabel(t: TrafficTarget): string {
  return `${t.ownerName}/${t.workspaceName}.${t.agentName}`;
}

class Conn implements Schedulable {
  schedSlot = -1;
  schedTimer: NodeJS.Timeout | undefined = undefined;

  state: State = "pending";
  conn: TrafficConnection | undefined = undefined;
  /** Bumped whenever the current transport is abandoned; callbacks from older generations are ignored. */
  gen = 0;
  /** Its first dial completed, at its phase: tick k is due at origin + k * interval. */
  origin = NaN;
  /** origin + durationMs: no tick due at or after it is sent. */
  windowEnd = Infinity;
  /** Its window has ended or it failed for good: the run waits for no more from it. */
  finished = false;
  windowTimer: NodeJS.Timeout | undefined = undefined;
  nextTick = 0;
  oldest = 0;
  newlines = 0;
  blocked = false;
  writePending = false;
  wGen = 0;
  wStart = 0;
  wDue = 0;
  wLen = 0;
  lastDataAt = 0;
  connectedOnce = false;
  redials = 0;
  backoffStep = 0;
  retryTimer: NodeJS.Timeout | undefined = undefined;
  /** A dial attempt is in flight (started at dialStart); aborting `dialAbort` cancels it. */
  dialInFlight = false;
  dialAbort: AbortController | undefined = undefined;
  dialStart = 0;
  aliveAtStop = false;
  /** Limited job concurrency: it finished and is being (or was) closed to free its slot. */
  retired = false;

  bytesWritten = 0;
  bytesRead = 0;
  readErrors = 0;
  writeErrors = 0;
  dialErrors = 0;
  drops = 0;
  reconnects = 0;
  ticksSent = 0;
  ticksCompleted = 0;
  dialMs: number | null = null;
  /** Its own tick latency summary (~0.3 KB; run-wide figures keep HDR at 3 digits). */
  readonly hist = new ConnLatency();
  readonly errors: string[] = [];

  readonly onWriteDone: () => void;
  readonly onWriteFail: (err: unknown) => void;

  constructor(
    readonly target: TrafficTarget,
    readonly slot: number,
    readonly m: ConnectionMetrics,
    run: TrafficRun,
  ) {
    // Bound once per connection so async writes allocate no closures per tick.
    this.onWriteDone = () => run.writeDone(this);
    this.onWriteFail = (err: unknown) => run.writeFailed(this, this.wGen, err);
  }
}

class TrafficRun {
  private readonly now: () => number;
  private readonly interval: number;
  private readonly echo: EchoMode;
  private readonly nlPerTick: number;
  private readonly pool: Buffer[];
  private readonly conns: Conn[];
  private readonly sched: Scheduler<Conn>;
  private readonly maxInFlight: number;
  private readonly maxErrors: number;
  private readonly stateGauges = new Map<State, GaugeChild>();

  private readonly totals: TrafficTotals = emptyTotals();
  private readonly tickHist = new LatencyHistogram(3);
  private readonly dialHist = new LatencyHistogram(3);
  private readonly secHist = new LatencyHistogram(2);
  private sec = { bytesWritten: 0, bytesRead: 0, ticks: 0 };
  private secIndex = 0;
  private readonly timeline: TimelinePoint[] = [];
  private readonly errors: TrafficError[] = [];
  private errorsOmitted = 0;
  private readonly stateCounts: Record<State, number> = {
    pending: 0,
    queued: 0,
    dialing: 0,
    open: 0,
    reconnecting: 0,
    closed: 0,
    failed: 0,
  };

  private runStart = 0;
  private wallStart = 0;
  private stopAt = Infinity;
  /** Connections not yet finished (window ended, or failed for good); the run ends when it reaches 0. */
  private unfinished = 0;
  private stopping = false;
  private closing = false;
  private endReason: "duration" | "aborted" = "duration";
  private inFlight = 0;
  private pendingWrites = 0;
  private drainResolve: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private secTimer: NodeJS.Timeout | undefined;
  private done!: (r: TrafficResult) => void;
  private failed!: (e: unknown) => void;
  private readonly onAbort = () => void this.stop("aborted");
  private readonly queue: ConnectionQueue<Conn>;
  /** Retired connections still closing; stop() waits for them. */
  private readonly retiring = new Set<Promise<void>>();

  constructor(private readonly o: RunTrafficOptions) {
    validate(o);
    this.now = o.now ?? (() => performance.now());
    this.interval = o.tickIntervalMs;
    this.echo = o.dialer.echo;
    this.nlPerTick = Math.max(1, Math.floor(o.dialer.echoNewlinesPerTick ?? 1));
    this.pool = makePayloadPool(o.bytesPerTick, o.seed ?? 1);
    this.maxInFlight = o.maxInFlight ?? Math.max(2, Math.floor(65536 / o.bytesPerTick));
    this.maxErrors = o.maxErrors ?? 200;
    const kind = o.dialer.kind;
    this.conns = o.targets.map((t, i) => {
      const m = o.metrics
        ? o.metrics.connection({
            kind,
            username: t.ownerName,
            workspaceName: t.workspaceName,
            agentName: t.agentName,
          })
        : NOOP_METRICS;
      return new Conn(t, i, m, this);
    });
    this.queue = new ConnectionQueue<Conn>(o.jobConcurrency ?? 0, (c) => this.dial(c));
    if (o.metrics) {
      for (const s of ["queued", "dialing", "open", "reconnecting", "closed", "failed"] as const) {
        this.stateGauges.set(s, o.metrics.connectionState(kind, s));
      }
    }
    this.stateCounts.pending = this.conns.length;
    const fire = (c: Conn, now: number) => this.pump(c, now);
    this.sched =
      o.scheduler === "timeout"
        ? new TimeoutScheduler<Conn>(fire, this.now)
        : new WheelScheduler<Conn>(fire, this.now, this.interval);
  }

  run(): Promise<TrafficResult> {
    return new Promise<TrafficResult>((resolve, reject) => {
      this.done = resolve;
      this.failed = reject;
      this.runStart = this.now();
      this.wallStart = Date.now();
      const o = this.o;
      if (o.signal?.aborted) {
        void this.stop("aborted");
        return;
      }
      o.signal?.addEventListener("abort", this.onAbort, { once: true });
      this.secTimer = setInterval(() => this.closeSecond(), 1000);
      const n = this.conns.length;
      this.unfinished = n;
      const ramp = o.rampMs ?? 0;
      for (let i = 0; i < n; i++) {
        const c = this.conns[i]!;
        const delay = ramp > 0 ? Math.floor((i * ramp) / n) : 0;
        if (delay === 0) this.admit(c);
        else this.timers.push(setTimeout(() => this.admit(c), delay));
      }
    });
  }

  // ---- connection lifecycle ----

  private setState(c: Conn, s: State): void {
    if (c.state === s) return;
    this.stateCounts[c.state]--;
    this.stateGauges.get(c.state)?.dec();
    c.state = s;
    this.stateCounts[s]++;
    this.stateGauges.get(s)?.inc();
  }

  private recordError(c: Conn, message: string): void {
    if (c.errors.length < MAX_CONN_ERRORS) c.errors.push(message);
    if (this.errors.length < this.maxErrors) {
      this.errors.push({ target: targetLabel(c.target), message, at: new Date().toISOString() });
    } else {
      this.errorsOmitted++;
    }
  }

  /** Its start time has come: it dials now, or waits in the queue for a job-concurrency slot. */
  private admit(c: Conn): void {
    if (this.stopping) return;
    if (!this.queue.enter(c)) this.setState(c, "queued");
  }

  private dial(c: Conn): void {
    if (this.stopping) return;
    c.retryTimer = undefined;
    this.setState(c, c.connectedOnce ? "reconnecting" : "dialing");
    const gen = ++c.gen;
    const t0 = this.now();
    c.dialInFlight = true;
    c.dialStart = t0;
    // One controller and one timer per dial, both dropped when the dial settles (no AbortSignal.any or
    // AbortSignal.timeout left behind per connection for the timeout's whole length); stop() aborts the
    // dials still in flight.
    const ac = new AbortController();
    c.dialAbort = ac;
    const timeoutMs = this.o.dialTimeoutMs ?? 30_000;
    const timer = setTimeout(() => ac.abort(new Error(`dial timed out after ${timeoutMs} ms`)), timeoutMs);
    const settled = (): void => {
      clearTimeout(timer);
      if (c.dialAbort === ac) c.dialAbort = undefined;
    };
    let p: Promise<TrafficConnection>;
    try {
      p = this.o.dialer.dial(c.target, ac.signal);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (conn) => {
        settled();
        this.connected(c, gen, conn, t0);
      },
      (err: unknown) => {
        settled();
        this.dialFailed(c, gen, err, ac.signal);
      },
    );
  }

  private connected(c: Conn, gen: number, conn: TrafficConnection, t0: number): void {
    if (gen === c.gen) c.dialInFlight = false;
    if (this.stopping || gen !== c.gen) {
      conn.close().catch(() => {});
      return;
    }
    const t = this.now();
    const dt = t - t0;
    this.dialHist.record(dt);
    c.m.dial.observe(dt / 1000);
    if (c.dialMs === null) c.dialMs = Math.round(dt * 1000) / 1000;
    c.conn = conn;
    conn.onData((chunk) => this.onData(c, gen, chunk));
    conn.onClose((err) => this.onClose(c, gen, err));
    if (c.gen !== gen) return; // closed synchronously while registering
    if (c.connectedOnce) {
      c.reconnects++;
      this.totals.reconnects++;
      c.m.reconnects.inc();
      // The timetable kept running during the outage: the ticks that fell due meanwhile are sent now (pump),
      // each timed from its own due time, so the outage is latency, not omitted samples.
    } else {
      // The timetable starts when the connection is up: dial time is the dial stage's, not tick latency, and
      // every connection is due the same number of ticks whatever its dial took.
      c.connectedOnce = true;
      c.origin = t + this.phaseDelay(c, t);
      c.windowEnd = c.origin + this.o.durationMs;
      c.nextTick = 0;
      c.windowTimer = setTimeout(() => this.windowEnded(c), c.windowEnd - t);
    }
    c.oldest = c.nextTick;
    c.newlines = 0;
    c.blocked = false;
    c.writePending = false;
    c.backoffStep = 0;
    c.lastDataAt = t;
    this.setState(c, "open");
    this.pump(c, t);
  }

  /**
   * How long after coming up (at `t`) connection `c` sends its first tick: connection i of n ticks at
   * i/n of the interval after the run's start, so the n connections' ticks are spread evenly over every
   * interval. Without it a connection ticks in the phase its dial happened to complete in, and dials that
   * complete in the same event-loop turn (hundreds at once when many are in flight) tick together for the
   * whole run: a burst of writes and echoes every interval that queues behind itself.
   */
  private phaseDelay(c: Conn, t: number): number {
    const phase = this.runStart + (c.slot * this.interval) / this.conns.length;
    return (((phase - t) % this.interval) + this.interval) % this.interval;
  }

  private dialFailed(c: Conn, gen: number, err: unknown, signal: AbortSignal): void {
    if (gen === c.gen) c.dialInFlight = false;
    if (this.stopping || gen !== c.gen) return;
    c.dialErrors++;
    this.totals.dialErrors++;
    // Only the dial's own timer aborts it while the run goes on (stop() sets `stopping` first).
    const timedOut = signal.aborted;
    this.recordError(
      c,
      timedOut ? `dial timed out after ${this.o.dialTimeoutMs ?? 30_000} ms` : `dial failed: ${errMsg(err)}`,
    );
    this.retryOrFail(c);
  }

  private retryOrFail(c: Conn): void {
    const o = this.o;
    if (o.reconnect && c.redials < (o.maxReconnects ?? 10)) {
      c.redials++;
      const base = o.reconnectBackoffMs ?? 100;
      const delay = Math.min(o.reconnectMaxBackoffMs ?? 5000, base * 2 ** c.backoffStep);
      c.backoffStep++;
      this.setState(c, c.connectedOnce ? "reconnecting" : "dialing");
      c.retryTimer = setTimeout(() => this.dial(c), delay);
    } else {
      if (o.reconnect) this.recordError(c, `gave up after ${c.redials} re-dial attempts`);
      this.setState(c, "failed");
      this.finish(c);
    }
  }

  /** The connection's window is over (timer); a timer can fire a little early, so wait for the real end. */
  private windowEnded(c: Conn): void {
    c.windowTimer = undefined;
    if (this.stopping || c.finished) return;
    const left = c.windowEnd - this.now();
    if (left > 0) {
      c.windowTimer = setTimeout(() => this.windowEnded(c), Math.max(1, Math.ceil(left)));
      return;
    }
    // Send the ticks due inside the window whose scheduler slot has not fired yet (slots fire up to 1 ms late).
    if (c.state === "open") this.pump(c, c.windowEnd - 1e-6);
    this.finish(c);
  }

  /** The run waits for nothing more from `c` (it may still catch up on ticks due inside its window). */
  private finish(c: Conn): void {
    if (c.finished) return;
    c.finished = true;
    if (c.windowTimer) clearTimeout(c.windowTimer);
    c.windowTimer = undefined;
    if (this.queue.limit > 0 && !this.stopping) this.retire(c);
    if (--this.unfinished <= 0) queueMicrotask(() => void this.stop("duration"));
  }

  /**
   * Limited job concurrency: a finished connection waits for its echoes and writes in flight (up to the drain
   * period), then closes, and only then frees its slot for the next queued connection.
   */
  private retire(c: Conn): void {
    c.retired = true;
    // Ended for good while still re-dialling: that attempt is a failed dial, as at the end of the run.
    if (c.retryTimer) clearTimeout(c.retryTimer);
    c.retryTimer = undefined;
    if (c.dialInFlight) {
      c.dialInFlight = false;
      c.gen++;
      c.dialAbort?.abort(new Error("its window ended"));
      c.dialErrors++;
      this.totals.dialErrors++;
      this.recordError(c, `re-dial still in progress when its window ended (${Math.round(this.now() - c.dialStart)} ms after it began)`);
    }
    if (c.state !== "open") {
      c.aliveAtStop = false;
      if (c.state !== "failed") this.setState(c, "failed");
      this.queue.leave();
      return;
    }
    const deadline = this.now() + this.drainMs();
    const step = Math.min(250, Math.max(10, this.interval));
    let settle!: () => void;
    const closed = new Promise<void>((r) => (settle = r));
    this.retiring.add(closed);
    const done = (): void => {
      this.retiring.delete(closed);
      settle();
      this.queue.leave();
    };
    const check = (): void => {
      // stop() drains and closes it with the others (and waits for `closed`).
      if (this.stopping) return done();
      const busy = c.state === "open" && (c.writePending || (this.echo === "echo" && c.oldest < c.nextTick));
      if (busy && this.now() < deadline) {
        setTimeout(check, step);
        return;
      }
      void this.closeRetired(c).then(done, done);
    };
    check();
  }

  /** Closes a retired connection; what was still in flight is lost (counted in ticksLost by result()). */
  private async closeRetired(c: Conn): Promise<void> {
    const conn = c.conn;
    if (c.state !== "open" || !conn) {
      c.aliveAtStop = false;
      return;
    }
    this.dropOutstanding(c);
    c.wGen = -1;
    c.aliveAtStop = true;
    // "closed" from now on, so nothing more is sent; the generation stays: a connection lost during its close
    // still reaches onClose (a drop, status error), as at the end of the run.
    this.setState(c, "closed");
    c.conn = undefined;
    const closeTimeout = this.o.closeTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        conn.close(),
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`close did not finish within ${closeTimeout} ms`)), closeTimeout);
        }),
      ]);
    } catch (err) {
      this.recordError(c, `close: ${errMsg(err)}`);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private drainMs(): number {
    return this.o.drainMs ?? Math.min(5000, Math.max(1000, 5 * this.interval));
  }

  /** The current transport ended unexpectedly (close event or failed write). */
  private drop(c: Conn, reason: string): void {
    // A retired connection is "closed" while we close it; lost before the far end answered, it is a drop.
    if (c.state !== "open" && !(c.retired && c.state === "closed" && c.aliveAtStop)) return;
    c.drops++;
    this.totals.drops++;
    c.m.drops.inc();
    this.recordError(c, reason);
    this.abandon(c);
    if (this.stopping || c.retired) {
      c.aliveAtStop = false;
      this.setState(c, "failed");
    }
    else this.retryOrFail(c);
    this.checkDrained();
  }

  /** Unschedules `c` and writes off what it had outstanding (ticks in flight, a pending write). */
  private dropOutstanding(c: Conn): void {
    this.sched.cancel(c);
    this.inFlight -= c.nextTick - c.oldest;
    c.oldest = c.nextTick;
    if (c.writePending) {
      c.writePending = false;
      this.pendingWrites--;
    }
  }

  /** Forgets the current transport: outstanding ticks become lost, its callbacks become stale. */
  private abandon(c: Conn): void {
    this.dropOutstanding(c);
    const old = c.conn;
    c.conn = undefined;
    c.gen++;
    if (old) {
      try {
        old.close().catch(() => {});
      } catch {
        // already closed
      }
    }
  }

  private onClose(c: Conn, gen: number, err: Error | undefined): void {
    if (gen !== c.gen) return;
    // While we close it, only a loss is news (the far end never answered our goodbye): a clean end is ours.
    if ((this.closing || c.retired) && !err) return;
    if (err) {
      c.readErrors++;
      this.totals.readErrors++;
      c.m.readErrors.inc();
    }
    this.drop(c, err ? `connection lost: ${errMsg(err)}` : "connection closed by the far end");
  }

  // ---- hot path ----

  private pump(c: Conn, t: number): void {
    if (c.state !== "open" || this.closing || c.writePending) return;
    // After its window, a connection that was behind still sends the ticks that fell due inside the window
    // (measured from their due times): a slow far end shows as latency, not fewer ticks.
    const end = c.windowEnd;
    if (this.stopping) t = Math.min(t, end - 1e-6);
    const interval = this.interval;
    for (;;) {
      const due = c.origin + c.nextTick * interval;
      if (due >= end) return;
      if (due > t) {
        if (!this.stopping) this.sched.schedule(c, due);
        return;
      }
      if (this.echo === "echo" && c.nextTick - c.oldest >= this.maxInFlight) {
        c.blocked = true;
        return;
      }
      if (!this.sendTick(c, due)) return;
    }
  }

  /** Returns whether the caller may send the next tick right away. */
  private sendTick(c: Conn, due: number): boolean {
    const conn = c.conn!;
    const buf = this.pool[(c.slot + c.nextTick) % this.pool.length]!;
    const t0 = this.now();
    let r: void | Promise<void>;
    try {
      r = conn.write(buf);
    } catch (err) {
      this.writeFailed(c, c.gen, err);
      return false;
    }
    c.nextTick++;
    c.ticksSent++;
    this.totals.ticksSent++;
    if (this.echo === "echo") this.inFlight++;
    if (r === undefined) {
      this.wrote(c, buf.length, t0, this.now(), due);
      return true;
    }
    c.writePending = true;
    this.pendingWrites++;
    c.wGen = c.gen;
    c.wStart = t0;
    c.wDue = due;
    c.wLen = buf.length;
    r.then(c.onWriteDone, c.onWriteFail);
    return false;
  }

  private wrote(c: Conn, len: number, t0: number, t1: number, due: number): void {
    c.bytesWritten += len;
    this.totals.bytesWritten += len;
    this.sec.bytesWritten += len;
    c.m.bytesWritten.inc(len);
    c.m.writeLatency.observe((t1 - t0) / 1000);
    if (this.echo !== "echo") this.complete(c, t1 - due);
  }

  writeDone(c: Conn): void {
    if (c.wGen !== c.gen || !c.writePending || this.closing) return;
    c.writePending = false;
    this.pendingWrites--;
    const t = this.now();
    this.wrote(c, c.wLen, c.wStart, t, c.wDue);
    this.pump(c, t);
    if (this.stopping) this.checkDrained();
  }

  writeFailed(c: Conn, gen: number, err: unknown): void {
    if (gen !== c.gen || this.closing || c.state !== "open") return;
    c.writeErrors++;
    this.totals.writeErrors++;
    c.m.writeErrors.inc();
    this.drop(c, `write failed: ${errMsg(err)}`);
  }

  private onData(c: Conn, gen: number, chunk: Buffer): void {
    // After the drain, late echoes are lost ticks: nothing more is counted while the connections close.
    if (gen !== c.gen || this.closing) return;
    const t = this.now();
    const len = chunk.length;
    c.bytesRead += len;
    this.totals.bytesRead += len;
    this.sec.bytesRead += len;
    c.m.bytesRead.inc(len);
    c.m.readLatency.observe((t - c.lastDataAt) / 1000);
    c.lastDataAt = t;
    if (this.echo !== "echo") return;
    let i = chunk.indexOf(10);
    if (i === -1) return;
    do {
      if (++c.newlines >= this.nlPerTick) {
        c.newlines = 0;
        // Extra newlines (e.g. a shell banner) with no tick outstanding are ignored.
        if (c.oldest < c.nextTick) {
          const due = c.origin + c.oldest * this.interval;
          c.oldest++;
          this.inFlight--;
          this.complete(c, t - due);
        }
      }
      i = chunk.indexOf(10, i + 1);
    } while (i !== -1);
    if (c.blocked) {
      c.blocked = false;
      this.pump(c, t);
    }
    if (this.stopping) this.checkDrained();
  }

  private complete(c: Conn, latencyMs: number): void {
    c.ticksCompleted++;
    this.totals.ticksCompleted++;
    this.sec.ticks++;
    c.hist.record(latencyMs);
    this.tickHist.record(latencyMs);
    this.secHist.record(latencyMs);
    c.m.tickLatency.observe(latencyMs / 1000);
  }

  // ---- time series / progress ----

  private closeSecond(): void {
    const h = this.secHist;
    const pt: TimelinePoint = {
      t: this.secIndex++,
      bytesWritten: this.sec.bytesWritten,
      bytesRead: this.sec.bytesRead,
      ticks: this.sec.ticks,
      p95: h.count ? Math.round(h.percentile(95) * 1000) / 1000 : 0,
      max: h.count ? Math.round(h.percentile(100) * 1000) / 1000 : 0,
    };
    if (h.count) pt.hist = h.encode();
    this.timeline.push(pt);
    h.reset();
    this.sec = { bytesWritten: 0, bytesRead: 0, ticks: 0 };
    if (this.o.onProgress) {
      try {
        this.o.onProgress({
          elapsedMs: this.now() - this.runStart,
          connections: { ...this.stateCounts },
          totals: { ...this.totals, connections: this.conns.length },
          lastSecond: pt,
        });
      } catch {
        // A broken progress printer must not break the run.
      }
    }
  }

  // ---- end of run ----

  private checkDrained(): void {
    if (this.drainResolve && this.inFlight <= 0 && this.pendingWrites <= 0) {
      const r = this.drainResolve;
      this.drainResolve = undefined;
      r();
    }
  }

  private async stop(reason: "duration" | "aborted"): Promise<void> {
    if (this.stopping) return;
    this.endReason = reason;
    this.stopAt = this.now();
    // An early stop (abort) cuts every window at stopAt; otherwise every window has ended, except those of
    // connections that failed for good, whose whole window stays due (its unsent ticks are lost). Send ticks
    // that fell due but whose scheduler slot has not fired yet (it fires up to 1 ms late), so "due inside the
    // window" means sent unless the connection was really behind. A tick due exactly at the end is outside.
    for (const c of this.conns) {
      if (reason === "aborted") c.windowEnd = Math.min(c.windowEnd, this.stopAt);
      if (c.state === "open") this.pump(c, c.windowEnd - 1e-6);
    }
    this.stopping = true;
    try {
      this.o.signal?.removeEventListener("abort", this.onAbort);
      for (const t of this.timers) clearTimeout(t);
      this.timers = [];
      this.sched.stop();
      this.queue.clear();
      const ended = new Error("traffic run ended");
      for (const c of this.conns) {
        // Retired (finished, to free its job-concurrency slot): still waiting for its echoes (closed below with
        // the others), or already closed or closing (its status is known).
        if (c.retired) {
          if (c.conn) c.aliveAtStop = c.state === "open";
          continue;
        }
        c.dialAbort?.abort(ended);
        if (c.retryTimer) clearTimeout(c.retryTimer);
        if (c.windowTimer) clearTimeout(c.windowTimer);
        c.aliveAtStop = c.state === "open";
        if (c.state === "pending") this.recordError(c, "never dialled: the run ended during the ramp");
        if (c.state === "queued") {
          this.recordError(c, `never dialled: still queued for one of the ${this.queue.limit} job-concurrency slots when the run ended`);
        }
        if (c.dialInFlight) {
          // The run ended (or was stopped) before this dial completed: a failed dial, counted and explained.
          c.dialInFlight = false;
          c.dialErrors++;
          this.totals.dialErrors++;
          const what = c.connectedOnce ? "re-dial" : "dial";
          this.recordError(c, `${what} still in progress when the run ended (${Math.round(this.stopAt - c.dialStart)} ms after it began)`);
        }
        if (c.state !== "open") this.setState(c, c.state === "pending" || c.state === "queued" ? "closed" : "failed");
      }

      // Drain: let echoes and writes already in flight complete.
      const drainMs = this.drainMs();
      if (this.inFlight > 0 || this.pendingWrites > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.drainResolve = undefined;
            resolve();
          }, drainMs);
          this.drainResolve = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }

      this.closing = true;
      const closeTimeout = this.o.closeTimeoutMs ?? 10_000;
      await Promise.all(
        this.conns.map(async (c) => {
          const conn = c.conn;
          if (!conn) return;
          // The generation stays: a connection lost during its close still reaches onClose (a drop).
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              conn.close(),
              new Promise<void>((_, reject) => {
                timer = setTimeout(
                  () => reject(new Error(`close did not finish within ${closeTimeout} ms`)),
                  closeTimeout,
                );
              }),
            ]);
          } catch (err) {
            this.recordError(c, `close: ${errMsg(err)}`);
          } finally {
            if (timer) clearTimeout(timer);
            c.conn = undefined;
            if (c.state === "open") this.setState(c, "closed");
          }
        }),
      );
      await Promise.all([...this.retiring]);
      if (this.secTimer) clearInterval(this.secTimer);
      if (this.sec.bytesRead || this.sec.bytesWritten || this.sec.ticks || this.secHist.count) this.closeSecond();
      this.done(this.result());
    } catch (err) {
      this.failed(err);
    }
  }

  private result(): TrafficResult {
    const o = this.o;
    const perConnection: ConnectionResult[] = this.conns.map((c) => {
      let due = 0;
      // Ticks k with origin + k * interval < windowEnd (the epsilon absorbs float error in windowEnd - origin).
      if (c.connectedOnce && c.windowEnd > c.origin) due = Math.ceil((c.windowEnd - c.origin) / this.interval - 1e-9);
      due = Math.max(due, c.nextTick);
      const ticksLost = Math.max(0, due - c.ticksCompleted);
      this.totals.ticksLost += ticksLost;
      return {
        target: c.target,
        bytesWritten: c.bytesWritten,
        bytesRead: c.bytesRead,
        readErrors: c.readErrors,
        writeErrors: c.writeErrors,
        dialErrors: c.dialErrors,
        drops: c.drops,
        reconnects: c.reconnects,
        ticksSent: c.ticksSent,
        ticksCompleted: c.ticksCompleted,
        ticksLost,
        dialMs: c.dialMs,
        tickLatency: c.hist.percentiles(),
        errors: c.errors,
        status: c.aliveAtStop ? (c.drops > 0 ? "dropped" : "ok") : "error",
      };
    });
    this.totals.connections = this.conns.length;
    const endedWall = this.wallStart + (this.now() - this.runStart);
    return {
      kind: o.dialer.kind,
      mode: o.dialer.echo,
      ...(o.shard ? { shard: o.shard } : {}),
      settings: {
        bytesPerTick: o.bytesPerTick,
        tickIntervalMs: o.tickIntervalMs,
        durationMs: o.durationMs,
        rampMs: o.rampMs ?? 0,
        reconnect: !!o.reconnect,
        jobConcurrency: o.jobConcurrency ?? 0,
      },
      startedAt: new Date(this.wallStart).toISOString(),
      endedAt: new Date(endedWall).toISOString(),
      durationMs: Math.round(endedWall - this.wallStart),
      endReason: this.endReason,
      totals: this.totals,
      latency: { tick: this.tickHist.percentiles(), dial: this.dialHist.percentiles() },
      histograms: {
        tick: this.tickHist.count ? this.tickHist.encode() : "",
        dial: this.dialHist.count ? this.dialHist.encode() : "",
      },
      perConnection,
      errors: this.errors,
      errorsOmitted: this.errorsOmitted,
      timeline: this.timeline,
    };
  }
}

function validate(o: RunTrafficOptions): void {
  const bad = (msg: string): never => {
    throw new Error(`traffic options: ${msg}`);
  };
  if (!Number.isInteger(o.bytesPerTick) || o.bytesPerTick < 1) bad(`bytesPerTick must be an integer >= 1 (got ${o.bytesPerTick})`);
  if (!(o.tickIntervalMs > 0)) bad(`tickIntervalMs must be > 0 (got ${o.tickIntervalMs})`);
  if (!(o.durationMs > 0)) bad(`durationMs must be > 0 (got ${o.durationMs})`);
  const ramp = o.rampMs ?? 0;
  if (!(ramp >= 0)) bad(`rampMs must be >= 0 (got ${ramp})`);
  if (ramp >= o.durationMs) bad(`rampMs (${ramp}) must be shorter than durationMs (${o.durationMs}): otherwise the first connections finish before the last start`);
  if (o.maxReconnects !== undefined && !(o.maxReconnects >= 0)) bad(`maxReconnects must be >= 0`);
  if (o.maxInFlight !== undefined && !(o.maxInFlight >= 1)) bad(`maxInFlight must be >= 1`);
  const jc = o.jobConcurrency ?? 0;
  if (!Number.isInteger(jc) || jc < 0) bad(`jobConcurrency must be an integer >= 0, 0 = unlimited (got ${jc})`);
  if (o.targets.length === 0) bad("no targets: nothing to connect to");
}

/** Runs workspace traffic to completion. See the header of this file for the semantics. */
export function runTraffic(opts: RunTrafficOptions): Promise<TrafficResult> {
  let run: TrafficRun;
  try {
    run = new TrafficRun(opts);
  } catch (err) {
    return Promise.reject(err);
  }
  return run.run();
}
