import { SessionIndex } from './sessionIndex.ts';
import type { SessionRecommender, TrainSession } from './sessionRecommender.ts';

/** First-order transitions: the items that most often followed the last played item in training. */
export class MarkovRecommender implements SessionRecommender {
  readonly name = 'markov';
  private index = new SessionIndex([]);
  private successors: Map<number, Map<number, number>> = new Map();
  private scores = new Float64Array(0);

  fit(train: readonly TrainSession[]): void {
    this.index = new SessionIndex(train);
    this.successors = new Map();
    for (const seq of this.index.sequences) {
      for (let i = 0; i + 1 < seq.length; i++) {
        let next = this.successors.get(seq[i]);
        if (!next) {
          next = new Map();
          this.successors.set(seq[i], next);
        }
        next.set(seq[i + 1], (next.get(seq[i + 1]) ?? 0) + 1);
      }
    }
    this.scores = new Float64Array(this.index.itemCount);
  }

  recommend(prefix: readonly string[], k: number, exclude?: ReadonlySet<string>): string[] {
    const known = this.index.known(prefix.slice(-1));
    if (known.length === 0) return [];
    const next = this.successors.get(known[0]);
    if (!next) return [];
    const candidates = [...next.keys()];
    for (const [item, count] of next) this.scores[item] = count;
    const out = this.index.top(candidates, this.scores, k, exclude);
    for (const item of candidates) this.scores[item] = 0;
    return out;
  }
}
