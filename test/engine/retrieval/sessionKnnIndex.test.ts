import { describe, expect, it } from 'vitest';
import { SknnRecommender } from '../../../engine/baselines/sknnRecommender.ts';
import { StanRecommender } from '../../../engine/baselines/stanRecommender.ts';
import { SessionKnnIndex } from '../../../engine/retrieval/sessionKnnIndex.ts';
import { createRng } from '../../../engine/rng.ts';
import { smallCatalog } from '../fixtures.ts';

const catalog = smallCatalog({ items: 300, artists: 30 });
const ids = (xs: number[]) => xs.map((i) => ({ id: `t${i}` }));

describe('SessionKnnIndex', () => {
  it('scores what the most similar sessions played, best scaled to 1', () => {
    const index = SessionKnnIndex.fromSessions(catalog, [
      { items: ids([1, 2, 3, 4]) },
      { items: ids([1, 2, 5]) },
      { items: ids([7, 8, 9]) },
    ]);
    const { items, scores } = index.score([1, 2], 10);
    const score = new Map(Array.from(items, (x, k) => [x, scores[k]]));
    expect(score.get(1)).toBe(1);
    // Session [1,2,5] is closer to {1,2} (cosine 2/√6) than [1,2,3,4] (2/√8): 5 outranks 3.
    expect(score.get(5)).toBeGreaterThan(score.get(3) ?? 0);
    expect(score.has(8)).toBe(false);
    expect(Math.max(...scores)).toBe(1);
  });

  it('leaves skipped and disliked plays out of the sessions', () => {
    const index = SessionKnnIndex.fromSessions(catalog, [
      { items: [{ id: 't1' }, { id: 't2', outcome: 'skipped' }, { id: 't3', outcome: 'disliked' }] },
    ]);
    expect(Array.from(index.score([1], 10).items)).toEqual([1]);
    expect(index.score([2], 10).items.length).toBe(0);
  });

  it('ranks like the SKNN baseline on the same sessions', () => {
    const rng = createRng(3);
    const sessions = Array.from({ length: 200 }, (_, s) => ({
      id: `s${s}`,
      items: Array.from({ length: 5 + rng.int(20) }, () => ({ id: `t${rng.int(300)}` })),
    }));
    const index = SessionKnnIndex.fromSessions(catalog, sessions, { k: 50, sampleSize: 100 });
    const sknn = new SknnRecommender({ k: 50, sampleSize: 100 });
    sknn.fit(sessions);
    const prefix = [3, 17, 42, 99];
    const { items, scores } = index.score(prefix, 10);
    const ours = Array.from(items.subarray(0, 10), (i) => `t${i}`);
    const theirs = sknn.recommend(
      prefix.map((i) => `t${i}`),
      10,
    );
    // Same votes; ties may be broken differently (index order vs popularity), so compare score-wise.
    expect(scores[9]).toBeGreaterThan(0);
    expect(new Set(ours).size).toBe(10);
    expect(ours.filter((id) => theirs.includes(id)).length).toBeGreaterThanOrEqual(8);
  });

  it('is empty without sessions or positives', () => {
    expect(SessionKnnIndex.empty(catalog).score([1, 2], 10).items.length).toBe(0);
    const index = SessionKnnIndex.fromSessions(catalog, [{ items: ids([1, 2]) }]);
    expect(index.score([], 10).items.length).toBe(0);
  });
});

describe('SessionKnnIndex.vote', () => {
  it('scores any voted item beyond the returned best, until the next call', () => {
    const index = SessionKnnIndex.fromSessions(catalog, [
      { items: ids([1, 2, 3, 4]) },
      { items: ids([1, 5]) },
    ]);
    const first = index.score([1], 1);
    expect(Array.from(first.items)).toEqual([1]);
    expect(first.vote(4)).toBeGreaterThan(0);
    expect(first.vote(9)).toBe(0);
    index.score([9], 1);
    expect(first.vote(4)).toBe(0);
  });
});

describe('SessionKnnIndex.stan', () => {
  const sessions = [{ items: ids([1, 2, 3, 4]) }, { items: ids([5, 1, 6]) }, { items: ids([7, 8]) }];

  it('weighs recent plays, neighbours by weighted cosine and items by distance from the last shared play', () => {
    const index = SessionKnnIndex.fromSessions(catalog, sessions, { lambdaSpw: 4, lambdaInh: 1 });
    // Positives newest first: t2 (weight 1), then t1 (weight e^-1/4); ‖w‖ = √(1 + e^-1/2).
    const knn = index.score([2, 1], 10);
    const norm = Math.sqrt(1 + Math.exp(-0.5));
    const sim0 = (1 + Math.exp(-0.25)) / (norm * Math.sqrt(4)); // [1,2,3,4] holds both
    const sim1 = Math.exp(-0.25) / (norm * Math.sqrt(3)); // [5,1,6] holds t1
    // In [1,2,3,4] the last shared play is t2 (position 2): t3 is 1 play away, t4 2, t1 1.
    // In [5,1,6] it is t1 (position 2): t5 and t6 are 1 play away. The best vote is t2's, sim0.
    expect(knn.stan(2)).toBeCloseTo(1, 6);
    expect(knn.stan(3)).toBeCloseTo(Math.exp(-1), 6);
    expect(knn.stan(4)).toBeCloseTo(Math.exp(-2), 6);
    expect(knn.stan(1)).toBeCloseTo((sim0 * Math.exp(-1) + sim1) / sim0, 6);
    expect(knn.stan(6)).toBeCloseTo((sim1 * Math.exp(-1)) / sim0, 6);
    expect(knn.stan(7)).toBe(0);
  });

  it('lets only the stanK most similar neighbours vote, and stanK 0 switches the vote off', () => {
    const one = SessionKnnIndex.fromSessions(catalog, sessions, { stanK: 1 }).score([2, 1], 10);
    expect(one.stan(3)).toBeGreaterThan(0);
    expect(one.stan(6)).toBe(0);
    const off = SessionKnnIndex.fromSessions(catalog, sessions, { stanK: 0 }).score([2, 1], 10);
    expect(off.stan(2)).toBe(0);
    expect(off.vote(1)).toBe(1);
  });

  it('is not computed when the caller does not want it (a model that does not read the column)', () => {
    const index = SessionKnnIndex.fromSessions(catalog, sessions, { lambdaSpw: 4, lambdaInh: 1 });
    const withStan = index.score([2, 1], 10);
    const expected = [1, 2, 3, 4, 5, 6].map((x) => withStan.stan(x));
    const votes = [1, 2, 3, 4, 5, 6].map((x) => withStan.vote(x));
    const without = index.score([2, 1], 10, false);
    expect([1, 2, 3, 4, 5, 6].map((x) => without.stan(x))).toEqual([0, 0, 0, 0, 0, 0]);
    expect([1, 2, 3, 4, 5, 6].map((x) => without.vote(x))).toEqual(votes);
    // Nothing left behind: the next vote is the same as before.
    const again = index.score([2, 1], 10);
    expect([1, 2, 3, 4, 5, 6].map((x) => again.stan(x))).toEqual(expected);
  });

  it('ranks like the STAN baseline (without neighbour recency) on the same sessions', () => {
    const rng = createRng(5);
    const logged = Array.from({ length: 300 }, (_, s) => ({
      id: `s${s}`,
      items: Array.from({ length: 5 + rng.int(20) }, () => ({ id: `t${rng.int(300)}` })),
    }));
    const settings = { k: 50, sampleSize: 200, lambdaSpw: 4, lambdaInh: 16, lambdaSnh: 0 };
    const index = SessionKnnIndex.fromSessions(catalog, logged, {
      stanK: 50,
      stanSample: 200,
      lambdaSpw: 4,
      lambdaInh: 16,
    });
    const stan = new StanRecommender(settings);
    stan.fit(logged);
    const prefix = [3, 17, 42, 99, 150]; // oldest first, as the baseline reads it
    const knn = index.score([...prefix].reverse(), 10);
    const theirs = stan.itemScores(prefix.map((i) => `t${i}`));
    const best = Math.max(...theirs.values());
    for (const [id, score] of theirs) expect(knn.stan(Number(id.slice(1)))).toBeCloseTo(score / best, 5);
  });
});
