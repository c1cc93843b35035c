import { SessionIndex } from './sessionIndex.ts';
import type { SessionRecommender, TrainSession } from './sessionRecommender.ts';

/** Position weights for the current session: `(i, n)` with i = 1 for the oldest of n plays. */
export const POSITION_WEIGHTINGS = {
  same: () => 1,
  /** Linear decay, 1 for the last play: session-rec's `div`, its published default. */
  div: (i: number, n: number) => i / n,
  /** Linear decay over the last 10 plays (session-rec's `linear`, clamped at 0 as intended). */
  linear: (i: number, n: number) => Math.max(0, 1 - 0.1 * (n - i)),
  log: (i: number, n: number) => 1 / Math.log10(n - i + 1.7),
  quadratic: (i: number, n: number) => (i / n) ** 2,
} as const;

/** Decay of a neighbour's votes by how far back (1 = the last play) its most recent shared item lies. */
export const SCORE_WEIGHTINGS = {
  same: () => 1,
  div: (step: number) => 1 / step,
  linear: (step: number) => Math.max(0, 1 - 0.1 * step),
  log: (step: number) => 1 / Math.log10(step + 1.7),
  quadratic: (step: number) => 1 / (step * step),
} as const;

/** Options of V-SKNN, named and defaulted as session-rec's `VMContextKNN` (`knn/vsknn.py`). */
export interface VsknnOptions {
  k: number;
  sampleSize: number;
  weighting: keyof typeof POSITION_WEIGHTINGS;
  weightingScore: keyof typeof SCORE_WEIGHTINGS;
  /** 0 = off; otherwise a vote is multiplied by (1 + idf(item) · idfWeighting). */
  idfWeighting: number;
  /** Use only the last n plays of the current session (0 = all). */
  lastN: number;
}

export const VSKNN_DEFAULTS: VsknnOptions = {
  k: 100,
  sampleSize: 1000,
  weighting: 'div',
  weightingScore: 'div',
  idfWeighting: 0,
  lastN: 0,
};

/**
 * Vector-multiplication session kNN (Ludewig & Jannach 2018; Ludewig, Latifi, Jannach et al. 2019/2021):
 * the current session is a real-valued vector whose weights decay with position (the last play weighs 1);
 * similarity to a binary-encoded neighbour is their dot product over the number of distinct current items;
 * a neighbour's votes decay with how far back its most recent shared item lies, optionally idf-weighted.
 */
export class VsknnRecommender implements SessionRecommender {
  readonly name: string;
  readonly options: VsknnOptions;
  private index = new SessionIndex([]);
  private idf = new Float64Array(0);
  private simAcc = new Float64Array(0);
  private lastShared = new Int32Array(0);
  private scores = new Float64Array(0);
  private isCandidate = new Uint8Array(0);

  constructor(options: Partial<VsknnOptions> = {}, name = 'vsknn') {
    this.options = { ...VSKNN_DEFAULTS, ...options };
    this.name = name;
  }

  fit(train: readonly TrainSession[]): void {
    this.index = new SessionIndex(train);
    const n = this.index.sessionCount;
    // As session-rec: log(sessions / plays of the item).
    this.idf = this.index.plays.map((plays) => Math.log(n / plays));
    this.simAcc = new Float64Array(n);
    this.lastShared = new Int32Array(n);
    this.scores = new Float64Array(this.index.itemCount);
    this.isCandidate = new Uint8Array(this.index.itemCount);
  }

  /** The neighbour sessions with similarity and vote decay, best first; exposed for tests. */
  neighbours(prefix: readonly string[]): { session: number; similarity: number; decay: number }[] {
    const { lastN, weighting, weightingScore, sampleSize, k } = this.options;
    const plays = lastN > 0 ? prefix.slice(-lastN) : prefix;
    const n = plays.length;
    // Later plays of an item overwrite earlier ones, as in session-rec's pos_map.
    const weight = new Map<number, { w: number; pos: number }>();
    plays.forEach((id, i) => {
      const idx = this.index.indexOf.get(id);
      if (idx !== undefined) weight.set(idx, { w: POSITION_WEIGHTINGS[weighting](i + 1, n), pos: i + 1 });
    });
    if (weight.size === 0) return [];
    // session-rec divides by the distinct items of the current session, unknown ones included.
    const distinct = new Set(plays).size;
    const touched: number[] = [];
    for (const [item, { w, pos }] of weight) {
      for (const s of this.index.postings[item]) {
        if (this.lastShared[s] === 0) touched.push(s);
        this.simAcc[s] += w;
        if (pos > this.lastShared[s]) this.lastShared[s] = pos;
      }
    }
    touched.sort((a, b) => b - a);
    const result = touched
      .slice(0, sampleSize)
      .map((s) => ({
        session: s,
        similarity: this.simAcc[s] / distinct,
        decay: SCORE_WEIGHTINGS[weightingScore](n - this.lastShared[s] + 1),
      }))
      .filter((r) => r.similarity > 0);
    for (const s of touched) {
      this.simAcc[s] = 0;
      this.lastShared[s] = 0;
    }
    result.sort((a, b) => b.similarity - a.similarity || b.session - a.session);
    return result.slice(0, k);
  }

  recommend(prefix: readonly string[], k: number, exclude?: ReadonlySet<string>): string[] {
    const idfWeighting = this.options.idfWeighting;
    const candidates: number[] = [];
    for (const { session, similarity, decay } of this.neighbours(prefix)) {
      for (const x of this.index.sets[session]) {
        if (this.isCandidate[x] === 0) {
          this.isCandidate[x] = 1;
          candidates.push(x);
        }
        const vote = idfWeighting > 0 ? similarity * (1 + this.idf[x] * idfWeighting) : similarity;
        this.scores[x] += vote * decay;
      }
    }
    const out = this.index.top(candidates, this.scores, k, exclude);
    for (const x of candidates) {
      this.scores[x] = 0;
      this.isCandidate[x] = 0;
    }
    return out;
  }
}
