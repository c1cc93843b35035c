import type { Catalog } from '../catalog.ts';
import type { EngineConfig } from '../config.ts';
import type { Pick, Source } from '../pick.ts';
import { type Candidates, SOURCE_BIT } from '../retrieval/retrieve.ts';
import type { Rng } from '../rng.ts';
import type { HistoryEntry, Profile } from '../session.ts';
import { radioRuleBroken, type TimedPlay } from './radioRules.ts';

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

  // Normalised score in [0, 1] and the rank of each candidate by score.
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < count; c++) {
    if (scores[c] < lo) lo = scores[c];
    if (scores[c] > hi) hi = scores[c];
  }
  const span = hi - lo || 1;
  const order = Array.from({ length: count }, (_, c) => c).sort((a, b) => scores[b] - scores[a] || a - b);
  const rank = new Int32Array(count);
  order.forEach((c, r) => {
    rank[c] = r;
  });

  // Highest similarity of each candidate to the last `diversityWindow` plays, kept up to date as we pick.
  const maxSim = new Float32Array(count).fill(-1);
  const timeline: TimedPlay[] = request.history.map((h) => ({
    artist: h.artist,
    album: h.album,
    startMs: h.startMs,
  }));
  const recent = request.history.slice(-config.diversityWindow);
  for (const h of recent) {
    const i = catalog.indexOf(h.id);
    if (i !== undefined) raiseMaxSim(maxSim, candidates.indexes, emb, dim, i);
  }

  const recentArtists = request.history.map((h) => h.artist);
  const recentAlbums = request.history.map((h) => albumKey(h.artist, h.album));
  const taken = new Uint8Array(count);
  let clock = nextStart(request.history, request.nowMs);
  const picks: Pick[] = [];
  const removedFirst: Record<string, number> = {};

  for (let slot = 0; slot < request.n; slot++) {
    const eligible: number[] = [];
    const removed: Record<string, number> = {};
    const softBlocked: number[] = [];
    for (let c = 0; c < count; c++) {
      if (taken[c]) continue;
      const item = catalog.items[candidates.indexes[c]];
      if (radio) {
        const rule = radioRuleBroken(timeline, { artist: item.artist, album: item.album, startMs: clock });
        if (rule) {
          removed[rule] = (removed[rule] ?? 0) + 1;
          continue;
        }
      }
      const soft = softRuleBroken(
        item.artist,
        albumKey(item.artist, item.album),
        recentArtists,
        recentAlbums,
        config,
      );
      if (soft) {
        removed[soft] = (removed[soft] ?? 0) + 1;
        softBlocked.push(c);
        continue;
      }
      eligible.push(c);
    }
    // Soft spacing gives way only when no candidate meets it (a tiny catalog or a narrow steer).
    const relaxed = eligible.length === 0 && softBlocked.length > 0;
    const pool = relaxed ? softBlocked : eligible;
    if (pool.length === 0) break;
    if (slot === 0) Object.assign(removedFirst, removed);

    // MMR value of each eligible candidate; the greedy choice is the best, exploring draws from the top few.
    const lambda = config.mmrLambda;
    const value = (c: number) => lambda * ((scores[c] - lo) / span) - (1 - lambda) * Math.max(0, maxSim[c]);
    pool.sort((a, b) => value(b) - value(a) || a - b);
    const top = Math.min(config.explorationTop, pool.length);
    const explore = top > 1 && rng.next() < config.exploration;
    const chosenAt = explore ? 1 + rng.int(top - 1) : 0;
    const c = pool[chosenAt];
    const propensity = explore ? config.exploration / (top - 1) : top > 1 ? 1 - config.exploration : 1;

    const index = candidates.indexes[c];
    const item = catalog.items[index];
    taken[c] = 1;
    raiseMaxSim(maxSim, candidates.indexes, emb, dim, index);
    timeline.push({ artist: item.artist, album: item.album, startMs: clock });
    recentArtists.push(item.artist);
    recentAlbums.push(albumKey(item.artist, item.album));

    const rules = ['fresh', 'not-blocked', ...SOFT_RULES.filter(() => !relaxed)];
    if (relaxed) rules.push('relaxed:spacing');
    if (radio) rules.push('radio-dmca');
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
        rank: rank[c],
        mmr: value(c),
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

/** When the next pick would start: after the last queued item ends, or now if the stream has run dry. */
export function nextStart(history: readonly HistoryEntry[], nowMs: number): number {
  const last = history[history.length - 1];
  if (!last) return nowMs;
  const end = last.startMs + (last.outcome === 'skipped' ? (last.playedMs ?? 0) : last.durationMs);
  return Math.max(nowMs, end);
}

function softRuleBroken(
  artist: string,
  album: string | undefined,
  artists: readonly string[],
  albums: readonly (string | undefined)[],
  config: EngineConfig,
): (typeof SOFT_RULES)[number] | undefined {
  for (let k = 1; k <= config.artistGap && k <= artists.length; k++) {
    if (artists[artists.length - k] === artist) return 'artist-gap';
  }
  if (album !== undefined) {
    for (let k = 1; k <= config.albumGap && k <= albums.length; k++) {
      if (albums[albums.length - k] === album) return 'album-gap';
    }
  }
  return undefined;
}

function albumKey(artist: string, album: string | undefined): string | undefined {
  return album === undefined ? undefined : `${artist}\u0000${album}`;
}

function raiseMaxSim(
  maxSim: Float32Array,
  indexes: number[],
  emb: Float32Array,
  dim: number,
  picked: number,
): void {
  const p = picked * dim;
  for (let c = 0; c < indexes.length; c++) {
    const off = indexes[c] * dim;
    let s = 0;
    for (let d = 0; d < dim; d++) s += emb[off + d] * emb[p + d];
    if (s > maxSim[c]) maxSim[c] = s;
  }
}

function sourcesOf(bits: number): Source[] {
  return (Object.keys(SOURCE_BIT) as Source[]).filter((s) => bits & SOURCE_BIT[s]);
}
