import { createRequire } from 'node:module';
import { endianness } from 'node:os';
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

/** What `usearch` (an optional dependency with prebuilt binaries) offers this module. */
interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vector: Float32Array, k: number, threads?: number): { keys: BigUint64Array };
}
type Usearch = { Index: new (config: Record<string, unknown>) => UsearchIndex };

let usearch: Usearch | undefined;
let usearchError: string | undefined;

/**
 * Why the HNSW index is not available on this machine (usearch not installed, or no prebuilt binary for
 * this platform), or undefined when it is: large catalogs then fall back to the exact scan.
 */
export function annUnavailable(): string | undefined {
  loadUsearch();
  return usearchError;
}

function loadUsearch(): Usearch | undefined {
  if (usearch || usearchError) return usearch;
  try {
    // Optional: `npm ci` skips it where no prebuilt binary fits, and it never compiles (allowScripts).
    usearch = createRequire(import.meta.url)('usearch') as Usearch;
  } catch (err) {
    usearchError = `usearch could not be loaded (${(err as Error).message.split('\n')[0]})`;
  }
  return usearch;
}

/**
 * The index that fits the catalog's size: an exact scan for small catalogs, HNSW (usearch) for large ones
 * when usearch loads on this machine, the exact scan otherwise (`annUnavailable()` says why).
 *
 * @example
 * const vectors = createVectorIndex(catalog);
 * const nearest = vectors.search(catalog.embedding(0), 10, (i) => played[i] === 1);
 */
export function createVectorIndex(catalog: Catalog, options: { force?: 'exact' | 'hnsw' } = {}): VectorIndex {
  const kind = options.force ?? (catalog.size > ANN_THRESHOLD ? 'hnsw' : 'exact');
  if (kind === 'exact') return exactIndex(catalog);
  const lib = loadUsearch();
  if (lib) return hnswIndex(catalog, lib);
  if (options.force === 'hnsw') throw new Error(`HNSW index asked for, but ${usearchError}`);
  return exactIndex(catalog);
}

/** Every item scored: four rows at a time (each dot product summed in dimension order), the k best kept. */
function exactIndex(catalog: Catalog): VectorIndex {
  const { embeddings: e, dim, size } = catalog;
  return {
    kind: 'exact',
    search(query, k, excluded) {
      k = Math.min(k, size);
      if (k <= 0) return [];
      // Keep the k best in a small sorted array: k is a few hundred at most, and few rows enter it.
      const bestIdx = new Int32Array(k);
      const bestSim = new Float32Array(k).fill(Number.NEGATIVE_INFINITY);
      let filled = 0;
      const offer = (i: number, s: number) => {
        if (filled === k && s <= bestSim[k - 1]) return;
        if (excluded?.(i)) return;
        let j = filled < k ? filled++ : k - 1;
        while (j > 0 && bestSim[j - 1] < s) {
          bestSim[j] = bestSim[j - 1];
          bestIdx[j] = bestIdx[j - 1];
          j--;
        }
        bestSim[j] = s;
        bestIdx[j] = i;
      };
      let i = 0;
      for (; i + 4 <= size; i += 4) {
        const o = i * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let d = 0; d < dim; d++) {
          const q = query[d];
          s0 += e[o + d] * q;
          s1 += e[o + dim + d] * q;
          s2 += e[o + 2 * dim + d] * q;
          s3 += e[o + 3 * dim + d] * q;
        }
        offer(i, s0);
        offer(i + 1, s1);
        offer(i + 2, s2);
        offer(i + 3, s3);
      }
      for (; i < size; i++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += e[i * dim + d] * query[d];
        offer(i, s);
      }
      return Array.from(bestIdx.subarray(0, filled));
    },
  };
}

/**
 * usearch's HNSW graph, built on one thread in item order so the same catalog always builds the same graph.
 * usearch's JavaScript binding has no filter: an excluded-aware search asks for `1.5k + 16`; when too few of
 * those are allowed it asks again, as deep as the first answer's share of allowed items says `k` allowed ones
 * lie (with a quarter to spare), then at `6k`; and it scans exactly when that too falls short
 * (bench/annBench.ts measures the paths).
 */
function hnswIndex(catalog: Catalog, lib: Usearch): VectorIndex {
  const { dim, size } = catalog;
  const index = new lib.Index({
    dimensions: dim,
    metric: 'ip',
    quantization: 'f32',
    connectivity: 16,
    expansion_add: 100,
    expansion_search: 64,
    multi: false,
  });
  const keys = new BigUint64Array(size);
  for (let i = 0; i < size; i++) keys[i] = BigInt(i);
  index.add(keys, catalog.embeddings.subarray(0, size * dim), 1);
  const exact = exactIndex(catalog);
  const nearest = (q: Float32Array, depth: number) => itemIndexes(index.search(q, depth, 1).keys);
  return {
    kind: 'hnsw',
    search(q, k, excluded) {
      k = Math.min(k, size);
      if (k <= 0) return [];
      if (!excluded) return Array.from(nearest(q, k));
      // A session's query nearly always has a few of its own k nearest excluded (played, or by an artist
      // just heard): asking for exactly k first missed in 99 % of `npm run bench`'s searches and paid for two.
      // So ask for half as many again. When that falls short (late in a session with skips, two searches in
      // three), the share it let through says how deep k allowed items lie: asking 6k every time made the
      // second search cost four times the first. Past `size / 8` (most near items excluded) one exact scan
      // is cheaper than a search that deep.
      const limit = Math.max(size / 8, 2 * k);
      let depth = Math.ceil(1.5 * k) + 16;
      while (depth <= limit) {
        const out: number[] = [];
        const found = nearest(q, Math.min(depth, size));
        for (let j = 0; j < found.length; j++) {
          const i = found[j];
          if (!excluded(i) && out.push(i) === k) return out;
        }
        if (depth >= 6 * k) break;
        // Short by the excluded share: deep enough for k at that share, and a quarter more (deeper items
        // are excluded less often than the nearest); then 6k.
        const share = out.length / Math.max(found.length, 1);
        depth = share > 0 ? Math.min(6 * k, Math.ceil((1.25 * k) / share) + 16) : 6 * k;
      }
      return exact.search(q, k, excluded);
    },
  };
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * usearch's keys as item indexes. Keys are item indexes (below 2^32), so on a little-endian machine each is the
 * low half of its 64-bit slot: read as 32-bit words, no BigInt is made per key (a decision's searches made
 * thousands of them). Elsewhere each key is converted.
 */
export function itemIndexes(keys: BigUint64Array): Uint32Array | number[] {
  if (!LITTLE_ENDIAN) return Array.from(keys, Number);
  const words = new Uint32Array(keys.buffer, keys.byteOffset, keys.length * 2);
  const out = new Uint32Array(keys.length);
  for (let j = 0; j < keys.length; j++) out[j] = words[2 * j];
  return out;
}
