import { SessionIndex } from './sessionIndex.ts';
import type { SessionRecommender, TrainSession } from './sessionRecommender.ts';

/** Weight of a rule a → b by the gap i ≥ 1 between a and a later b (session-rec's `sr.py` functions). */
export const RULE_WEIGHTINGS = {
  same: () => 1,
  div: (i: number) => 1 / i,
  /** As session-rec: 1 − 0.1·i, which turns negative past a gap of 10. */
  linear: (i: number) => (i <= 100 ? 1 - 0.1 * i : 0),
  log: (i: number) => 1 / Math.log10(i + 1.7),
  quadratic: (i: number) => 1 / (i * i),
} as const;

/** Options of SR, named and defaulted as session-rec's `SequentialRules` (`baselines/sr.py`). */
export interface SequentialRulesOptions {
  /** Largest gap between a rule's two items, in plays. */
  steps: number;
  weighting: keyof typeof RULE_WEIGHTINGS;
  /** Rules kept per antecedent: ≥ 1 the best n, in (0, 1) drop that share, 0 keep all. */
  pruning: number;
}

export const SR_DEFAULTS: SequentialRulesOptions = { steps: 10, weighting: 'div', pruning: 20 };

/**
 * Sequential rules (Ludewig & Jannach 2018, after Kamehkhosh et al. 2017): every training play b after a
 * play a at most `steps` earlier adds weight(gap) to the rule a → b; the next items after a session are
 * the consequents of its last play's rules, by summed weight.
 */
export class SequentialRulesRecommender implements SessionRecommender {
  readonly name: string;
  readonly options: SequentialRulesOptions;
  private index = new SessionIndex([]);
  private rules: Map<number, { items: number[]; weights: Float64Array }> = new Map();
  private scores = new Float64Array(0);

  constructor(options: Partial<SequentialRulesOptions> = {}, name = 'sr') {
    this.options = { ...SR_DEFAULTS, ...options };
    this.name = name;
  }

  fit(train: readonly TrainSession[]): void {
    const { steps, weighting, pruning } = this.options;
    const weight = RULE_WEIGHTINGS[weighting];
    this.index = new SessionIndex(train);
    const raw = new Map<number, Map<number, number>>();
    for (const seq of this.index.sequences) {
      for (let j = 1; j < seq.length; j++) {
        for (let i = 1; i <= Math.min(steps, j); i++) {
          const a = seq[j - i];
          let next = raw.get(a);
          if (!next) {
            next = new Map();
            raw.set(a, next);
          }
          next.set(seq[j], (next.get(seq[j]) ?? 0) + weight(i));
        }
      }
    }
    this.rules = new Map();
    for (const [a, next] of raw) {
      // Counter.most_common: by weight, ties in insertion order (a stable sort keeps it).
      let entries = [...next];
      if (pruning > 0) {
        const keep = pruning < 1 ? entries.length - Math.floor(entries.length * pruning) : pruning;
        entries = entries.sort((x, y) => y[1] - x[1]).slice(0, keep);
      }
      this.rules.set(a, {
        items: entries.map((e) => e[0]),
        weights: Float64Array.from(entries, (e) => e[1]),
      });
    }
    this.scores = new Float64Array(this.index.itemCount);
  }

  /** The rules from one item, as [item id, weight], best first; exposed for tests. */
  rulesFrom(id: string): [string, number][] {
    const a = this.index.indexOf.get(id);
    const r = a === undefined ? undefined : this.rules.get(a);
    if (!r) return [];
    return r.items
      .map((b, i) => [this.index.ids[b], r.weights[i]] as [string, number])
      .sort((x, y) => y[1] - x[1]);
  }

  recommend(prefix: readonly string[], k: number, exclude?: ReadonlySet<string>): string[] {
    const a = prefix.length > 0 ? this.index.indexOf.get(prefix[prefix.length - 1]) : undefined;
    const r = a === undefined ? undefined : this.rules.get(a);
    if (!r) return [];
    r.items.forEach((b, i) => {
      this.scores[b] = r.weights[i];
    });
    const out = this.index.top(r.items, this.scores, k, exclude);
    for (const b of r.items) this.scores[b] = 0;
    return out;
  }
}
