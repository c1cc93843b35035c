import { type Catalog, dotRows } from '../catalog.ts';
import type { EngineConfig } from '../config.ts';
import type { Pick, Source } from '../pick.ts';
import { type Candidates, SOURCE_BIT } from '../retrieval/retrieve.ts';
import type { Rng } from '../rng.ts';
import { kthSmallest } from '../selection.ts';
import type { HistoryEntry, Profile } from '../session.ts';
import { radioReach, radioWindow, releaseWindow } from './radioWindow.ts';
import { giveBack, takeScratch } from './slateScratch.ts';

export interface SlateRequest {
  catalog: Catalog;
  config: EngineConfig;
  profile: Profile;
  history: readonly HistoryEntry[];
  /** The candidates' catalog indexes and source bits (from `Candidates`, or a pool's eligible part). */
  candidates: { indexes: ArrayLike<number>; sources: ArrayLike<number> };
  /** What the policy ranks by: the model's scores, corrected for feedback since they were computed. */
  scores: Float32Array;
  /** The model's own scores when `scores` were corrected (reported in the reasons); default `scores`. */
  modelScores?: Float32Array;
  /** Each candidate's rank by model score in its decision (default: counted among these candidates). */
  ranks?: Int32Array;
  /** The feedback correction added to each candidate's model score, when there was one. */
  correction?: Float32Array;
  /** The decision the candidates came from: its number and how many it scored (default: these). */
  pooled?: { candidates: number; decision: number };
  n: number;
  firstPos: number;
  nowMs: number;
  rng: Rng;
  model: { id: string; degraded: boolean };
  /**
   * Off-policy evaluation: instead of drawing, slot k takes the candidate with catalog index `follow[k]` (what
   * a logged delivery took), and `onSlot` hears the policy's choices for that slot first. `n` is ignored.
   */
  follow?: { items: readonly number[]; onSlot: (slot: number, choices: SlotChoices) => void };
}

/**
 * What the policy could pick in one slot and how likely each is: the greedy best first, then the rest of the
 * top few by MMR that an exploring slot draws from uniformly. Every other candidate has probability 0.
 */
export interface SlotChoices {
  /** Catalog indexes, the greedy choice first. */
  items: number[];
  p: number[];
}

/** Rules a pick must meet. Hard rules are never relaxed; soft ones give way only when nothing else is left. */
const SOFT_RULES = ['artist-gap', 'album-gap'] as const;
/** Picks at the start of a session that always take the best candidate. */
const SETTLE_PICKS = 3;
/** Candidates the slate considers before widening to all of them. */
const SHORTLIST = 120;
/** How a candidate stands with the rules in one slot (see `fit`). */
const OUT = 0;
const SPACED = 1;
const RELAXED = 2;

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
  const history = request.history;
  let clock = nextStart(history, request.nowMs);
  // The catalog index of each history entry the slate reads, looked up once: the last few (diversity,
  // spacing), and in the radio profile those its rules can still see from the first slot.
  const reach = radio ? radioReach(history, clock) : 0;
  const looked = Math.min(
    history.length,
    Math.max(config.diversityWindow, config.artistGap, config.albumGap, reach),
  );
  const slots = slotsOf(request);
  const scratch = takeScratch(
    count,
    looked,
    Math.min(looked, config.diversityWindow) + Math.max(request.n, slots),
    Math.max(1, config.explorationTop),
    catalog,
  );
  const { relevance, artists, albums } = scratch;
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
  const cutScores = scratch.cutScores.subarray(0, count);
  cutScores.set(scores.subarray(0, count));
  const cut = kthSmallest(cutScores, count - want);
  const order = scratch.order;
  let shortlist = 0;
  for (let c = 0; c < count; c++) if (scores[c] >= cut) order[shortlist++] = c;
  for (let c = 0, o = shortlist; c < count; c++) if (scores[c] < cut) order[o++] = c;
  const { historyIndex } = scratch;
  for (let h = 0; h < looked; h++)
    historyIndex[h] = catalog.indexOf(history[history.length - looked + h].id) ?? -1;
  const indexOfEntry = (h: number) => historyIndex[h - (history.length - looked)];
  // Each candidate's highest similarity to the recent stream (the seeds: the last `diversityWindow` plays,
  // then every pick of this decision), brought up to date only when the candidate could still make the top:
  // `seen[c]` seeds are counted in `maxSim[c]`, always in seed order, so the value is the same as if every
  // seed were counted at once. Fewer seeds counted can only overstate a candidate's value.
  const seeds: number[] = [];
  for (let h = Math.max(0, history.length - config.diversityWindow); h < history.length; h++) {
    const i = indexOfEntry(h);
    if (i >= 0) seeds.push(i);
  }
  const { maxSim, seen, seedSims } = scratch;
  const catchUp = (c: number) => {
    const index = candidates.indexes[c];
    const from = seen[c];
    dotRows(emb, index * dim, emb, dim, seeds, from, seeds.length, seedSims);
    for (let s = from; s < seeds.length; s++) if (seedSims[s] > maxSim[c]) maxSim[c] = seedSims[s];
    seen[c] = seeds.length;
  };
  // Positions in `order` by relevance, best first (ties: earlier position first). Every shortlisted
  // candidate scores at least as high as any other, so the shortlist's ranking is a prefix of the full one.
  const byRelevance = (from: number, to: number) => {
    const ks: number[] = [];
    for (let k = from; k < to; k++) ks.push(k);
    // The comparator answers -1, 0 or 1 (a small integer): a difference of floats would be boxed per call.
    return ks.sort((a, b) => {
      const d = relevance[order[b]] - relevance[order[a]];
      return d > 0 ? 1 : d < 0 ? -1 : a - b;
    });
  };
  let ranked = byRelevance(0, shortlist);
  let active = shortlist;
  /** Per position in `order`, for this slot: out (taken, radio rule), meets the spacing, or relaxed only. */
  const fit = scratch.fit;
  const window = radio
    ? radioWindow(catalog, history, history.length - reach, indexOfEntry, slotsOf(request))
    : undefined;
  const recentArtists: number[] = [];
  const recentAlbums: number[] = [];
  for (
    let h = history.length - Math.min(history.length, Math.max(config.artistGap, config.albumGap));
    h < history.length;
    h++
  ) {
    const i = indexOfEntry(h);
    recentArtists.push(i < 0 ? -1 : catalog.artistIds[i]);
    recentAlbums.push(i < 0 ? -1 : catalog.albumIds[i]);
  }
  const { taken, nearArtist, nearAlbum } = scratch;
  const follow = request.follow;
  const slotOf = follow ? new Map<number, number>() : undefined;
  for (let c = 0; slotOf && c < count; c++) slotOf.set(candidates.indexes[c], c);
  const picks: Pick[] = [];
  let removedFirst: Record<string, number> = {};

  for (let slot = 0; slot < slots; slot++) {
    // What the rules removed, counted for the first slot only: the reasons report that slot's.
    const removed: Record<string, number> | undefined = slot === 0 ? {} : undefined;
    // The artists and albums inside the spacing windows, stamped for this slot.
    const stamp = scratch.nextStamp();
    for (let i = lastFrom(recentArtists, config.artistGap); i < recentArtists.length; i++)
      if (recentArtists[i] >= 0) nearArtist[recentArtists[i]] = stamp;
    for (let i = lastFrom(recentAlbums, config.albumGap); i < recentAlbums.length; i++)
      if (recentAlbums[i] >= 0) nearAlbum[recentAlbums[i]] = stamp;
    window?.moveTo(clock);
    let spaced = 0;
    let relaxedOnly = 0;
    for (let k = 0; k < active; k++) {
      const c = order[k];
      fit[k] = OUT;
      if (taken[c]) continue;
      if (window) {
        const rule = window.broken(artists[c], albums[c]);
        if (rule) {
          if (removed) removed[rule] = (removed[rule] ?? 0) + 1;
          continue;
        }
      }
      if (nearArtist[artists[c]] === stamp) {
        if (removed) removed['artist-gap'] = (removed['artist-gap'] ?? 0) + 1;
        fit[k] = RELAXED;
        relaxedOnly++;
      } else if (albums[c] >= 0 && nearAlbum[albums[c]] === stamp) {
        if (removed) removed['album-gap'] = (removed['album-gap'] ?? 0) + 1;
        fit[k] = RELAXED;
        relaxedOnly++;
      } else {
        fit[k] = SPACED;
        spaced++;
      }
    }
    if (spaced === 0 && active < count) {
      ranked = ranked.concat(byRelevance(active, count));
      active = count;
      slot--;
      continue;
    }
    // Soft spacing gives way only when no candidate meets it (a tiny catalog or a narrow steer).
    const relaxed = spaced === 0 && relaxedOnly > 0;
    const pool = relaxed ? RELAXED : SPACED;
    // The top few by MMR (the greedy choice and what an exploring slot draws from).
    const topSize = Math.min(config.explorationTop, relaxed ? relaxedOnly : spaced);
    if (topSize === 0) break;
    if (removed) removedFirst = removed;

    // The greedy choice is the best; an exploring slot draws uniformly from the rest of the top few.
    // The first picks of a session set its tone: they never explore.
    const settled = request.firstPos + slot >= SETTLE_PICKS;
    const explore = !follow && settled && topSize > 1 && rng.next() < config.exploration;
    const chosenAt = explore ? 1 + rng.int(topSize - 1) : 0;
    let propensity = explore
      ? config.exploration / (topSize - 1)
      : settled && topSize > 1
        ? 1 - config.exploration
        : 1;

    // Only the top `chosenAt + 1` by MMR (relevance against similarity to what just played and what this
    // decision already picked) matter. Walked by relevance, an upper bound of the value: once they are found
    // and a candidate's relevance is below the last one's value, no later candidate can enter.
    // Following a logged delivery, the whole top few is the slot's distribution.
    const best = scratch.best.reset(follow ? topSize : chosenAt + 1);
    for (let r = 0; r < active; r++) {
      const k = ranked[r];
      if (fit[k] !== pool) continue;
      const c = order[k];
      if (best.full && relevance[c] < best.lastValue) break;
      if (!best.admits(relevance[c] - (1 - lambda) * Math.max(maxSim[c], 0), k)) continue;
      if (seen[c] < seeds.length) catchUp(c);
      best.offer(c, relevance[c] - (1 - lambda) * Math.max(maxSim[c], 0), k);
    }
    let c = best.at(chosenAt);
    let explored = explore;
    let value = best.valueAt(chosenAt);
    if (follow) {
      const choices: SlotChoices = { items: [], p: [] };
      const drawn = settled && topSize > 1;
      for (let k = 0; k < best.size; k++) {
        choices.items.push(candidates.indexes[best.at(k)]);
        choices.p.push(
          k === 0 ? (drawn ? 1 - config.exploration : 1) : drawn ? config.exploration / (topSize - 1) : 0,
        );
      }
      follow.onSlot(slot, choices);
      const wanted = slotOf!.get(follow.items[slot]);
      // Not among the candidates (or taken already): the log is not of this pool; nothing later can follow.
      if (wanted === undefined || taken[wanted]) break;
      const at = choices.items.indexOf(follow.items[slot]);
      c = wanted;
      if (seen[c] < seeds.length) catchUp(c);
      propensity = at < 0 ? 0 : choices.p[at];
      explored = at !== 0;
      value = at < 0 ? relevance[c] - (1 - lambda) * Math.max(maxSim[c], 0) : best.valueAt(at);
    }

    const index = candidates.indexes[c];
    const item = catalog.items[index];
    taken[c] = 1;
    seeds.push(index);
    window?.append(artists[c], albums[c], clock);
    recentArtists.push(artists[c]);
    recentAlbums.push(albums[c]);

    const rules = ['fresh', 'not-blocked', ...(relaxed ? ['relaxed:spacing'] : SOFT_RULES)];
    if (radio) rules.push('radio-dmca');
    let rank = 0;
    if (request.ranks) rank = request.ranks[c];
    else for (let o = 0; o < count; o++) if (scores[o] > scores[c]) rank++;
    const score = request.modelScores ? request.modelScores[c] : scores[c];
    const correction = request.correction?.[c] ?? 0;
    picks.push({
      pos: request.firstPos + slot,
      id: item.id,
      title: item.title,
      artist: item.artist,
      album: item.album,
      durationMs: item.durationMs,
      startMs: clock,
      score,
      propensity,
      reasons: {
        source: sourcesOf(candidates.sources[c]),
        score,
        ...(correction !== 0 ? { correction } : {}),
        rank,
        mmr: value,
        explored,
        degraded: request.model.degraded,
        model: request.model.id,
        rules,
        removed: removedFirst,
        candidates: request.pooled?.candidates ?? count,
        ...(request.pooled ? { decision: request.pooled.decision } : {}),
      },
    });
    clock += item.durationMs;
  }
  giveBack(scratch);
  if (window) releaseWindow(catalog, window);
  return picks;
}

/** Slots the request fills: the logged delivery's when following one. */
function slotsOf(request: SlateRequest): number {
  return request.follow ? request.follow.items.length : request.n;
}

/** When the next pick would start: after the last queued item ends, or now if the stream has run dry. */
export function nextStart(history: readonly HistoryEntry[], nowMs: number): number {
  const last = history[history.length - 1];
  if (!last) return nowMs;
  const end = last.startMs + (last.outcome === 'skipped' ? (last.playedMs ?? 0) : last.durationMs);
  return Math.max(nowMs, end);
}

/** Where the last `k` entries begin (none for k = 0); read in place, not copied per slot. */
function lastFrom(list: readonly unknown[], k: number): number {
  return k > 0 ? Math.max(0, list.length - k) : list.length;
}

function sourcesOf(bits: number): Source[] {
  return (Object.keys(SOURCE_BIT) as Source[]).filter((s) => bits & SOURCE_BIT[s]);
}
