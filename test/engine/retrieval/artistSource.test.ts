import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../engine/catalog.ts';
import { recentArtistItems, SOURCE_BIT } from '../../../engine/retrieval/retrieve.ts';

// Twelve items, artist k = i mod 3, popularity i (the later item is the more popular).
const catalog = new Catalog(
  Array.from({ length: 12 }, (_, i) => ({
    id: `t${i}`,
    title: `Track ${i}`,
    artist: `A${i % 3}`,
    tags: [],
    durationMs: 200_000,
    popularity: i,
  })),
);
const artist = (name: string) => catalog.artistNumber(name) as number;

describe('recentArtistItems (the artist source)', () => {
  it('takes the last artists in turn, newest first, each most popular first, without excluded items', () => {
    // A1 heard on the last play, A0 two plays back; t10 (A1) already played.
    const gaps = new Map([
      [artist('A1'), 1],
      [artist('A0'), 2],
    ]);
    const excluded = (i: number) => i === 10;
    // A1: t7, t4, t1; A0: t9, t6, t3, t0; in turn: t7, t9, t4, t6, t1, then A0's t3, t0.
    expect(recentArtistItems(catalog, gaps, 5, excluded)).toEqual([7, 9, 4, 6, 1]);
    expect(recentArtistItems(catalog, gaps, 20, excluded)).toEqual([7, 9, 4, 6, 1, 3, 0]);
    expect(recentArtistItems(catalog, gaps, 0, excluded)).toEqual([]);
  });

  it('keeps to the four most recent artists', () => {
    const many = new Catalog(
      Array.from({ length: 6 }, (_, i) => ({
        id: `u${i}`,
        title: '',
        artist: `B${i}`,
        tags: [],
        durationMs: 200_000,
        popularity: 1,
      })),
    );
    const gaps = new Map(Array.from({ length: 6 }, (_, i) => [many.artistNumber(`B${i}`) as number, 6 - i]));
    // B5 was heard last (gap 1), B4 before it, …: B5, B4, B3, B2.
    expect(recentArtistItems(many, gaps, 10, () => false)).toEqual([5, 4, 3, 2]);
  });

  it('has its own source bit', () => {
    expect(new Set(Object.values(SOURCE_BIT)).size).toBe(Object.keys(SOURCE_BIT).length);
    expect(SOURCE_BIT.artist).toBe(32);
  });
});
