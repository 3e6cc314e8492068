// Seeded randomness for the simulator: every random choice (ids, tokens, build durations, faults)
// comes from one of these so a run with the same seed makes the same choices in the same order.

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

/** mulberry32: tiny, fast, good enough for simulation (not for secrets). */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
