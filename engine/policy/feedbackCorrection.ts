import { type Catalog, dotRows } from '../catalog.ts';
import { type ScoredPool, scoreSpan, signalStrength } from '../pool.ts';
import type { SessionState } from '../session.ts';

/** How a signal's item pulls on a candidate: embedding similarity, shared tags, the same album, the same artist. */
const WEIGHTS = { embedding: 0.45, tags: 0.25, album: 0.15, artist: 0.15 } as const;

/**
 * Each signal's pull on every item of a pool, computed once per (pool, signal) and summed at each pick: a
 * pool serves about ten picks, and most of them follow a signal. A cache of a pure function (keyed by the
 * pool object and the signal's mark), so the picks do not depend on it.
 */
const pulls = new WeakMap<ScoredPool, Map<number, Float32Array>>();

/**
 * The cheap correction for what the listener said since a pool was scored: each outcome marked later moves
 * the scores of candidates near its item (embedding, tags, album, artist) by its strength, in units of the
 * pool's score spread. A dislike of a near twin takes a candidate from the top of the pool to the bottom;
 * a like lifts its neighbours as much. Returned per pool item (aligned with `pool.items`); undefined when
 * nothing was said since (the common case right after a decision).
 */
export function feedbackCorrection(
  catalog: Catalog,
  state: SessionState,
  pool: ScoredPool,
): Float32Array | undefined {
  if ((state.signals ?? 0) === pool.signal) return undefined;
  let cached = pulls.get(pool);
  let total: Float32Array | undefined;
  for (let h = state.history.length - 1; h >= 0; h--) {
    const entry = state.history[h];
    const mark = entry.mark ?? 0;
    if (mark <= pool.signal) continue;
    const strength = signalStrength(entry);
    const index = catalog.indexOf(entry.id);
    if (strength === 0 || index === undefined) continue;
    if (!cached) {
      cached = new Map();
      pulls.set(pool, cached);
    }
    let pull = cached.get(mark);
    if (!pull) {
      pull = pullOf(catalog, pool, index, strength);
      cached.set(mark, pull);
    }
    total ??= new Float32Array(pool.items.length);
    for (let c = 0; c < total.length; c++) total[c] += pull[c];
  }
  return total;
}

/** One signal's pull on every pool item, in score units. */
function pullOf(catalog: Catalog, pool: ScoredPool, index: number, strength: number): Float32Array {
  const span = scoreSpan(pool.scores);
  const { dim, embeddings, tagMasks, artistIds, albumIds } = catalog;
  const { items } = pool;
  const count = items.length;
  const sims = new Float64Array(count);
  dotRows(embeddings, index * dim, embeddings, dim, items, 0, count, sims);
  const m0 = tagMasks[2 * index];
  const m1 = tagMasks[2 * index + 1];
  const artist = artistIds[index];
  const album = albumIds[index];
  const out = new Float32Array(count);
  for (let c = 0; c < count; c++) {
    const i = items[c];
    const n0 = tagMasks[2 * i];
    const n1 = tagMasks[2 * i + 1];
    const shared = bits(m0 & n0) + bits(m1 & n1);
    const union = bits(m0 | n0) + bits(m1 | n1);
    const pull =
      WEIGHTS.embedding * Math.max(0, sims[c]) +
      WEIGHTS.tags * (union > 0 ? shared / union : 0) +
      (album >= 0 && albumIds[i] === album ? WEIGHTS.album : 0) +
      (artistIds[i] === artist ? WEIGHTS.artist : 0);
    out[c] = strength * pull * span;
  }
  return out;
}

/** Set bits in a 32-bit word. */
function bits(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
