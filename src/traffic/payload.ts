/**
 * Tick payloads, generated once per run and reused (no per-tick allocation or randomness on the hot path).
 *
 * Same content rules as Coder's workspace-traffic writer: bytesPerTick-1 characters drawn from tab, space and
 * ASCII 0x21..0x7D, then "\n". None of those characters is "\n" or "\r", which is what lets the engine count
 * completed echo ticks by counting newlines.
 */

/** tab, space, '!'..'}' (0x21..0x7D), exactly as Coder's writer. */
export const PAYLOAD_ALPHABET: Uint8Array = (() => {
  const chars = [0x09, 0x20];
  for (let c = 0x21; c <= 0x7d; c++) chars.push(c);
  return Uint8Array.from(chars);
})();

// Payload bytes come from the seeded PRNG so runs are reproducible.
import { seededRandom } from "../util/random.ts";
export { seededRandom };

/** Fills one payload of `size` bytes: random printable chars then "\n". */
export function makePayload(size: number, rand: () => number): Buffer {
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`bytes per tick must be an integer >= 1 (got ${size})`);
  }
  const buf = Buffer.allocUnsafe(size);
  const n = PAYLOAD_ALPHABET.length;
  for (let i = 0; i < size - 1; i++) buf[i] = PAYLOAD_ALPHABET[Math.floor(rand() * n)]!;
  buf[size - 1] = 0x0a;
  return buf;
}

/** Keep the pool small in bytes: a few distinct payloads are enough to defeat compression/caching. */
const POOL_BUDGET_BYTES = 1 << 20;
const POOL_MAX = 32;

/**
 * A fixed pool of payloads. Connection `i` at tick `k` uses `pool[(i + k) % pool.length]`, so neighbouring
 * connections send different bytes each tick.
 */
export function makePayloadPool(bytesPerTick: number, seed = 1): Buffer[] {
  const count = Math.max(1, Math.min(POOL_MAX, Math.floor(POOL_BUDGET_BYTES / Math.max(1, bytesPerTick))));
  const rand = seededRandom(seed);
  const pool: Buffer[] = [];
  for (let i = 0; i < count; i++) pool.push(makePayload(bytesPerTick, rand));
  return pool;
}
