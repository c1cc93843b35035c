import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { describe, expect, it } from 'vitest';
import { combineWithTags, trainItem2Vec } from '../../models/item2vec.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';

const DIM = 16;
// Subsampling is off: with 20 items every item is "frequent" and would be thinned away.
const OPTIONS = { dim: DIM, window: 3, negatives: 5, epochs: 5, seed: 7, subsample: 0 };

/** Sessions that each stay inside one of two disjoint clusters: items 0..9 and items 10..19. */
function twoClusters(sessions: number, length: number, seed: number): Int32Array[] {
  const rng = xoroshiro128plus(seed);
  const out: Int32Array[] = [];
  for (let s = 0; s < sessions; s++) {
    const base = s % 2 === 0 ? 0 : 10;
    const seq = new Int32Array(length);
    for (let i = 0; i < length; i++) seq[i] = base + Math.floor(uniformFloat64(rng) * 10);
    out.push(seq);
  }
  return out;
}

function cosine(v: Float32Array, a: number, b: number, dim: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let d = 0; d < dim; d++) {
    dot += v[a * dim + d] * v[b * dim + d];
    na += v[a * dim + d] ** 2;
    nb += v[b * dim + d] ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** Mean cosine within the clusters and across them, over the given items. */
function withinAndAcross(v: Float32Array, items: number[], dim: number): { within: number; across: number } {
  let within = 0;
  let nWithin = 0;
  let across = 0;
  let nAcross = 0;
  for (const a of items) {
    for (const b of items) {
      if (a >= b) continue;
      const c = cosine(v, a, b, dim);
      if (a < 10 === b < 10) {
        within += c;
        nWithin++;
      } else {
        across += c;
        nAcross++;
      }
    }
  }
  return { within: within / nWithin, across: across / nAcross };
}

const ALL = Array.from({ length: 20 }, (_, i) => i);

describe('trainItem2Vec', () => {
  it('puts items played together closer than items never played together', () => {
    const vectors = trainItem2Vec(twoClusters(200, 20, 1), 20, OPTIONS);
    expect(vectors).toBeInstanceOf(Float32Array);
    expect(vectors.length).toBe(20 * DIM);
    const { within, across } = withinAndAcross(vectors, ALL, DIM);
    expect(within).toBeGreaterThan(across + 0.3);
    // Every item's nearest other item is in its own cluster.
    for (const a of ALL) {
      let best = -1;
      let bestCos = -2;
      for (const b of ALL) {
        if (b === a) continue;
        const c = cosine(vectors, a, b, DIM);
        if (c > bestCos) {
          bestCos = c;
          best = b;
        }
      }
      expect(best < 10).toBe(a < 10);
    }
  });

  it('gives the same vectors for the same seed and different ones for another seed', () => {
    const sessions = twoClusters(50, 15, 2);
    const a = trainItem2Vec(sessions, 20, OPTIONS);
    const b = trainItem2Vec(sessions, 20, OPTIONS);
    const c = trainItem2Vec(sessions, 20, { ...OPTIONS, seed: 8 });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('leaves items below minCount and unplayed items at zero, and reports progress up to the total', () => {
    const sessions = [...twoClusters(40, 10, 3), Int32Array.of(20)];
    const reports: [number, number][] = [];
    const v = trainItem2Vec(sessions, 22, {
      ...OPTIONS,
      minCount: 2,
      onProgress: (d, t) => reports.push([d, t]),
    });
    expect(Array.from(v.subarray(20 * DIM, 22 * DIM)).every((x) => x === 0)).toBe(true);
    expect(Array.from(v.subarray(0, DIM)).some((x) => x !== 0)).toBe(true);
    const last = reports.at(-1)!;
    expect(last[0]).toBe(last[1]);
    expect(last[1]).toBe(400 * OPTIONS.epochs);
  });

  it('rejects an item index outside the vocabulary with MODEL_TRAINING_FAILED', () => {
    let caught: unknown;
    try {
      trainItem2Vec([Int32Array.of(0, 5)], 3, OPTIONS);
    } catch (err) {
      caught = err;
    }
    expect(isOmakaseError(caught, 'MODEL_TRAINING_FAILED')).toBe(true);
    expect((caught as Error).message).toContain('outside 0..2');
  });
});

describe('combineWithTags', () => {
  const sessions = twoClusters(200, 20, 4);
  const counts = new Array(22).fill(0);
  for (const s of sessions) for (const i of s) counts[i]++;
  const tags = ALL.map((i) => (i < 10 ? ['jazz'] : ['metal']));
  // Item 20 was never played but is tagged jazz; item 21 has neither plays nor tags.
  const itemTags = [...tags, ['jazz'], []];
  const learned = trainItem2Vec(sessions, 22, OPTIONS);
  const combined = combineWithTags(learned, itemTags, { dim: DIM, seed: 1, counts });

  it('returns unit rows', () => {
    for (let i = 0; i < 22; i++) expect(cosine(combined, i, i, DIM)).toBeCloseTo(1, 5);
    for (let i = 0; i < 22; i++) {
      let n = 0;
      for (let d = 0; d < DIM; d++) n += combined[i * DIM + d] ** 2;
      expect(n).toBeCloseTo(1, 5);
    }
  });

  it('places an unplayed item near the played items that share its tags', () => {
    let jazz = 0;
    let metal = 0;
    for (let i = 0; i < 10; i++) jazz += cosine(combined, 20, i, DIM) / 10;
    for (let i = 10; i < 20; i++) metal += cosine(combined, 20, i, DIM) / 10;
    expect(jazz).toBeGreaterThan(metal + 0.3);
  });

  it('does not make an unplayed item a hub closer to its tag mates than they are to each other', () => {
    let toCold = 0;
    for (let i = 0; i < 10; i++) toCold += cosine(combined, 20, i, DIM) / 10;
    const { within } = withinAndAcross(combined, ALL, DIM);
    expect(toCold).toBeLessThan(within + 0.05);
    // A plain centroid would sit at cosine ~1 from a tight cluster; this one is spread like a member.
    expect(cosine(combined, 20, 0, DIM)).toBeLessThan(0.9999);
  });

  it('keeps the cluster structure of played items', () => {
    const { within, across } = withinAndAcross(combined, ALL, DIM);
    expect(within).toBeGreaterThan(across + 0.3);
  });

  it('is deterministic and rejects vectors of the wrong length', () => {
    const again = combineWithTags(learned, itemTags, { dim: DIM, seed: 1, counts });
    expect(Array.from(again)).toEqual(Array.from(combined));
    expect(() => combineWithTags(learned.subarray(DIM), itemTags, { dim: DIM, seed: 1 })).toThrow(/22 items/);
  });
});
