import { type Catalog, normalise } from './catalog.ts';
import type { HistoryEntry, Intent, SessionState, Steer } from './session.ts';

/**
 * The session's "query", built like a search query from what the session knows: the starting intent,
 * recent positives and negatives (skips graded by how early they came), and the current steering.
 */
export interface SessionQuery {
  /** What retrieval searches for; undefined when the session knows nothing yet (cold start, no intent). */
  vector?: Float32Array;
  pos?: Float32Array;
  neg?: Float32Array;
  last?: Float32Array;
  intent?: Float32Array;
  steer?: Float32Array;
  /** Item indexes of recent positives, newest first (seeds for transition neighbours). */
  recentPositives: number[];
  /** Item indexes of every positive in the history window, newest first (the session for session-kNN). */
  positives: number[];
  /** Positive and negative outcome weight per artist (by `catalog.artistIds`). */
  artistScore: Map<number, { pos: number; neg: number }>;
  lastArtistId?: number;
  /** Recency-weighted outcome weight per tag number (see `catalog.tagIds`): positives and negatives. */
  tagPos: Float64Array;
  tagNeg: Float64Array;
  meanYear?: number;
  skipRate: number;
  /**
   * Item indexes of the latest plays the listener did not turn away from (queued ones included), newest
   * first, at most 5: the context of the sequence features.
   */
  recentPlays: number[];
  /** Plays since each artist / album (by `catalog.artistIds` / `albumIds`) was last heard (1 = the last), over 20 plays. */
  artistGap: Map<number, number>;
  albumGap: Map<number, number>;
  /** Early skips and dislikes in a row at the end of the heard history. */
  negativeRun: number;
  /** Tag or artist the intent or steering names: retrieval adds items of it. */
  focus: { tag?: string; artist?: string; itemIndex?: number }[];
}

/** How much an outcome says about the listener's taste: skips are graded by how early they came. */
export function outcomeWeight(entry: HistoryEntry): number {
  if (entry.liked || entry.outcome === 'liked') return 2;
  switch (entry.outcome) {
    case 'completed':
      return 1;
    case 'disliked':
      return -2;
    case 'skipped': {
      const played = entry.playedMs ?? 0;
      if (played < 5_000) return -1;
      if (played < 30_000) return -0.6;
      if (played < entry.durationMs / 2) return -0.2;
      return 0.3;
    }
    default:
      return 0;
  }
}

/** Looks up the direction of a tag or an artist; memoised by the engine. */
export interface Directions {
  tag(tag: string): Float32Array | undefined;
  artist(artist: string): Float32Array | undefined;
}

const RECENCY = 0.92;
const LOOKBACK = 60;

export function buildQuery(state: SessionState, catalog: Catalog, directions: Directions): SessionQuery {
  const dim = catalog.dim;
  const pos = new Float32Array(dim);
  const neg = new Float32Array(dim);
  let posMass = 0;
  let negMass = 0;
  const artistScore = new Map<number, { pos: number; neg: number }>();
  const tagPos = new Float64Array(catalog.tagNames.length);
  const tagNeg = new Float64Array(catalog.tagNames.length);
  const { tagIds, tagOffsets } = catalog;
  const recentPositives: number[] = [];
  // Transitions follow taste from before a steer back where the listener asked to leave: after steering,
  // only positives that came after it seed them.
  const steeredAt = state.steers.reduce(
    (at, s) => (s.steer.kind === 'less-artist' ? at : Math.max(at, s.atPos)),
    -1,
  );
  let yearSum = 0;
  let yearWeight = 0;
  let outcomes = 0;
  let skips = 0;

  const history = state.history;
  let age = 0;
  for (let h = history.length - 1; h >= 0 && age < LOOKBACK; h--) {
    const entry = history[h];
    const w = outcomeWeight(entry);
    if (entry.outcome === undefined && !entry.liked) continue;
    if (outcomes < 10) {
      outcomes++;
      if (entry.outcome === 'skipped' || entry.outcome === 'disliked') skips++;
    }
    const index = catalog.indexOf(entry.id);
    const decay = RECENCY ** age++;
    if (index === undefined || w === 0) continue;
    const e = catalog.embedding(index);
    const item = catalog.items[index];
    const artistId = catalog.artistIds[index];
    const score = artistScore.get(artistId) ?? { pos: 0, neg: 0 };
    if (w > 0) {
      for (let d = 0; d < dim; d++) pos[d] += w * decay * e[d];
      posMass += w * decay;
      score.pos += w;
      if (recentPositives.length < 5 && entry.pos >= steeredAt) recentPositives.push(index);
      for (let t = tagOffsets[index]; t < tagOffsets[index + 1]; t++) tagPos[tagIds[t]] += w * decay;
      if (item.year !== undefined) {
        yearSum += item.year * w;
        yearWeight += w;
      }
    } else {
      for (let d = 0; d < dim; d++) neg[d] -= w * decay * e[d];
      negMass -= w * decay;
      score.neg -= w;
      for (let t = tagOffsets[index]; t < tagOffsets[index + 1]; t++) tagNeg[tagIds[t]] -= w * decay;
    }
    artistScore.set(artistId, score);
  }

  // Session-kNN compares whole sessions, so it reads every positive the history window holds.
  const positives: number[] = [];
  for (let h = history.length - 1; h >= 0; h--) {
    if (outcomeWeight(history[h]) <= 0) continue;
    const index = catalog.indexOf(history[h].id);
    if (index !== undefined) positives.push(index);
  }

  const last = history.length > 0 ? catalog.indexOf(history[history.length - 1].id) : undefined;
  const order = recentOrder(history, catalog);
  const steerInfo = steerDirection(state.steers, catalog, directions);
  // Steering is the listener's newer word: it replaces the starting intent rather than mixing with it.
  const steered = steerInfo.vector !== undefined;
  const intent = steered ? undefined : intentDirection(state.intent, catalog, directions);
  const focus = steered ? steerInfo.focus : intentFocus(state.intent, catalog);

  // The query: intent fades as the session learns; steering is the listener's latest word, so it leads.
  const vector = new Float32Array(dim);
  const intentWeight = intent ? 1.5 / (1 + posMass / 4) : 0;
  let any = false;
  const addScaled = (v: Float32Array | undefined, w: number) => {
    if (!v || w === 0) return;
    any = true;
    for (let d = 0; d < dim; d++) vector[d] += w * v[d];
  };
  const posUnit = posMass > 0 ? unit(pos) : undefined;
  const negUnit = negMass > 0 ? unit(neg) : undefined;
  addScaled(intent, intentWeight);
  addScaled(posUnit, Math.min(1.5, posMass / 2));
  addScaled(negUnit, -Math.min(0.8, negMass / 3));
  addScaled(steerInfo.vector, 2);
  if (any) normalise(vector);

  return {
    vector: any ? vector : undefined,
    pos: posUnit,
    neg: negUnit,
    last: last === undefined ? undefined : catalog.embedding(last),
    intent,
    steer: steerInfo.vector,
    recentPositives,
    positives,
    artistScore,
    lastArtistId: last === undefined ? undefined : catalog.artistIds[last],
    tagPos,
    tagNeg,
    meanYear: yearWeight > 0 ? yearSum / yearWeight : undefined,
    skipRate: outcomes > 0 ? skips / outcomes : 0,
    ...order,
    focus,
  };
}

const ORDER_LOOKBACK = 20;

/** The order of the latest plays: the sequence context, how far back each artist and album was, the run of rejections. */
function recentOrder(
  history: readonly HistoryEntry[],
  catalog: Catalog,
): Pick<SessionQuery, 'recentPlays' | 'artistGap' | 'albumGap' | 'negativeRun'> {
  const recentPlays: number[] = [];
  const artistGap = new Map<number, number>();
  const albumGap = new Map<number, number>();
  let gap = 0;
  for (let h = history.length - 1; h >= 0 && gap < ORDER_LOOKBACK; h--) {
    const entry = history[h];
    // A play turned away from (an early skip, a dislike) is not what the next item follows from.
    if (outcomeWeight(entry) < 0) continue;
    const index = catalog.indexOf(entry.id);
    if (index === undefined) continue;
    gap++;
    if (recentPlays.length < 5) recentPlays.push(index);
    const artist = catalog.artistIds[index];
    if (!artistGap.has(artist)) artistGap.set(artist, gap);
    const album = catalog.albumIds[index];
    if (album >= 0 && !albumGap.has(album)) albumGap.set(album, gap);
  }
  let negativeRun = 0;
  for (let h = history.length - 1; h >= 0; h--) {
    const entry = history[h];
    if (entry.outcome === undefined && !entry.liked) continue;
    if (outcomeWeight(entry) >= 0) break;
    negativeRun++;
  }
  return { recentPlays, artistGap, albumGap, negativeRun };
}

function unit(v: Float32Array): Float32Array {
  const out = Float32Array.from(v);
  normalise(out);
  return out;
}

function intentDirection(intent: Intent, catalog: Catalog, directions: Directions): Float32Array | undefined {
  if (intent.itemId !== undefined) {
    const i = catalog.indexOf(intent.itemId);
    if (i !== undefined) return catalog.embedding(i);
  }
  if (intent.artist !== undefined) return directions.artist(intent.artist);
  if (intent.tag !== undefined) return directions.tag(intent.tag);
  return undefined;
}

function intentFocus(intent: Intent, catalog: Catalog): SessionQuery['focus'] {
  if (intent.itemId !== undefined) return [{ itemIndex: catalog.indexOf(intent.itemId) }];
  if (intent.artist !== undefined) return [{ artist: intent.artist }];
  if (intent.tag !== undefined) return [{ tag: intent.tag }];
  return [];
}

function steerDirection(
  steers: SessionState['steers'],
  catalog: Catalog,
  directions: Directions,
): { vector?: Float32Array; focus: SessionQuery['focus'] } {
  const dim = catalog.dim;
  const vector = new Float32Array(dim);
  const focus: SessionQuery['focus'] = [];
  let any = false;
  for (const { steer } of steers) {
    // "Less of this artist" is a block (see feedbackRules.ts), not a direction to move away from.
    if (steer.kind === 'less-artist') continue;
    const v = steerVector(steer, catalog, directions);
    if (!v) continue;
    for (let d = 0; d < dim; d++) vector[d] += v[d];
    any = true;
    if (steer.kind === 'tag' || steer.kind === 'mood') focus.push({ tag: steer.tag });
    if (steer.kind === 'artist') focus.push({ artist: steer.artist });
    if (steer.kind === 'more-like') focus.push({ itemIndex: catalog.indexOf(steer.itemId) });
  }
  if (!any) return { focus };
  normalise(vector);
  return { vector, focus };
}

function steerVector(steer: Steer, catalog: Catalog, directions: Directions): Float32Array | undefined {
  switch (steer.kind) {
    case 'more-like': {
      const i = catalog.indexOf(steer.itemId);
      return i === undefined ? undefined : catalog.embedding(i);
    }
    case 'tag':
    case 'mood':
      return directions.tag(steer.tag);
    case 'artist':
      return directions.artist(steer.artist);
    case 'less-artist':
    case 'clear':
      return undefined;
  }
}

/** Tag and artist directions (centroids of their items), computed once per engine on first use. */
export function createDirections(catalog: Catalog): Directions {
  const cache = new Map<string, Float32Array | undefined>();
  const centroid = (key: string, members: readonly number[]) => {
    if (cache.has(key)) return cache.get(key);
    let v: Float32Array | undefined;
    if (members.length > 0) {
      v = new Float32Array(catalog.dim);
      // Cap the work for huge tags: an even sample of 2,000 members gives the direction.
      const step = Math.max(1, Math.floor(members.length / 2000));
      for (let k = 0; k < members.length; k += step) {
        const e = catalog.embedding(members[k]);
        for (let d = 0; d < v.length; d++) v[d] += e[d];
      }
      normalise(v);
    }
    cache.set(key, v);
    return v;
  };
  return {
    tag: (tag) => centroid(`tag:${tag}`, catalog.byTag(tag)),
    artist: (artist) => centroid(`artist:${artist}`, catalog.byArtist(artist)),
  };
}
