import { describe, expect, it } from 'vitest';
import { SknnRecommender } from '../../../engine/baselines/sknnRecommender.ts';
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
