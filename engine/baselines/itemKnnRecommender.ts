import { SessionIndex } from './sessionIndex.ts';
import type { SessionRecommender, TrainSession } from './sessionRecommender.ts';

/** Options of item-kNN, named and defaulted as in session-rec's `iknn`. */
export interface ItemKnnOptions {
  /** Neighbours kept per item. */
  nSims: number;
  /** Support regularisation: discounts co-occurrences of rare items. */
  lambda: number;
  /** 0.5 = cosine; 1 = confidence. */
  alpha: number;
}

export const ITEM_KNN_DEFAULTS: ItemKnnOptions = { nSims: 100, lambda: 20, alpha: 0.5 };

/**
 * Item-kNN (session-rec `iknn`, Hidasi et al. 2016's baseline): items similar to the last played item by
 * session co-occurrence, s(i,j) = Σ_s n_i(s)·n_j(s) / ((supp_i+λ)^α (supp_j+λ)^(1−α)), with supp = plays.
 * Neighbour lists are computed lazily per item and cached.
 */
export class ItemKnnRecommender implements SessionRecommender {
  readonly name: string;
  private readonly options: ItemKnnOptions;
  private index = new SessionIndex([]);
  private cache = new Map<number, { items: number[]; scores: Float64Array }>();
  private scratch = new Float64Array(0);

  constructor(options: Partial<ItemKnnOptions> = {}, name = 'iknn') {
    this.options = { ...ITEM_KNN_DEFAULTS, ...options };
    this.name = name;
  }

  fit(train: readonly TrainSession[]): void {
    this.index = new SessionIndex(train);
    this.cache = new Map();
    this.scratch = new Float64Array(this.index.itemCount);
  }

  recommend(prefix: readonly string[], k: number, exclude?: ReadonlySet<string>): string[] {
    const known = this.index.known(prefix.slice(-1));
    if (known.length === 0) return [];
    const { items, scores } = this.neighbours(known[0]);
    const out: string[] = [];
    for (let i = 0; i < items.length && out.length < k; i++) {
      const id = this.index.ids[items[i]];
      if (scores[i] > 0 && !exclude?.has(id)) out.push(id);
    }
    return out;
  }

  private neighbours(item: number): { items: number[]; scores: Float64Array } {
    const cached = this.cache.get(item);
    if (cached) return cached;
    const { lambda, alpha, nSims } = this.options;
    const acc = this.scratch;
    const touched: number[] = [];
    for (const s of this.index.postings[item]) {
      const seq = this.index.sequences[s];
      let own = 0;
      for (const x of seq) if (x === item) own++;
      for (const x of seq) {
        if (x === item) continue;
        if (acc[x] === 0) touched.push(x);
        acc[x] += own;
      }
    }
    const suppI = this.index.plays[item];
    for (const x of touched)
      acc[x] /= (suppI + lambda) ** alpha * (this.index.plays[x] + lambda) ** (1 - alpha);
    const ranked = this.index.top(touched, acc, nSims).map((id) => this.index.indexOf.get(id)!);
    const result = { items: ranked, scores: Float64Array.from(ranked, (x) => acc[x]) };
    for (const x of touched) acc[x] = 0;
    this.cache.set(item, result);
    return result;
  }
}
