import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContextTreeRecommender } from '../../../engine/baselines/contextTreeRecommender.ts';
import { ItemKnnRecommender } from '../../../engine/baselines/itemKnnRecommender.ts';
import { MarkovRecommender } from '../../../engine/baselines/markovRecommender.ts';
import { PopularityRecommender } from '../../../engine/baselines/popularityRecommender.ts';
import { RandomRecommender } from '../../../engine/baselines/randomRecommender.ts';
import { SequentialRulesRecommender } from '../../../engine/baselines/sequentialRulesRecommender.ts';
import type { SessionRecommender, TrainSession } from '../../../engine/baselines/sessionRecommender.ts';
import { SknnRecommender } from '../../../engine/baselines/sknnRecommender.ts';
import { StanRecommender } from '../../../engine/baselines/stanRecommender.ts';
import { VsknnRecommender } from '../../../engine/baselines/vsknnRecommender.ts';
import { VstanRecommender } from '../../../engine/baselines/vstanRecommender.ts';

const session = (id: string, ids: string[]): TrainSession => ({ id, items: ids.map((i) => ({ id: i })) });

// s0..s3 in training order: s3 is the most recent.
const tiny = [
  session('s0', ['a', 'b', 'c']),
  session('s1', ['a', 'd']),
  session('s2', ['b', 'c', 'e', 'f']),
  session('s3', ['x', 'y']),
];

describe('SKNN', () => {
  it('ranks neighbours by binary cosine and items by summed similarity', () => {
    const sknn = new SknnRecommender();
    sknn.fit(tiny);
    const n = sknn.neighbours(['a', 'b']);
    expect(n.map((x) => x.session)).toEqual([0, 1, 2]);
    expect(n[0].similarity).toBeCloseTo(2 / Math.sqrt(6), 12);
    expect(n[1].similarity).toBeCloseTo(0.5, 12);
    expect(n[2].similarity).toBeCloseTo(1 / Math.sqrt(8), 12);
    // a = s0 + s1 = 1.317 > b = c = s0 + s2 = 1.170 > d = 0.5 > e = f = 0.354
    expect(sknn.recommend(['a', 'b'], 10)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(sknn.recommend(['a', 'b'], 10, new Set(['a', 'b']))).toEqual(['c', 'd', 'e', 'f']);
  });

  it('keeps only the k nearest neighbours', () => {
    const sknn = new SknnRecommender({ k: 1 });
    sknn.fit(tiny);
    expect(sknn.recommend(['a', 'b'], 10)).toEqual(['a', 'b', 'c']);
  });

  it('samples the most recent candidate sessions before computing similarity', () => {
    const sknn = new SknnRecommender({ sampleSize: 2 });
    sknn.fit(tiny);
    // s0 (the best match) is the oldest of the three candidates and falls out of the sample.
    expect(sknn.neighbours(['a', 'b']).map((x) => x.session)).toEqual([1, 2]);
    expect(sknn.recommend(['a', 'b'], 10)).toEqual(['a', 'd', 'b', 'c', 'e', 'f']);
  });

  it('returns nothing for a prefix of unknown items', () => {
    const sknn = new SknnRecommender();
    sknn.fit(tiny);
    expect(sknn.recommend(['zzz'], 5)).toEqual([]);
  });
});

describe('V-SKNN', () => {
  it('weights the current session by position and decays votes by the last shared play', () => {
    const vsknn = new VsknnRecommender();
    vsknn.fit(tiny);
    const n = vsknn.neighbours(['a', 'b']);
    // weights: a = 1/2, b = 2/2; similarity = dot / 2 distinct items
    expect(n.map((x) => x.session)).toEqual([0, 2, 1]);
    expect(n.map((x) => x.similarity)).toEqual([0.75, 0.5, 0.25]);
    // s1 shares only `a`, one step further back: its votes are halved (div score weighting)
    expect(n.map((x) => x.decay)).toEqual([1, 1, 0.5]);
    // b = c = 0.75 + 0.5 = 1.25 > a = 0.75 + 0.125 > e = f = 0.5 > d = 0.125
    expect(vsknn.recommend(['a', 'b'], 10)).toEqual(['b', 'c', 'a', 'e', 'f', 'd']);
  });

  it('idf weighting lifts rare items', () => {
    const plain = new VsknnRecommender();
    const idf = new VsknnRecommender({ idfWeighting: 5 });
    plain.fit(tiny);
    idf.fit(tiny);
    // e and f (1 play) overtake a (2 plays): e gets 0.5·(1+5·ln 4) = 3.97 > a's 0.875·(1+5·ln 2) = 3.91
    expect(plain.recommend(['a', 'b'], 3)).toEqual(['b', 'c', 'a']);
    expect(idf.recommend(['a', 'b'], 4)).toEqual(['b', 'c', 'e', 'f']);
  });
});

describe('simple baselines', () => {
  it('markov follows the last item', () => {
    const m = new MarkovRecommender();
    m.fit(tiny);
    expect(m.recommend(['x', 'b'], 5)).toEqual(['c']);
    expect(m.recommend(['a'], 5)).toEqual(['b', 'd']);
    expect(m.recommend(['y'], 5)).toEqual([]);
  });

  it('item-kNN ranks co-occurring items by regularised cosine', () => {
    const iknn = new ItemKnnRecommender({ lambda: 0 });
    iknn.fit(tiny);
    // d co-occurs once with a and has 1 play: 1/√(2·1) beats b and c at 1/√(2·2)
    expect(iknn.recommend(['a'], 5)).toEqual(['d', 'b', 'c']);
  });

  it('popularity ranks by plays', () => {
    const pop = new PopularityRecommender();
    pop.fit(tiny);
    expect(pop.recommend([], 4)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('random is seeded and returns distinct items', () => {
    const r1 = new RandomRecommender(7);
    const r2 = new RandomRecommender(7);
    r1.fit(tiny);
    r2.fit(tiny);
    const a = r1.recommend([], 5);
    expect(a).toEqual(r2.recommend([], 5));
    expect(new Set(a).size).toBe(5);
  });
});

describe('every baseline', () => {
  const items = 'abcdefghij'.split('');
  const sessions = fc.array(fc.array(fc.constantFrom(...items), { minLength: 1, maxLength: 8 }), {
    minLength: 1,
    maxLength: 12,
  });
  const makers: (() => SessionRecommender)[] = [
    () => new RandomRecommender(3),
    () => new PopularityRecommender(),
    () => new MarkovRecommender(),
    () => new ItemKnnRecommender(),
    () => new SknnRecommender(),
    () => new VsknnRecommender({ idfWeighting: 2, weighting: 'linear', weightingScore: 'linear' }),
    () => new StanRecommender(),
    () => new VstanRecommender({ similarity: 'vec' }),
    () => new SequentialRulesRecommender({ steps: 3, pruning: 2 }),
    () => new ContextTreeRecommender({ maxDepth: 3 }),
  ];

  it('never returns an excluded item, never returns one twice, never more than k', () => {
    fc.assert(
      fc.property(
        sessions,
        fc.array(fc.constantFrom(...items), { maxLength: 6 }),
        fc.subarray(items),
        fc.integer({ min: 1, max: 12 }),
        (train, prefix, excluded, k) => {
          for (const make of makers) {
            const rec = make();
            rec.fit(train.map((ids, i) => session(`t${i}`, ids)));
            const exclude = new Set(excluded);
            const out = rec.recommend(prefix, k, exclude);
            expect(out.length).toBeLessThanOrEqual(k);
            expect(new Set(out).size).toBe(out.length);
            for (const id of out) expect(exclude.has(id), `${rec.name} returned excluded ${id}`).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
