import { describe, expect, it } from 'vitest';
import { dot, dotRows } from '../../engine/catalog.ts';
import { smallCatalog } from './fixtures.ts';

describe('dotRows', () => {
  it('gives exactly what dot gives for every row in the range, and leaves the rest alone', () => {
    const catalog = smallCatalog({ items: 50 });
    const v = catalog.embedding(7);
    const rows = [3, 9, 9, 0, 49, 12, 33, 5, 21];
    for (const [from, to] of [
      [0, rows.length],
      [2, 7],
      [4, 5],
      [1, 1],
    ]) {
      const out = new Float64Array(rows.length).fill(-5);
      dotRows(v, 0, catalog.embeddings, catalog.dim, rows, from, to, out);
      rows.forEach((row, k) => {
        expect(out[k]).toBe(k >= from && k < to ? dot(v, catalog.embedding(row)) : -5);
      });
    }
  });
});
