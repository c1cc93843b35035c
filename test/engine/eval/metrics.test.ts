import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../engine/catalog.ts';
import { NextItemAccumulator, rankOf, scoreRank } from '../../../engine/eval/metrics.ts';
import { type StreamPlay, streamMetrics } from '../../../engine/eval/streamMetrics.ts';

describe('next-item metrics', () => {
  it('scores single ranks exactly', () => {
    expect(scoreRank(1)).toEqual({ hr10: 1, hr20: 1, mrr10: 1, mrr20: 1, ndcg10: 1, ndcg20: 1 });
    expect(scoreRank(3)).toEqual({
      hr10: 1,
      hr20: 1,
      mrr10: 1 / 3,
      mrr20: 1 / 3,
      ndcg10: 0.5,
      ndcg20: 0.5,
    });
    expect(scoreRank(15)).toEqual({
      hr10: 0,
      hr20: 1,
      mrr10: 0,
      mrr20: 1 / 15,
      ndcg10: 0,
      ndcg20: 1 / Math.log2(16),
    });
    expect(scoreRank(0)).toEqual({ hr10: 0, hr20: 0, mrr10: 0, mrr20: 0, ndcg10: 0, ndcg20: 0 });
  });

  it('averages over targets', () => {
    const list = Array.from({ length: 20 }, (_, i) => `i${i}`);
    expect(rankOf(list, 'i1')).toBe(2);
    const acc = new NextItemAccumulator();
    acc.add(list, 'i0'); // rank 1
    acc.add(list, 'i1'); // rank 2
    acc.add(list, 'i11'); // rank 12
    acc.add(list, 'nope');
    const r = acc.result();
    expect(r.targets).toBe(4);
    expect(r.hr10).toBe(0.5);
    expect(r.hr20).toBe(0.75);
    expect(r.mrr10).toBeCloseTo((1 + 0.5) / 4, 12);
    expect(r.mrr20).toBeCloseTo((1 + 0.5 + 1 / 12) / 4, 12);
    expect(r.ndcg10).toBeCloseTo((1 + 1 / Math.log2(3)) / 4, 12);
    expect(r.ndcg20).toBeCloseTo((1 + 1 / Math.log2(3) + 1 / Math.log2(13)) / 4, 12);
  });

  it('gives zeros, not NaN, with no targets', () => {
    expect(new NextItemAccumulator().result()).toEqual({
      hr10: 0,
      hr20: 0,
      mrr10: 0,
      mrr20: 0,
      ndcg10: 0,
      ndcg20: 0,
      targets: 0,
    });
  });
});

describe('stream metrics', () => {
  // Four items on two orthogonal axes: a1/a2 point along x, b1/b2 along y.
  const row = (id: string, artist: string, embedding: number[]) => ({
    id,
    title: id,
    artist,
    tags: [],
    durationMs: 200_000,
    popularity: 1,
    embedding,
  });
  const catalog = new Catalog([
    row('a1', 'A', [1, 0]),
    row('a2', 'A', [1, 0]),
    row('b1', 'B', [0, 1]),
    row('b2', 'B', [0, 1]),
    row('c1', 'C', [0, 1]),
    row('d1', 'D', [0, 1]),
    row('e1', 'E', [0, 1]),
    row('f1', 'F', [0, 1]),
  ]);
  const play = (id: string, i: number, artist = id[0].toUpperCase()): StreamPlay => ({
    id,
    artist,
    startMs: i * 200_000,
  });

  it('counts coverage, diversity, artist repeats and repeats exactly', () => {
    const stream = ['a1', 'b1', 'a2', 'a1'].map((id, i) => play(id, i));
    const m = streamMetrics([stream], catalog, { window: 10 });
    expect(m.plays).toBe(4);
    expect(m.coverage).toBe(3 / 8);
    expect(m.repeats).toBe(1);
    // plays 2..4: b1 (A before: no), a2 (A within 3: yes), a1 (A: yes) → 2 of 3
    expect(m.artistRepeatRate).toBeCloseTo(2 / 3, 12);
    // 6 pairs: a1-b1, a1-a2, a1-a1, b1-a2, b1-a1, a2-a1 → distances 1,0,0,1,1,0
    expect(m.ild).toBeCloseTo(0.5, 6);
    expect(m.radioViolations).toBe(0);
  });

  it('counts radio-rule violations with the engine checker', () => {
    // Four consecutive plays of artist A inside 3 hours: the fourth breaks "no more than 3 consecutively".
    const stream = ['a1', 'a2', 'a1', 'a2'].map((id, i) => play(id, i));
    expect(streamMetrics([stream], catalog).radioViolations).toBe(1);
  });

  it('uses windows of the given size for diversity', () => {
    const stream = ['a1', 'a2', 'b1', 'b2'].map((id, i) => play(id, i));
    // windows [a1,a2] and [b1,b2]: both distance 0
    expect(streamMetrics([stream], catalog, { window: 2 }).ild).toBeCloseTo(0, 6);
    expect(streamMetrics([stream], catalog, { window: 4 }).ild).toBeCloseTo(4 / 6, 6);
  });
});
