import { type Catalog, normalise } from '../catalog.ts';
import type { Item } from '../item.ts';
import { createRng, deriveSeed, hashString, type Rng } from '../rng.ts';
import type { Outcome } from '../session.ts';
import { DEMO_FAMILIES, DEMO_MOODS, ENERGY_MOODS } from './demoCatalog.ts';

/** A listener's hidden taste; drawn from the seed unless given. */
export interface Taste {
  /** 1–3 favourite genre tags. */
  genres: string[];
  /** Unit taste direction in the catalog's embedding space (a mix of the favourite genres' centroids). */
  vector: Float32Array;
  /** Preferred energy, 0 = calm … 1 = energetic. */
  energy: number;
  /** −1 prefers obscure tracks … +1 prefers hits. */
  popularityBias: number;
  /** 0 = skips any artist heard in the last few items … 1 = happy to hear an artist again. */
  repeatTolerance: number;
  /** 0 = only wants what it knows it likes … 1 = open to things further from its taste. */
  novelty: number;
  /** 0 = leaves quickly after skips … 1 = stays through a bad run. */
  patience: number;
}

/** What the listener has just heard, oldest first. */
export interface ListenContext {
  recent: readonly { id: string; artist: string; outcome?: Outcome }[];
}

export interface Reaction {
  outcome: Outcome;
  playedMs: number;
}

/** A simulated listener with hidden tastes, for training data, tests and simulations. */
export interface Listener {
  readonly taste: Taste;
  /** Affinity to an item before fatigue (higher is better; about −1 … 1.5). */
  affinity(item: Item): number;
  react(item: Item, context: ListenContext, rng: Rng): Reaction;
  /** Whether the listener stops now; more likely after consecutive skips. */
  quits(context: ListenContext, rng: Rng): boolean;
}

/** Items back the listener remembers an artist for. */
const ARTIST_MEMORY = 4;

/** Per-catalog facts every listener needs; computed once, since a demo makes thousands of listeners. */
interface TasteSpace {
  genres: string[];
  genreWeights: number[];
  centroids: Map<string, Float32Array>;
  logMaxPopularity: number;
}
const spaces = new WeakMap<Catalog, TasteSpace>();

function tasteSpace(catalog: Catalog): TasteSpace {
  let space = spaces.get(catalog);
  if (space) return space;
  // Genres are the tags that are neither moods nor demo families; a real catalog's tags all qualify.
  const skip = new Set([...DEMO_MOODS, ...DEMO_FAMILIES]);
  const genres = [...catalog.tags()].filter((t) => !skip.has(t) && catalog.byTag(t).length >= 5).sort();
  space = {
    genres,
    genreWeights: genres.map((t) => Math.sqrt(catalog.byTag(t).length)),
    centroids: new Map(),
    logMaxPopularity: Math.log1p(catalog.maxPopularity),
  };
  spaces.set(catalog, space);
  return space;
}

function centroid(catalog: Catalog, space: TasteSpace, tag: string): Float32Array {
  let c = space.centroids.get(tag);
  if (c) return c;
  c = new Float32Array(catalog.dim);
  for (const i of catalog.byTag(tag)) {
    const e = catalog.embedding(i);
    for (let d = 0; d < c.length; d++) c[d] += e[d];
  }
  normalise(c);
  space.centroids.set(tag, c);
  return c;
}

/** Energy of an item read from its mood tags (0.5 when it has none). */
export function itemEnergy(item: Item): number {
  let sum = 0;
  let n = 0;
  for (const t of item.tags) {
    const e = ENERGY_MOODS[t as keyof typeof ENERGY_MOODS];
    if (e !== undefined) {
      sum += e;
      n++;
    }
  }
  return n === 0 ? 0.5 : sum / n;
}

/** Draws a taste from the seed: 1–3 genres (weighted by size), a nearby energy, and a temperament. */
export function drawTaste(catalog: Catalog, seed: number): Taste {
  const space = tasteSpace(catalog);
  const rng = createRng(deriveSeed(seed, 0x7a57e));
  const count = 1 + Math.min(2, Math.floor(rng.next() * rng.next() * 4));
  const genres: string[] = [];
  for (let tries = 0; genres.length < count && tries < 20; tries++) {
    const g = space.genres[weightedIndex(rng, space.genreWeights)];
    if (g !== undefined && !genres.includes(g)) genres.push(g);
  }
  const vector = new Float32Array(catalog.dim);
  let energy = 0;
  genres.forEach((g, k) => {
    const w = k === 0 ? 1 : 0.4 + 0.4 * rng.next();
    const c = centroid(catalog, space, g);
    for (let d = 0; d < vector.length; d++) vector[d] += w * c[d];
    const members = catalog.byTag(g);
    let e = 0;
    for (let j = 0; j < 20; j++) e += itemEnergy(catalog.items[members[rng.int(members.length)]]);
    energy += (e / 20) * (k === 0 ? 0.6 : 0.4 / (genres.length - 1));
  });
  if (genres.length === 1) energy /= 0.6;
  // A personal twist so two fans of one genre are not the same listener.
  for (let d = 0; d < vector.length; d++) vector[d] += 0.25 * (rng.next() * 2 - 1);
  normalise(vector);
  return {
    genres,
    vector,
    energy: clamp01(energy + 0.15 * (rng.next() * 2 - 1)),
    popularityBias: rng.next() * 2 - 1,
    repeatTolerance: rng.next() ** 2,
    novelty: rng.next(),
    patience: rng.next(),
  };
}

/**
 * How much a taste likes an item, before fatigue: cosine to the taste vector, a bonus for a favourite genre,
 * a penalty for the energy gap, the popularity bias, and a small fixed per-(listener, item) whim.
 */
export function listenerAffinity(catalog: Catalog, taste: Taste, item: Item, whimSeed = 0): number {
  const index = catalog.indexOf(item.id);
  let cos = 0;
  if (index !== undefined) {
    const e = catalog.embedding(index);
    for (let d = 0; d < e.length; d++) cos += e[d] * taste.vector[d];
  }
  const genre = item.tags.some((t) => taste.genres.includes(t)) ? 0.2 : 0;
  const energy = -0.8 * Math.abs(itemEnergy(item) - taste.energy);
  const logMax = tasteSpace(catalog).logMaxPopularity;
  const pop = logMax > 0 ? Math.log1p(item.popularity) / logMax : 0.5;
  const popularity = 0.25 * taste.popularityBias * (pop - 0.5);
  const whim = 0.15 * ((((hashString(item.id) ^ whimSeed) >>> 0) % 1000) / 1000 - 0.5) * 2;
  return cos + genre + energy + popularity + whim;
}

/** A listener whose taste comes from `seed` (any field of `taste` overrides the drawn one). */
export function createListener(
  catalog: Catalog,
  options: { seed: number; taste?: Partial<Taste> },
): Listener {
  const taste: Taste = { ...drawTaste(catalog, options.seed), ...options.taste };
  const whimSeed = deriveSeed(options.seed, 0x3415);
  // Novel listeners need less to finish a track and react less sharply to the match.
  const threshold = 0.4 - 0.2 * taste.novelty;
  const slope = 7 - 3 * taste.novelty;

  const affinity = (item: Item) => listenerAffinity(catalog, taste, item, whimSeed);

  const react = (item: Item, context: ListenContext, rng: Rng): Reaction => {
    const a = affinity(item);
    let pComplete = 0.06 + 0.9 * sigmoid(slope * (a - threshold));
    const recent = context.recent;
    let fatigued = false;
    if (recent.some((r) => r.id === item.id)) {
      pComplete *= 0.1;
      fatigued = true;
    }
    let sameArtist = 0;
    for (let k = Math.max(0, recent.length - ARTIST_MEMORY); k < recent.length; k++) {
      if (recent[k].artist === item.artist) sameArtist += k === recent.length - 1 ? 1.5 : 1;
    }
    if (sameArtist > 0) {
      pComplete *= (0.25 + 0.45 * taste.repeatTolerance) ** sameArtist;
      fatigued = true;
    }
    const duration = item.durationMs;
    if (rng.next() < pComplete) {
      const liked = a > 0.7 && rng.next() < 0.1 + 0.3 * (a - 0.7);
      return { outcome: liked ? 'liked' : 'completed', playedMs: duration };
    }
    // Graded skips: a poor match or a fatigue skip goes in the first seconds; a mediocre one plays a while.
    const pEarly = fatigued ? 0.85 : 0.15 + 0.8 * sigmoid(8 * (threshold - 0.2 - a));
    let playedMs: number;
    if (rng.next() < pEarly) playedMs = 5000 + rng.next() * 25_000;
    else playedMs = 30_000 + rng.next() * Math.max(0, 0.9 * duration - 30_000);
    playedMs = Math.round(Math.min(playedMs, duration * 0.95));
    const disliked = a < 0.15 && rng.next() < 0.08;
    return { outcome: disliked ? 'disliked' : 'skipped', playedMs };
  };

  const quits = (context: ListenContext, rng: Rng): boolean => {
    let skips = 0;
    for (let k = context.recent.length - 1; k >= 0; k--) {
      const o = context.recent[k].outcome;
      if (o !== 'skipped' && o !== 'disliked') break;
      skips++;
    }
    const p = 0.005 + (0.035 - 0.025 * taste.patience) * skips ** 1.5;
    return rng.next() < Math.min(0.7, p);
  };

  return { taste, affinity, react, quits };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}

function weightedIndex(rng: Rng, weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let r = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r < 0) return i;
  }
  return weights.length - 1;
}
