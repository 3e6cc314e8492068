/**
 * --job-concurrency for workspace traffic: at most N connections at once, as Coder's runner passes its
 * `job_concurrency` to `coder exp scaletest workspace-traffic --concurrency` (harness.ParallelExecutionStrategy:
 * at most N runs active, the next one starts when one returns; 0 = unlimited, Coder's ConcurrentExecutionStrategy).
 *
 * A connection takes a slot before its first dial and gives it back once it has finished (its window ended,
 * or it failed for good) and its transport is closed; the oldest queued connection then starts. Only used at
 * connection start and finish, never per tick.
 */
import { BadInputError } from "../util/errors.ts";

/** FIFO admission with `limit` slots (0 = no limit: everything starts at once). */
export class ConnectionQueue<T> {
  private running = 0;
  private readonly waiting: T[] = [];
  private head = 0;

  constructor(
    readonly limit: number,
    private readonly start: (item: T) => void,
  ) {
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`job concurrency must be an integer >= 0 (got ${limit})`);
  }

  /** Starts `item` now when a slot is free (returns true), else queues it behind the others (false). */
  enter(item: T): boolean {
    if (this.limit === 0 || this.running < this.limit) {
      this.running++;
      this.start(item);
      return true;
    }
    this.waiting.push(item);
    return false;
  }

  /** A started item is done with its slot: the oldest queued item takes it. */
  leave(): void {
    if (this.running > 0) this.running--;
    if (this.head < this.waiting.length && (this.limit === 0 || this.running < this.limit)) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as T;
      if (this.head === this.waiting.length) {
        this.waiting.length = 0;
        this.head = 0;
      }
      this.running++;
      this.start(next);
    }
  }

  /** Items waiting for a slot. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Items holding a slot. */
  get active(): number {
    return this.running;
  }

  /** The run is ending: nothing queued starts any more. Returns what never started, in queue order. */
  clear(): T[] {
    const left = this.waiting.slice(this.head);
    this.waiting.length = 0;
    this.head = 0;
    return left;
  }
}

/**
 * A shard's part of a run-wide job concurrency: the N slots are shared out over the n shards (sizes differ by
 * at most one), so all shards together never hold more than N connections. 0 stays 0 (unlimited).
 */
export function shardJobConcurrency(jobConcurrency: number, shard: { index: number; count: number } | undefined): number {
  if (jobConcurrency === 0 || !shard || shard.count <= 1) return jobConcurrency;
  if (jobConcurrency < shard.count) {
    throw new BadInputError(`job concurrency ${jobConcurrency} (--job-concurrency; --concurrency of the traffic scripts) is less than the ${shard.count} shards: each shard needs at least one connection at a time; raise it or use fewer runners`);
  }
  const base = Math.floor(jobConcurrency / shard.count);
  return base + (shard.index < jobConcurrency % shard.count ? 1 : 0);
}

/** How many times over the connections' windows run back to back: ceil(connections / N), 1 when unlimited. */
export function trafficWaves(connections: number, jobConcurrency: number): number {
  if (jobConcurrency <= 0 || connections <= jobConcurrency) return 1;
  return Math.ceil(connections / jobConcurrency);
}
