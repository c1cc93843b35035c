import { type Catalog, dotRows } from '../catalog.ts';
import { type ScoredPool, signalStrength } from '../pool.ts';
import type { SessionState } from '../session.ts';

/** How a signal's item pulls on a candidate: embedding similarity, shared tags, the same album, the same artist. */
const WEIGHTS = { embedding: 0.45, tags: 0.25, album: 0.15, artist: 0.15 } as const;

/**
 * The cheap correction for what the listener said since a pool was scored: each outcome marked later moves
 * the scores of candidates near its item (embedding, tags, album, artist) by its strength, in units of the
 * pool's score spread. A dislike of a near twin takes a candidate from the top of the pool to the bottom;
 * a like lifts its neighbours as much. Undefined when nothing was said since (the common case), so the pick
 * costs no more than the plain slate.
 */
export function feedbackCorrection(
  catalog: Catalog,
  state: SessionState,
  pool: ScoredPool,
  indexes: readonly number[],
): Float32Array | undefined {
  if ((state.signals ?? 0) === pool.signal) return undefined;
  const signals: { index: number; strength: number }[] = [];
  for (let h = state.history.length - 1; h >= 0; h--) {
    const entry = state.history[h];
    if ((entry.mark ?? 0) <= pool.signal) continue;
    const strength = signalStrength(entry);
    const index = catalog.indexOf(entry.id);
    if (strength !== 0 && index !== undefined) signals.push({ index, strength });
  }
  if (signals.length === 0) return undefined;

  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of pool.scores) {
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  const span = hi - lo || 1;
  const { dim, embeddings, tagIds, tagOffsets, artistIds, albumIds } = catalog;
  const count = indexes.length;
  const delta = new Float32Array(count);
  const sims = new Float64Array(count);
  for (const { index, strength } of signals) {
    dotRows(embeddings, index * dim, embeddings, dim, indexes, 0, count, sims);
    const t0 = tagOffsets[index];
    const t1 = tagOffsets[index + 1];
    const artist = artistIds[index];
    const album = albumIds[index];
    for (let c = 0; c < count; c++) {
      const i = indexes[c];
      let shared = 0;
      const u0 = tagOffsets[i];
      const u1 = tagOffsets[i + 1];
      for (let a = t0; a < t1; a++) {
        for (let b = u0; b < u1; b++) {
          if (tagIds[a] === tagIds[b]) {
            shared++;
            break;
          }
        }
      }
      const union = t1 - t0 + (u1 - u0) - shared;
      const pull =
        WEIGHTS.embedding * Math.max(0, sims[c]) +
        WEIGHTS.tags * (union > 0 ? shared / union : 0) +
        (album >= 0 && albumIds[i] === album ? WEIGHTS.album : 0) +
        (artistIds[i] === artist ? WEIGHTS.artist : 0);
      delta[c] += strength * pull * span;
    }
  }
  return delta;
}
