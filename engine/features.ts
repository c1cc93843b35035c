import { FEATURE_INDEX as F, FEATURE_COUNT } from '../models/featureSchema.ts';
import type { Catalog } from './catalog.ts';
import type { SessionQuery } from './query.ts';
import { type Candidates, SOURCE_BIT } from './retrieval/retrieve.ts';

/**
 * One row of features per candidate, in the order of the feature schema: the model's whole input for
 * one decision. The same function builds training examples, so training and serving cannot drift apart.
 */
export function assembleFeatures(
  catalog: Catalog,
  query: SessionQuery,
  candidates: Candidates,
  position: number,
  out?: Float32Array,
): Float32Array {
  const n = candidates.indexes.length;
  const rows =
    out && out.length >= n * FEATURE_COUNT
      ? out.subarray(0, n * FEATURE_COUNT)
      : new Float32Array(n * FEATURE_COUNT);
  const dim = catalog.dim;
  const emb = catalog.embeddings;
  const logMaxPop = Math.log1p(catalog.maxPopularity) || 1;
  const progress = Math.min(1, Math.log1p(position) / Math.log1p(1000));
  const tagPosMax = max(query.tagPos);
  const tagNegMax = max(query.tagNeg);
  const vectors = [query.vector, query.pos, query.neg, query.last, query.intent, query.steer];
  const columns = [F.sim_query, F.sim_pos, F.sim_neg, F.sim_last, F.sim_intent, F.sim_steer];

  for (let c = 0; c < n; c++) {
    const index = candidates.indexes[c];
    const item = catalog.items[index];
    const row = c * FEATURE_COUNT;
    const off = index * dim;
    for (let v = 0; v < vectors.length; v++) {
      const q = vectors[v];
      let s = 0;
      if (q) for (let d = 0; d < dim; d++) s += q[d] * emb[off + d];
      rows[row + columns[v]] = s;
    }
    rows[row + F.popularity] = Math.log1p(item.popularity) / logMaxPop;
    rows[row + F.transition] = candidates.transition[c];
    const artist = query.artistScore.get(item.artist);
    rows[row + F.artist_pos] = artist ? Math.tanh(artist.pos / 2) : 0;
    rows[row + F.artist_neg] = artist ? Math.tanh(artist.neg / 2) : 0;
    rows[row + F.tag_pos] = tagShare(item.tags, query.tagPos, tagPosMax);
    rows[row + F.tag_neg] = tagShare(item.tags, query.tagNeg, tagNegMax);
    rows[row + F.same_artist_last] = item.artist === query.lastArtist ? 1 : 0;
    rows[row + F.year_gap] =
      item.year !== undefined && query.meanYear !== undefined
        ? Math.min(2, Math.abs(item.year - query.meanYear) / 20)
        : 0;
    rows[row + F.duration] = Math.min(3, item.durationMs / 300_000);
    const sources = candidates.sources[c];
    rows[row + F.src_ann] = sources & SOURCE_BIT.ann ? 1 : 0;
    rows[row + F.src_transition] = sources & SOURCE_BIT.transition ? 1 : 0;
    rows[row + F.src_explore] = sources & SOURCE_BIT.explore ? 1 : 0;
    rows[row + F.progress] = progress;
    rows[row + F.skip_rate] = query.skipRate;
  }
  return rows;
}

/** Weighted share of an item's tags in a tag profile, scaled by the profile's strongest tag. */
function tagShare(tags: readonly string[], profile: Map<string, number>, max: number): number {
  if (max <= 0 || tags.length === 0) return 0;
  let s = 0;
  for (const tag of tags) s += profile.get(tag) ?? 0;
  return Math.min(1, s / (max * tags.length));
}

function max(map: Map<string, number>): number {
  let m = 0;
  for (const w of map.values()) if (w > m) m = w;
  return m;
}
