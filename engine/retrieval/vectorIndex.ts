import hnswlib from 'hnswlib-node';
import type { Catalog } from '../catalog.ts';

/** Nearest neighbours by inner product over the catalog's unit embeddings. */
export interface VectorIndex {
  readonly kind: 'exact' | 'hnsw';
  /**
   * Up to `k` item indexes, nearest first, skipping those `excluded` says are out (played, blocked): late in
   * a long session the nearest items are mostly played, and a search that skips them keeps `k` (and its
   * cost) the same as on the first pick.
   */
  search(query: Float32Array, k: number, excluded?: (index: number) => boolean): number[];
}

/** Above this many items a full scan per decision costs too much; an HNSW index answers instead. */
export const ANN_THRESHOLD = 20_000;

/** The index that fits the catalog's size: an exact scan for small catalogs, HNSW for large ones. */
export function createVectorIndex(catalog: Catalog, options: { force?: 'exact' | 'hnsw' } = {}): VectorIndex {
  const kind = options.force ?? (catalog.size > ANN_THRESHOLD ? 'hnsw' : 'exact');
  return kind === 'hnsw' ? hnswIndex(catalog) : exactIndex(catalog);
}

function exactIndex(catalog: Catalog): VectorIndex {
  const { embeddings, dim, size } = catalog;
  return {
    kind: 'exact',
    search(query, k, excluded) {
      k = Math.min(k, size);
      if (k <= 0) return [];
      // Keep the k best in a small sorted array: k is a few hundred at most.
      const bestIdx = new Int32Array(k);
      const bestSim = new Float32Array(k).fill(Number.NEGATIVE_INFINITY);
      let filled = 0;
      for (let i = 0; i < size; i++) {
        if (excluded?.(i)) continue;
        let s = 0;
        const off = i * dim;
        for (let d = 0; d < dim; d++) s += embeddings[off + d] * query[d];
        if (filled === k && s <= bestSim[k - 1]) continue;
        let j = filled < k ? filled++ : k - 1;
        while (j > 0 && bestSim[j - 1] < s) {
          bestSim[j] = bestSim[j - 1];
          bestIdx[j] = bestIdx[j - 1];
          j--;
        }
        bestSim[j] = s;
        bestIdx[j] = i;
      }
      return Array.from(bestIdx.subarray(0, filled));
    },
  };
}

function hnswIndex(catalog: Catalog): VectorIndex {
  const { dim, size } = catalog;
  const index = new hnswlib.HierarchicalNSW('ip', dim);
  // Fixed random seed and sequential inserts: the same catalog always builds the same graph.
  index.initIndex(size, 16, 100, 42);
  const row: number[] = new Array(dim);
  for (let i = 0; i < size; i++) {
    const e = catalog.embedding(i);
    for (let d = 0; d < dim; d++) row[d] = e[d];
    index.addPoint(row, i);
  }
  const query: number[] = new Array(dim);
  return {
    kind: 'hnsw',
    search(q, k, excluded) {
      k = Math.min(k, size);
      if (k <= 0) return [];
      index.setEf(Math.max(k, 64));
      for (let d = 0; d < dim; d++) query[d] = q[d];
      // hnswlib asks the filter which labels may be returned, and searches on past the others.
      return excluded
        ? index.searchKnn(query, k, (label) => !excluded(label)).neighbors
        : index.searchKnn(query, k).neighbors;
    },
  };
}
