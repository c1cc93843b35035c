import type { Catalog } from '../catalog.ts';
import type { EngineConfig } from '../config.ts';
import type { Source } from '../pick.ts';
import type { SessionQuery } from '../query.ts';
import type { Rng } from '../rng.ts';
import type { SessionKnnIndex } from './sessionKnnIndex.ts';
import type { TransitionIndex } from './transitionIndex.ts';
import type { VectorIndex } from './vectorIndex.ts';

/** Candidates of one decision: item indexes, each with a bit set of the sources that proposed it. */
export interface Candidates {
  indexes: number[];
  sources: number[];
  /** Transition strength per candidate, in [0, 1]. */
  transition: number[];
  /** Session-kNN score per candidate (the neighbour sessions' vote, the best item scaled to 1), in [0, 1]. */
  sknn: number[];
  /** STAN score per candidate (the best item scaled to 1), in [0, 1]; absent reads as 0. */
  stan?: number[];
}

export const SOURCE_BIT: Record<Source, number> = {
  ann: 1,
  transition: 2,
  explore: 4,
  intent: 8,
  session: 16,
  artist: 32,
};

export interface RetrievalResources {
  catalog: Catalog;
  vectors: VectorIndex;
  transitions: TransitionIndex;
  sessions: SessionKnnIndex;
  /** Exploration pool: popular and recent items, most popular first. */
  explorePool: Int32Array;
  /** False when the model does not read the `stan` column (a schema-3 model): the vote is not computed. */
  stanVotes?: boolean;
}

/**
 * Retrieval, like search: several sources with quotas (embedding neighbours of the query, transition
 * neighbours of recent positives, items voted for by the sessions most like this one (session-kNN), items of the intent/steer focus, and a seeded sample of the exploration
 * pool), merged without duplicates. `excluded` items (already played, blocked) are skipped here so the
 * quotas are spent on items the policy can use.
 */
export function retrieve(
  resources: RetrievalResources,
  query: SessionQuery,
  config: EngineConfig,
  excluded: (index: number) => boolean,
  rng: Rng,
): Candidates {
  const { catalog, vectors, transitions, sessions } = resources;
  const total = Math.min(config.candidates, catalog.size);
  const slot = new Map<number, number>();
  const out: Candidates = { indexes: [], sources: [], transition: [], sknn: [], stan: [] };
  const add = (index: number, source: Source, transition = 0): boolean => {
    if (excluded(index)) return false;
    const at = slot.get(index);
    if (at !== undefined) {
      out.sources[at] |= SOURCE_BIT[source];
      if (transition > out.transition[at]) out.transition[at] = transition;
      return false;
    }
    slot.set(index, out.indexes.length);
    out.indexes.push(index);
    out.sources.push(SOURCE_BIT[source]);
    out.transition.push(transition);
    out.sknn.push(0);
    return true;
  };

  // Transition neighbours of the last positives (and of the item playing now), strongest first.
  const transitionQuota = Math.round(total * config.quotas.transition);
  const near = transitionNeighbours(transitions, query, transitionQuota, excluded);
  for (let k = 0; k < near.indexes.length; k++) add(near.indexes[k], 'transition', near.strengths[k]);
  const taken = near.indexes.length;

  // Items the sessions most like this one went on to play, best voted first.
  const sessionQuota = Math.round(total * config.quotas.session);
  // The session's own items score highest and are excluded: ask for that many more than the quota.
  const knn = sessions.score(
    query.positives,
    sessionQuota + Math.min(query.positives.length, 200) + 50,
    resources.stanVotes !== false,
  );
  const before = out.indexes.length;
  for (let k = 0; k < knn.items.length && out.indexes.length - before < sessionQuota; k++) {
    add(knn.items[k], 'session');
  }
  const sessionShortfall = sessionQuota - (out.indexes.length - before);

  // Items of the session's last artists (listening services: people stay with an artist), when asked for.
  const artistQuota = Math.round(total * (config.quotas.artist ?? 0));
  const artistStart = out.indexes.length;
  for (const index of recentArtistItems(catalog, query.artistGap, artistQuota, excluded))
    add(index, 'artist');
  const artistShortfall = artistQuota - (out.indexes.length - artistStart);

  // Items of what the listener asked for: a tag, an artist, an item's neighbourhood.
  const focusPools = query.focus
    .map((f) =>
      f.artist !== undefined ? catalog.byArtist(f.artist) : f.tag !== undefined ? catalog.byTag(f.tag) : [],
    )
    .filter((pool) => pool.length > 0);
  const sampleFocus = (quota: number, source: Source) => {
    let got = 0;
    for (const pool of focusPools) {
      // A seeded sample, so a large tag does not always give the same few items.
      const start = rng.int(pool.length);
      for (let k = 0; k < pool.length && got < quota; k++) {
        if (add(pool[(start + k) % pool.length], source)) got++;
      }
    }
  };
  sampleFocus(Math.round(total * config.quotas.intent), 'intent');

  // Embedding neighbours of the session query fill the bulk.
  const annQuota =
    Math.round(total * config.quotas.ann) +
    (transitionQuota - Math.min(transitionQuota, taken)) +
    sessionShortfall +
    artistShortfall;
  if (query.vector) {
    const want = out.indexes.length + annQuota;
    // Ask for a little more than the quota (some neighbours are already proposed). The index skips the
    // excluded items itself, so late in a long session, when most of the nearest items are played, the
    // search still returns k usable ones.
    const k = Math.min(catalog.size, annQuota + 64);
    for (const index of vectors.search(query.vector, k, excluded)) {
      if (out.indexes.length >= want) break;
      add(index, 'ann');
    }
  }

  // The rest: exploration. Inside what the listener asked for when they asked for something; otherwise a
  // seeded sample of the exploration pool (popular and fresh items).
  sampleFocus(total - out.indexes.length, 'explore');
  const pool = resources.explorePool;
  for (let tries = 0; out.indexes.length < total && tries < total * 4 && pool.length > 0; tries++) {
    add(pool[rng.int(pool.length)], 'explore');
  }
  // Every candidate gets its session-kNN score, whichever source proposed it.
  const stan = out.stan as number[];
  for (let c = 0; c < out.indexes.length; c++) {
    out.sknn[c] = knn.vote(out.indexes[c]);
    stan[c] = knn.stan(out.indexes[c]);
  }
  return out;
}

/**
 * The transition source and feature: neighbours of the session's last three positives (weights decayed by
 * the seed's rank), in the order retrieval proposes them, at most `quota` items that `excluded` lets through,
 * each with its strongest transition weight. Retrieval takes them first; scoring a given candidate set reads
 * its `transition` feature from the same list.
 */
export function transitionNeighbours(
  transitions: TransitionIndex,
  query: SessionQuery,
  quota: number,
  excluded: (index: number) => boolean,
): { indexes: number[]; strengths: number[] } {
  const at = new Map<number, number>();
  const out = { indexes: [] as number[], strengths: [] as number[] };
  query.recentPositives.slice(0, 3).forEach((seed, rank) => {
    const { targets, weights } = transitions.neighbours(seed);
    const decay = 1 / (1 + rank);
    for (let k = 0; k < targets.length && out.indexes.length < quota; k++) {
      const index = targets[k];
      if (excluded(index)) continue;
      const strength = weights[k] * decay;
      const slot = at.get(index);
      if (slot !== undefined) {
        if (strength > out.strengths[slot]) out.strengths[slot] = strength;
        continue;
      }
      at.set(index, out.indexes.length);
      out.indexes.push(index);
      out.strengths.push(strength);
    }
  });
  return out;
}

/**
 * The artist source: items of the session's last four artists (`artistGap`: artist number → plays since,
 * newest first, as `buildQuery` fills it), taken in turn from each artist (the newest artist first), each
 * artist's items most popular first (ties: the smaller index), skipping what `excluded` holds back; at most
 * `quota`.
 */
export function recentArtistItems(
  catalog: Catalog,
  artistGap: ReadonlyMap<number, number>,
  quota: number,
  excluded: (index: number) => boolean,
): number[] {
  if (quota <= 0) return [];
  const artists = [...artistGap].sort((x, y) => x[1] - y[1] || x[0] - y[0]).slice(0, 4);
  const pools = artists.map(([artist]) =>
    catalog
      .byArtistNumber(artist)
      .filter((i) => !excluded(i))
      .sort((x, y) => catalog.popularityScore[y] - catalog.popularityScore[x] || x - y),
  );
  const out: number[] = [];
  for (let k = 0; out.length < quota && pools.some((p) => k < p.length); k++) {
    for (const pool of pools) if (k < pool.length && out.length < quota) out.push(pool[k]);
  }
  return out;
}

/** The exploration pool: the most popular items, plus the most recent releases. */
export function buildExplorePool(catalog: Catalog, size: number): Int32Array {
  const byPopularity = catalog.items
    .map((_, i) => i)
    .sort((a, b) => catalog.items[b].popularity - catalog.items[a].popularity || a - b);
  const popular = byPopularity.slice(0, Math.ceil(size * 0.8));
  const byYear = catalog.items
    .map((_, i) => i)
    .filter((i) => catalog.items[i].year !== undefined)
    .sort((a, b) => (catalog.items[b].year ?? 0) - (catalog.items[a].year ?? 0) || a - b)
    .slice(0, size - popular.length);
  return Int32Array.from(new Set([...popular, ...byYear]));
}
