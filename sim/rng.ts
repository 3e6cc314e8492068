// Seeded randomness for the simulator: every random choice (ids, tokens, build durations, faults)
// comes from one of these so a run with the same seed makes the same choices in the same order.
// The generator itself is src/util/random.ts: the simulator may use the product's generic utilities (never
// the other way round); a PRNG carries no Coder behaviour the simulator would have to reproduce independently.
import { seededRandom } from "../src/util/random.ts";

export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** RFC 4122 version-4 UUID built from this generator. */
  uuid(): string;
  /** Random string over [a-zA-Z0-9] of the given length. */
  alnum(length: number): string;
}

/** Built on the project's one seeded PRNG (mulberry32; not for secrets). */
export function createRng(seed: number): Rng {
  const next = seededRandom(seed);
  const hex = (n: number): string => {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(next() * 16).toString(16);
    return s;
  };
  const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => p > 0 && next() < p,
    uuid: () => {
      const variant = "89ab"[Math.floor(next() * 4)] ?? "8";
      return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
    },
    alnum: (length) => {
      let s = "";
      for (let i = 0; i < length; i++) s += ALNUM[Math.floor(next() * ALNUM.length)] ?? "a";
      return s;
    },
  };
}
