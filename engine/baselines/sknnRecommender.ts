import { SessionIndex } from './sessionIndex.ts';
import type { SessionRecommender, TrainSession } from './sessionRecommender.ts';

/** Options of SKNN, named and defaulted as session-rec's `ContextKNN` (`knn/sknn.py`) and its configs. */
export interface SknnOptions {
  /** Neighbour sessions the item scores come from. */
  k: number;
  /** Candidate sessions kept: the most recent ones (here: latest in training order) that share an item. */
  sampleSize: number;
  similarity: 'cosine' | 'jaccard';
}

export const SKNN_DEFAULTS: SknnOptions = { k: 100, sampleSize: 500, similarity: 'cosine' };

/**
 * Session-based kNN (Jannach & Ludewig 2017; Ludewig & Jannach 2018): the current session as a set of
 * items; candidate neighbours are the `sampleSize` most recent training sessions sharing an item with it;
 * the `k` most similar (binary cosine) vote for their items with their similarity.
 */
export class SknnRecommender implements SessionRecommender {
  readonly name: string;
  readonly options: SknnOptions;
  private index = new SessionIndex([]);
  private overlap = new Float64Array(0);
  private scores = new Float64Array(0);

  constructor(options: Partial<SknnOptions> = {}, name = 'sknn') {
    this.options = { ...SKNN_DEFAULTS, ...options };
    this.name = name;
  }

  fit(train: readonly TrainSession[]): void {
    this.index = new SessionIndex(train);
    this.overlap = new Float64Array(this.index.sessionCount);
    this.scores = new Float64Array(this.index.itemCount);
  }

  /** The neighbour sessions (training order index) and their similarity, best first; exposed for tests. */
  neighbours(prefix: readonly string[]): { session: number; similarity: number }[] {
    const items = new Set(this.index.known(prefix));
    if (items.size === 0) return [];
    const touched: number[] = [];
    for (const item of items) {
      for (const s of this.index.postings[item]) {
        if (this.overlap[s] === 0) touched.push(s);
        this.overlap[s]++;
      }
    }
    // session-rec's "recent" sampling; training order stands in for time (the data has no timestamps).
    touched.sort((a, b) => b - a);
    const sample = touched.slice(0, this.options.sampleSize);
    const result = sample.map((s) => {
      const shared = this.overlap[s];
      const size = this.index.sets[s].length;
      // The textbook cosine; session-rec's code reads `li / sqrt(la) * sqrt(lb)`, a precedence slip.
      const similarity =
        this.options.similarity === 'cosine'
          ? shared / Math.sqrt(items.size * size)
          : shared / (items.size + size - shared);
      return { session: s, similarity };
    });
    for (const s of touched) this.overlap[s] = 0;
    result.sort((a, b) => b.similarity - a.similarity || b.session - a.session);
    return result.slice(0, this.options.k);
  }

  recommend(prefix: readonly string[], k: number, exclude?: ReadonlySet<string>): string[] {
    const candidates: number[] = [];
    for (const { session, similarity } of this.neighbours(prefix)) {
      for (const x of this.index.sets[session]) {
        if (this.scores[x] === 0) candidates.push(x);
        this.scores[x] += similarity;
      }
    }
    const out = this.index.top(candidates, this.scores, k, exclude);
    for (const x of candidates) this.scores[x] = 0;
    return out;
  }
}
