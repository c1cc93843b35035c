import { type Catalog, dotRows } from '../catalog.ts';
import type { EngineConfig } from '../config.ts';
import type { Pick, Source } from '../pick.ts';
import { type Candidates, SOURCE_BIT } from '../retrieval/retrieve.ts';
import type { Rng } from '../rng.ts';
import type { HistoryEntry, Profile } from '../session.ts';
import { radioChecker, type TimedPlay } from './radioRules.ts';

export interface SlateRequest {
  catalog: Catalog;
  config: EngineConfig;
  profile: Profile;
  history: readonly HistoryEntry[];
  candidates: Candidates;
  scores: Float32Array;
  n: number;
  firstPos: number;
  nowMs: number;
  rng: Rng;
  model: { id: string; degraded: boolean };
}

/** Rules a pick must meet. Hard rules are never relaxed; soft ones give way only when nothing else is left. */
const SOFT_RULES = ['artist-gap', 'album-gap'] as const;
/** Picks at the start of a session that always take the best candidate. */
const SETTLE_PICKS = 3;
/** Candidates the slate considers before widening to all of them. */
const SHORTLIST = 120;

/**
 * The slate policy: picks `n` items one slot at a time from scored candidates. Each slot removes what breaks
 * freshness and sequencing rules, then maximises a blend of model score and distance to the recent stream
 * (MMR over a sliding window that reaches back into earlier decisions, so the seam between two slates is
 * diverse too). A small share of slots explores among the top of the eligible list; every pick records its
 * propensity and its reasons.
 */
export function selectSlate(request: SlateRequest): Pick[] {
  const { catalog, config, candidates, scores, rng } = request;
  const count = candidates.indexes.length;
  const dim = catalog.dim;
  const emb = catalog.embeddings;
  const radio = request.profile === 'radio';
  const lambda = config.mmrLambda;

  // Per-candidate facts computed once per decision, not once per slot.
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < count; c++) {
    if (scores[c] < lo) lo = scores[c];
    if (scores[c] > hi) hi = scores[c];
  }
  const span = hi - lo || 1;
  const relevance = new Float32Array(count);
  const artists = new Int32Array(count);
  const albums = new Int32Array(count);
  for (let c = 0; c < count; c++) {
    const index = candidates.indexes[c];
    relevance[c] = lambda * ((scores[c] - lo) / span);
    artists[c] = catalog.artistIds[index];
    albums[c] = catalog.albumIds[index];
  }

  // The slate looks at a shortlist of the best-scored candidates first (the diversity term is the costly
  // part) and widens to all of them only when the rules leave the shortlist empty.
  // A selection finds the cut; no sort over all candidates.
  const want = Math.min(count, Math.max(SHORTLIST, 4 * request.n + config.explorationTop));
  const cut = kthSmallest(scores.slice(0, count), count - want);
  const order: number[] = [];
  for (let c = 0; c < count; c++) if (scores[c] >= cut) order.push(c);
  const shortlist = order.length;
  for (let c = 0; c < count; c++) if (scores[c] < cut) order.push(c);
  // Each candidate's item in `order`, and its highest similarity to the recent stream (the last
  // `diversityWindow` plays, then every pick of this decision), filled as candidates enter the shortlist.
  const orderItems = new Int32Array(count);
  for (let k = 0; k < count; k++) orderItems[k] = candidates.indexes[order[k]];
  const maxSim = new Float32Array(count).fill(-1);
  const sims = new Float64Array(count);
  /** Raises the similarity of candidates order[from..to) to the item `seed`. */
  const raiseMaxSim = (from: number, to: number, seed: number) => {
    dotRows(emb.subarray(seed * dim, (seed + 1) * dim), emb, dim, orderItems, from, to, sims);
    for (let k = from; k < to; k++) {
      const c = order[k];
      if (sims[k] > maxSim[c]) maxSim[c] = sims[k];
    }
  };
  const seeds: number[] = [];
  for (const h of request.history.slice(-config.diversityWindow)) {
    const i = catalog.indexOf(h.id);
    if (i !== undefined) seeds.push(i);
  }
  let active = 0;
  const activate = (upTo: number) => {
    for (const seed of seeds) raiseMaxSim(active, upTo, seed);
    active = upTo;
  };
  activate(shortlist);
  const timeline: TimedPlay[] = radio
    ? request.history.map((h) => ({ artist: h.artist, album: h.album, startMs: h.startMs }))
    : [];
  const spacing = lastOf(request.history, Math.max(config.artistGap, config.albumGap));
  const recentArtists: number[] = [];
  const recentAlbums: number[] = [];
  for (const h of spacing) {
    const i = catalog.indexOf(h.id);
    recentArtists.push(i === undefined ? -1 : catalog.artistIds[i]);
    recentAlbums.push(i === undefined ? -1 : catalog.albumIds[i]);
  }
  const taken = new Uint8Array(count);
  let clock = nextStart(request.history, request.nowMs);
  const picks: Pick[] = [];
  let removedFirst: Record<string, number> = {};
  const top = new TopK(config.explorationTop);
  const topRelaxed = new TopK(config.explorationTop);

  for (let slot = 0; slot < request.n; slot++) {
    const removed: Record<string, number> = {};
    const nearArtists = lastOf(recentArtists, config.artistGap);
    const nearAlbums = lastOf(recentAlbums, config.albumGap);
    top.clear();
    topRelaxed.clear();
    const radioRule = radio ? radioChecker(timeline, clock) : undefined;
    for (let k = 0; k < active; k++) {
      const c = order[k];
      if (taken[c]) continue;
      if (radioRule) {
        const item = catalog.items[candidates.indexes[c]];
        const rule = radioRule(item.artist, item.album);
        if (rule) {
          removed[rule] = (removed[rule] ?? 0) + 1;
          continue;
        }
      }
      // MMR: relevance against similarity to what just played (and what this decision already picked).
      const value = relevance[c] - (1 - lambda) * Math.max(maxSim[c], 0);
      if (contains(nearArtists, artists[c])) {
        removed['artist-gap'] = (removed['artist-gap'] ?? 0) + 1;
        topRelaxed.offer(c, value);
      } else if (albums[c] >= 0 && contains(nearAlbums, albums[c])) {
        removed['album-gap'] = (removed['album-gap'] ?? 0) + 1;
        topRelaxed.offer(c, value);
      } else {
        top.offer(c, value);
      }
    }
    if (top.size === 0 && active < count) {
      activate(count);
      slot--;
      continue;
    }
    // Soft spacing gives way only when no candidate meets it (a tiny catalog or a narrow steer).
    const relaxed = top.size === 0 && topRelaxed.size > 0;
    const best = relaxed ? topRelaxed : top;
    if (best.size === 0) break;
    if (slot === 0) removedFirst = removed;

    // The greedy choice is the best; an exploring slot draws uniformly from the rest of the top few.
    // The first picks of a session set its tone: they never explore.
    const settled = request.firstPos + slot >= SETTLE_PICKS;
    const explore = settled && best.size > 1 && rng.next() < config.exploration;
    const chosenAt = explore ? 1 + rng.int(best.size - 1) : 0;
    const c = best.at(chosenAt);
    const propensity = explore
      ? config.exploration / (best.size - 1)
      : settled && best.size > 1
        ? 1 - config.exploration
        : 1;

    const index = candidates.indexes[c];
    const item = catalog.items[index];
    taken[c] = 1;
    seeds.push(index);
    raiseMaxSim(0, active, index);
    if (radio) timeline.push({ artist: item.artist, album: item.album, startMs: clock });
    recentArtists.push(artists[c]);
    recentAlbums.push(albums[c]);

    const rules = ['fresh', 'not-blocked', ...(relaxed ? ['relaxed:spacing'] : SOFT_RULES)];
    if (radio) rules.push('radio-dmca');
    let rank = 0;
    for (let o = 0; o < count; o++) if (scores[o] > scores[c]) rank++;
    picks.push({
      pos: request.firstPos + slot,
      id: item.id,
      title: item.title,
      artist: item.artist,
      album: item.album,
      durationMs: item.durationMs,
      startMs: clock,
      score: scores[c],
      propensity,
      reasons: {
        source: sourcesOf(candidates.sources[c]),
        score: scores[c],
        rank,
        mmr: best.valueAt(chosenAt),
        explored: explore,
        degraded: request.model.degraded,
        model: request.model.id,
        rules,
        removed: removedFirst,
        candidates: count,
      },
    });
    clock += item.durationMs;
  }
  return picks;
}

/** The k best (candidate, value) pairs seen, best first; ties keep the earlier candidate. */
class TopK {
  private readonly ids: Int32Array;
  private readonly values: Float64Array;
  size = 0;

  constructor(private readonly k: number) {
    this.ids = new Int32Array(k);
    this.values = new Float64Array(k);
  }

  clear(): void {
    this.size = 0;
  }

  offer(id: number, value: number): void {
    if (this.size === this.k && value <= this.values[this.k - 1]) return;
    let j = this.size < this.k ? this.size++ : this.k - 1;
    while (j > 0 && this.values[j - 1] < value) {
      this.values[j] = this.values[j - 1];
      this.ids[j] = this.ids[j - 1];
      j--;
    }
    this.values[j] = value;
    this.ids[j] = id;
  }

  at(i: number): number {
    return this.ids[i];
  }

  valueAt(i: number): number {
    return this.values[i];
  }
}

/** When the next pick would start: after the last queued item ends, or now if the stream has run dry. */
export function nextStart(history: readonly HistoryEntry[], nowMs: number): number {
  const last = history[history.length - 1];
  if (!last) return nowMs;
  const end = last.startMs + (last.outcome === 'skipped' ? (last.playedMs ?? 0) : last.durationMs);
  return Math.max(nowMs, end);
}

/**
 * The value at position `k` of `values` sorted ascending, as `values.sort()[k]` gives it (a NaN sorts last),
 * by selection instead of a full sort. Reorders `values`.
 */
export function kthSmallest(values: Float32Array, k: number): number {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) return values.sort()[k];
  let lo = 0;
  let hi = values.length - 1;
  while (hi > lo) {
    // Hoare partition around the middle value; the k-th value stays inside [lo, hi].
    const pivot = values[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}

/** Membership in a short list (a few recent artists or albums), checked per candidate and slot. */
function contains(list: readonly number[], x: number): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === x) return true;
  return false;
}

/** The last `k` entries (none for k = 0, where `slice(-0)` would give them all). */
function lastOf<T>(list: readonly T[], k: number): readonly T[] {
  return k > 0 ? list.slice(-k) : [];
}

function sourcesOf(bits: number): Source[] {
  return (Object.keys(SOURCE_BIT) as Source[]).filter((s) => bits & SOURCE_BIT[s]);
}
