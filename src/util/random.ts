// The one seeded PRNG (payload bytes, the simulator's choices): same seed, same sequence. Not for secrets:
// run ids and tokens use node:crypto (secureRandomBytes below for many small draws).
import { randomFillSync } from "node:crypto";

/** mulberry32: tiny, fast, uniform floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolAt = POOL_BYTES;

/**
 * `n` bytes from node:crypto's CSPRNG, drawn from a pool filled 4 KiB at a time (as uuid and Node's randomUUID
 * do): one randomBytes call per password costs a trip through OpenSSL whose code is cold again between two
 * users (about 19 us after a 2 ms idle gap against 2.6 us back to back), once per 4 KiB here. Each byte is
 * handed out once; the copy returned is the caller's.
 */
export function secureRandomBytes(n: number): Buffer {
  if (n > POOL_BYTES) return randomFillSync(Buffer.alloc(n));
  if (poolAt + n > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const out = Buffer.from(pool.subarray(poolAt, poolAt + n));
  pool.fill(0, poolAt, poolAt + n);
  poolAt += n;
  return out;
}
