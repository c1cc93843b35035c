import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A seeded generator; the only source of randomness in the engine. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function createRng(seed: number): Rng {
  const gen = xoroshiro128plus(seed | 0);
  return {
    next: () => uniformFloat64(gen),
    int: (n) => Math.floor(uniformFloat64(gen) * n),
  };
}

/** Mixes two integers into a new 32-bit seed (decision k of session s), so seeds do not collide. */
export function deriveSeed(a: number, b: number): number {
  let h = Math.imul((a | 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ (b | 0), 0xc2b2ae35);
  h ^= Math.imul(b | 0, 0x27d4eb2f);
  return (h ^ (h >>> 16)) | 0;
}

/** A stable 32-bit hash of a string (FNV-1a), for seeds derived from ids and tags. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
