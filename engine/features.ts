import { FEATURE_INDEX as F, FEATURE_COUNT } from '../models/featureSchema.ts';
import { type Catalog, dotRows } from './catalog.ts';
import type { SessionQuery } from './query.ts';
import { type Candidates, SOURCE_BIT } from './retrieval/retrieve.ts';
import type { SequenceIndex } from './sequenceIndex.ts';

/**
 * One row of features per candidate, in the order of the feature schema: the model's whole input for
 * one decision. The same function builds training examples, so training and serving cannot drift apart.
 * Without `sequences` the sequence columns are 0 (as for a session with no logged history).
 */
export function assembleFeatures(
  catalog: Catalog,
  query: SessionQuery,
  candidates: Candidates,
  position: number,
  sequences?: SequenceIndex,
  out?: Float32Array,
): Float32Array {
  const n = candidates.indexes.length;
  const rows =
    out && out.length >= n * FEATURE_COUNT
      ? out.subarray(0, n * FEATURE_COUNT)
      : new Float32Array(n * FEATURE_COUNT);
  const dim = catalog.dim;
  const emb = catalog.embeddings;
  const progress = Math.min(1, Math.log1p(position) / Math.log1p(1000));
  const tagPos = tagWeights(query.tagPos);
  const tagNeg = tagWeights(query.tagNeg);
  const { tagIds, tagOffsets } = catalog;
  // Column numbers as locals: FEATURE_INDEX is a lookup table, too slow to consult per cell.
  const {
    artist_neg: colArtistNeg,
    artist_pos: colArtistPos,
    duration: colDuration,
    popularity: colPopularity,
    progress: colProgress,
    same_artist_last: colSameArtistLast,
    sim_intent: colSimIntent,
    sim_last: colSimLast,
    sim_neg: colSimNeg,
    sim_pos: colSimPos,
    sim_query: colSimQuery,
    sim_steer: colSimSteer,
    skip_rate: colSkipRate,
    sknn: colSknn,
    src_session: colSrcSession,
    src_ann: colSrcAnn,
    src_explore: colSrcExplore,
    src_transition: colSrcTransition,
    tag_neg: colTagNeg,
    tag_pos: colTagPos,
    transition: colTransition,
    year_gap: colYearGap,
    sr_last: colSrLast,
    sr_prev: colSrPrev,
    sr_recent: colSrRecent,
    ctx2: colCtx2,
    artist_recency: colArtistRecency,
    album_recency: colAlbumRecency,
    negative_run: colNegativeRun,
    stan: colStan,
    src_artist: colSrcArtist,
  } = F;
  const { artistIds, albumIds, years, durations } = catalog;
  const seq = sequences?.columns(query.recentPlays, candidates.indexes);
  const negativeRun = Math.min(1, query.negativeRun / 3);
  const lastArtist = query.lastArtistId ?? -1;
  const meanYear = query.meanYear ?? Number.NaN;

  // The six similarities, one session vector at a time over all candidates; a vector the session lacks
  // gives 0 without a pass.
  const sims = new Float64Array(n);
  const vectors = [query.vector, query.pos, query.neg, query.last, query.intent, query.steer];
  const simColumns = [colSimQuery, colSimPos, colSimNeg, colSimLast, colSimIntent, colSimSteer];
  for (let k = 0; k < vectors.length; k++) {
    const v = vectors[k];
    const col = simColumns[k];
    if (v) dotRows(v, 0, emb, dim, candidates.indexes, 0, n, sims);
    for (let c = 0; c < n; c++) rows[c * FEATURE_COUNT + col] = v ? sims[c] : 0;
  }

  for (let c = 0; c < n; c++) {
    const index = candidates.indexes[c];
    const row = c * FEATURE_COUNT;
    rows[row + colPopularity] = catalog.popularityScore[index];
    rows[row + colTransition] = candidates.transition[c];
    const artistId = artistIds[index];
    const artist = query.artistScore.get(artistId);
    rows[row + colArtistPos] = artist ? Math.tanh(artist.pos / 2) : 0;
    rows[row + colArtistNeg] = artist ? Math.tanh(artist.neg / 2) : 0;
    const t0 = tagOffsets[index];
    const t1 = tagOffsets[index + 1];
    rows[row + colTagPos] = tagShare(tagIds, t0, t1, tagPos);
    rows[row + colTagNeg] = tagShare(tagIds, t0, t1, tagNeg);
    rows[row + colSameArtistLast] = artistId === lastArtist ? 1 : 0;
    // NaN (unknown year on either side) compares false and gives 0.
    const gap = Math.abs(years[index] - meanYear) / 20;
    rows[row + colYearGap] = gap >= 0 ? Math.min(2, gap) : 0;
    rows[row + colDuration] = Math.min(3, durations[index] / 300_000);
    const sources = candidates.sources[c];
    rows[row + colSrcAnn] = sources & SOURCE_BIT.ann ? 1 : 0;
    rows[row + colSrcTransition] = sources & SOURCE_BIT.transition ? 1 : 0;
    rows[row + colSrcExplore] = sources & SOURCE_BIT.explore ? 1 : 0;
    rows[row + colSrcSession] = sources & SOURCE_BIT.session ? 1 : 0;
    rows[row + colSrcArtist] = sources & SOURCE_BIT.artist ? 1 : 0;
    rows[row + colSknn] = candidates.sknn[c];
    rows[row + colProgress] = progress;
    rows[row + colSkipRate] = query.skipRate;
    rows[row + colSrLast] = seq ? seq.srLast[c] : 0;
    rows[row + colSrPrev] = seq ? seq.srPrev[c] : 0;
    rows[row + colSrRecent] = seq ? seq.srRecent[c] : 0;
    rows[row + colCtx2] = seq ? seq.ctx2[c] : 0;
    const artistGap = query.artistGap.get(artistId);
    rows[row + colArtistRecency] = artistGap ? 1 / artistGap : 0;
    const albumGap = albumIds[index] >= 0 ? query.albumGap.get(albumIds[index]) : undefined;
    rows[row + colAlbumRecency] = albumGap ? 1 / albumGap : 0;
    rows[row + colNegativeRun] = negativeRun;
    rows[row + colStan] = candidates.stan ? candidates.stan[c] : 0;
  }
  return rows;
}

/** A tag profile scaled so the strongest tag weighs 1; undefined when empty. */
function tagWeights(profile: Float64Array): Float32Array | undefined {
  let max = 0;
  for (let n = 0; n < profile.length; n++) if (profile[n] > max) max = profile[n];
  if (max <= 0) return undefined;
  const weights = new Float32Array(profile.length);
  for (let n = 0; n < profile.length; n++) weights[n] = profile[n] / max;
  return weights;
}

/** Mean scaled weight of an item's tags in a profile, in [0, 1]. */
function tagShare(tagIds: Int32Array, from: number, to: number, weights: Float32Array | undefined): number {
  if (!weights || to === from) return 0;
  let s = 0;
  for (let k = from; k < to; k++) s += weights[tagIds[k]];
  return Math.min(1, s / (to - from));
}
