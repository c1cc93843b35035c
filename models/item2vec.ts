import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { OmakaseError } from './omakaseError.ts';

/** Options of `trainItem2Vec`; the defaults in brackets follow word2vec / item2vec practice. */
export interface Item2VecOptions {
  /** Vector length (e.g. 32). */
  dim: number;
  /** Largest distance between a centre item and a context item; each step draws a window in 1..window. */
  window: number;
  /** Negative samples per (centre, context) pair. */
  negatives: number;
  epochs: number;
  seed: number;
  /** Items played fewer times are left out of training and keep a zero vector [1]. */
  minCount?: number;
  /** Starting learning rate, decayed linearly to 0.01 % of it over all epochs [0.025]. */
  learningRate?: number;
  /** Subsampling threshold t: an item of frequency f is kept with probability (√(f/t) + 1)·t/f [1e-3]. */
  subsample?: number;
  /** Called about a hundred times: plays processed so far and the total (all epochs). */
  onProgress?: (done: number, total: number) => void;
}

const EXP_TABLE_SIZE = 1000;
const MAX_EXP = 6;
const TABLE_SIZE = 1e6;

/**
 * Learns item vectors from play sequences with skip-gram and negative sampling (item2vec): items played near
 * each other get close vectors. Returns `vocabSize * dim` floats, row i = item i; untrained rows are zero.
 * Single-threaded so that the same seed gives the same vectors.
 *
 * @example trainItem2Vec([Int32Array.of(0, 1, 2)], 3, { dim: 32, window: 5, negatives: 5, epochs: 5, seed: 1 })
 */
export function trainItem2Vec(
  sequences: readonly Int32Array[],
  vocabSize: number,
  options: Item2VecOptions,
): Float32Array {
  const { dim, window, negatives, epochs, seed } = options;
  const minCount = options.minCount ?? 1;
  const alpha0 = options.learningRate ?? 0.025;
  const sample = options.subsample ?? 1e-3;
  for (const [name, v] of [
    ['dim', dim],
    ['window', window],
    ['negatives', negatives],
    ['epochs', epochs],
    ['vocabSize', vocabSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw trainingError(`item2vec option ${name} must be a positive integer, got ${v}; pass one.`);
    }
  }

  const counts = new Float64Array(vocabSize);
  for (let s = 0; s < sequences.length; s++) {
    const seq = sequences[s];
    for (let i = 0; i < seq.length; i++) {
      const item = seq[i];
      if (item < 0 || item >= vocabSize || !Number.isInteger(item)) {
        throw trainingError(
          `Sequence ${s} holds item index ${item} at position ${i}, outside 0..${vocabSize - 1}; map ids to dense indices first.`,
        );
      }
      counts[item]++;
    }
  }
  let trainWords = 0;
  for (let v = 0; v < vocabSize; v++) if (counts[v] >= minCount) trainWords += counts[v];
  const syn0 = new Float32Array(vocabSize * dim);
  if (trainWords === 0) return syn0;

  const rng = xoroshiro128plus(seed | 0);
  // word2vec's initialisation: input vectors small and random, output vectors zero.
  for (let v = 0; v < vocabSize; v++) {
    if (counts[v] < minCount) continue;
    for (let d = 0; d < dim; d++) syn0[v * dim + d] = (uniformFloat64(rng) - 0.5) / dim;
  }
  const syn1 = new Float32Array(vocabSize * dim);
  const table = unigramTable(counts, minCount);
  const expTable = sigmoidTable();
  const keepProb = new Float64Array(vocabSize);
  for (let v = 0; v < vocabSize; v++) {
    if (counts[v] < minCount) continue;
    const threshold = sample * trainWords;
    keepProb[v] =
      sample > 0 ? Math.min(1, (Math.sqrt(counts[v] / threshold) + 1) * (threshold / counts[v])) : 1;
  }

  const buffer = new Int32Array(maxLength(sequences));
  const grad = new Float32Array(dim);
  const totalSteps = trainWords * epochs;
  const progressEvery = Math.max(1, Math.floor(totalSteps / 100));
  let processed = 0;
  let nextReport = progressEvery;
  let alpha = alpha0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let s = 0; s < sequences.length; s++) {
      const seq = sequences[s];
      // Rare items are removed and frequent ones thinned before windows are drawn, as word2vec does.
      let n = 0;
      for (let i = 0; i < seq.length; i++) {
        const item = seq[i];
        if (counts[item] < minCount) continue;
        processed++;
        if (keepProb[item] < 1 && uniformFloat64(rng) >= keepProb[item]) continue;
        buffer[n++] = item;
      }
      alpha = Math.max(alpha0 * 1e-4, alpha0 * (1 - processed / (totalSteps + 1)));
      for (let pos = 0; pos < n; pos++) {
        const centre = buffer[pos];
        const reach = 1 + Math.floor(uniformFloat64(rng) * window);
        const from = Math.max(0, pos - reach);
        const to = Math.min(n - 1, pos + reach);
        for (let c = from; c <= to; c++) {
          if (c === pos) continue;
          const l1 = buffer[c] * dim;
          grad.fill(0);
          for (let k = 0; k <= negatives; k++) {
            let target: number;
            let label: number;
            if (k === 0) {
              target = centre;
              label = 1;
            } else {
              target = table[(rng.next() >>> 0) % TABLE_SIZE];
              if (target === centre) continue;
              label = 0;
            }
            const l2 = target * dim;
            let f = 0;
            for (let d = 0; d < dim; d++) f += syn0[l1 + d] * syn1[l2 + d];
            let g: number;
            if (f > MAX_EXP) g = (label - 1) * alpha;
            else if (f < -MAX_EXP) g = label * alpha;
            else g = (label - expTable[Math.floor((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2))]) * alpha;
            for (let d = 0; d < dim; d++) grad[d] += g * syn1[l2 + d];
            for (let d = 0; d < dim; d++) syn1[l2 + d] += g * syn0[l1 + d];
          }
          for (let d = 0; d < dim; d++) syn0[l1 + d] += grad[d];
        }
      }
      if (options.onProgress && processed >= nextReport) {
        options.onProgress(processed, totalSteps);
        nextReport = processed + progressEvery;
      }
    }
  }
  for (let j = 0; j < syn0.length; j++) {
    if (Number.isFinite(syn0[j])) continue;
    throw trainingError('item2vec diverged (NaN in the vectors); lower learningRate.');
  }
  options.onProgress?.(totalSteps, totalSteps);
  return syn0;
}

/** Options of `combineWithTags`. */
export interface CombineOptions {
  dim: number;
  /** Seeds the random parts: per-item spread, and directions of tags no trained item carries. */
  seed: number;
  /** Plays per item; an item's learned vector gets weight n / (n + shrink), its side vector the rest. */
  counts?: ArrayLike<number>;
  /** Plays at which learned vector and side vector weigh the same [5]. */
  shrink?: number;
  /** Artist per item: the artist's mean joins the tag means with weight `artistWeight` [1]. */
  artists?: readonly string[];
  artistWeight?: number;
}

/** How concentrated a made-up direction is for a tag that no trained item carries. */
const UNTRAINED_GROUP_CONCENTRATION = 0.5;

/**
 * Mixes each item's learned vector with a side vector built from its tags (and artist), so an item with few
 * or no plays lands among the played items that share them. The side vector is not the tags' centroid
 * itself: a centroid is closer to every member than members are to each other, so thousands of unplayed
 * items would crowd every neighbourhood. It is a point as spread as the members: the mean m of the members'
 * unit vectors plus a seeded random part orthogonal to it of length √(1 − |m|²). Rows are unit length.
 */
export function combineWithTags(
  vectors: Float32Array,
  itemTags: readonly (readonly string[])[],
  options: CombineOptions,
): Float32Array {
  const { dim } = options;
  const size = itemTags.length;
  if (vectors.length !== size * dim) {
    throw trainingError(
      `combineWithTags got ${vectors.length} floats for ${size} items of dim ${dim}; pass vocabSize * dim floats.`,
    );
  }
  const shrink = options.shrink ?? 5;
  const artistWeight = options.artistWeight ?? 1;
  const learned = new Float32Array(vectors);
  const trained = new Uint8Array(size);
  for (let i = 0; i < size; i++) trained[i] = normaliseRow(learned, i * dim, dim) ? 1 : 0;

  /** Mean unit vector of the trained members of each group (length = how tight the group is). */
  const groupMeans = (keysOf: (i: number) => readonly string[]): Map<string, Float32Array> => {
    const sums = new Map<string, { sum: Float32Array; n: number }>();
    for (let i = 0; i < size; i++) {
      for (const key of keysOf(i)) {
        let group = sums.get(key);
        if (!group) {
          group = { sum: new Float32Array(dim), n: 0 };
          sums.set(key, group);
        }
        if (!trained[i]) continue;
        group.n++;
        for (let d = 0; d < dim; d++) group.sum[d] += learned[i * dim + d];
      }
    }
    const means = new Map<string, Float32Array>();
    for (const [key, { sum, n }] of sums) {
      if (n > 0) for (let d = 0; d < dim; d++) sum[d] /= n;
      else {
        randomUnit(sum, hashString(key) ^ options.seed);
        for (let d = 0; d < dim; d++) sum[d] *= UNTRAINED_GROUP_CONCENTRATION;
      }
      means.set(key, sum);
    }
    return means;
  };
  const tagMeans = groupMeans((i) => itemTags[i]);
  const artists = options.artists;
  const artistMeans = artists ? groupMeans((i) => [`artist:${artists[i]}`]) : undefined;

  const out = new Float32Array(size * dim);
  const side = new Float32Array(dim);
  const spread = new Float32Array(dim);
  for (let i = 0; i < size; i++) {
    side.fill(0);
    let weight = 0;
    for (const tag of itemTags[i]) {
      const m = tagMeans.get(tag)!;
      for (let d = 0; d < dim; d++) side[d] += m[d];
      weight += 1;
    }
    if (artistMeans && artists) {
      const m = artistMeans.get(`artist:${artists[i]}`)!;
      for (let d = 0; d < dim; d++) side[d] += artistWeight * m[d];
      weight += artistWeight;
    }
    const o = i * dim;
    const itemSeed = (options.seed ^ Math.imul(i + 1, 0x9e3779b1)) | 0;
    const hasSide = weight > 0;
    if (hasSide) {
      let norm2 = 0;
      for (let d = 0; d < dim; d++) {
        side[d] /= weight;
        norm2 += side[d] * side[d];
      }
      // side = m + √(1 − |m|²) · r, r a random unit vector orthogonal to m.
      randomUnit(spread, itemSeed);
      if (norm2 > 0) {
        let along = 0;
        for (let d = 0; d < dim; d++) along += spread[d] * side[d];
        for (let d = 0; d < dim; d++) spread[d] -= (along / norm2) * side[d];
        normaliseRow(spread, 0, dim);
      }
      const rest = Math.sqrt(Math.max(0, 1 - norm2));
      for (let d = 0; d < dim; d++) side[d] += rest * spread[d];
      normaliseRow(side, 0, dim);
    }
    const plays = options.counts ? options.counts[i] : trained[i] ? shrink : 0;
    const w = trained[i] ? (hasSide ? plays / (plays + shrink) : 1) : 0;
    for (let d = 0; d < dim; d++) out[o + d] = w * learned[o + d] + (1 - w) * side[d];
    if (!normaliseRow(out, o, dim)) {
      // Neither plays nor tags: a fixed random direction keeps the row unit length and unlike the others.
      randomUnit(out.subarray(o, o + dim), itemSeed);
    }
  }
  return out;
}

/** Draws from counts^0.75 by indexing a table, so a negative sample costs one random number. */
function unigramTable(counts: Float64Array, minCount: number): Int32Array {
  const table = new Int32Array(TABLE_SIZE);
  let total = 0;
  for (let v = 0; v < counts.length; v++) if (counts[v] >= minCount) total += counts[v] ** 0.75;
  let v = 0;
  while (counts[v] < minCount) v++;
  let cumulative = counts[v] ** 0.75 / total;
  for (let a = 0; a < TABLE_SIZE; a++) {
    table[a] = v;
    if (a / TABLE_SIZE > cumulative) {
      do v++;
      while (v < counts.length - 1 && counts[v] < minCount);
      if (counts[v] >= minCount) cumulative += counts[v] ** 0.75 / total;
    }
  }
  return table;
}

function sigmoidTable(): Float32Array {
  const t = new Float32Array(EXP_TABLE_SIZE);
  for (let i = 0; i < EXP_TABLE_SIZE; i++) {
    const e = Math.exp(((i / EXP_TABLE_SIZE) * 2 - 1) * MAX_EXP);
    t[i] = e / (e + 1);
  }
  return t;
}

function maxLength(sequences: readonly Int32Array[]): number {
  let m = 0;
  for (const s of sequences) if (s.length > m) m = s.length;
  return m;
}

function normaliseRow(v: Float32Array, offset: number, dim: number): boolean {
  let norm = 0;
  for (let d = 0; d < dim; d++) norm += v[offset + d] * v[offset + d];
  if (!(norm > 0)) return false;
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < dim; d++) v[offset + d] *= inv;
  return true;
}

function randomUnit(out: Float32Array, seed: number): void {
  const rng = xoroshiro128plus(seed | 0);
  for (let d = 0; d < out.length; d++) out[d] = uniformFloat64(rng) * 2 - 1;
  normaliseRow(out, 0, out.length);
}

/** FNV-1a, for a stable seed per tag (models/ cannot use engine/rng's copy). */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

function trainingError(message: string): OmakaseError {
  return new OmakaseError('MODEL_TRAINING_FAILED', message);
}
