/** Offline next-item metrics, averaged over targets. */
export interface NextItemMetrics {
  hr10: number;
  hr20: number;
  mrr10: number;
  mrr20: number;
  ndcg10: number;
  ndcg20: number;
  /** Targets averaged over. */
  targets: number;
}

/** 1-based rank of `target` in `list`, or 0 when absent. */
export function rankOf(list: readonly string[], target: string): number {
  const i = list.indexOf(target);
  return i < 0 ? 0 : i + 1;
}

/** The metrics of one ranked list against one target (a single target: IDCG = 1). */
export function scoreRank(rank: number): Omit<NextItemMetrics, 'targets'> {
  const hit = (k: number) => (rank > 0 && rank <= k ? 1 : 0);
  return {
    hr10: hit(10),
    hr20: hit(20),
    mrr10: hit(10) / (rank || 1),
    mrr20: hit(20) / (rank || 1),
    ndcg10: hit(10) ? 1 / Math.log2(rank + 1) : 0,
    ndcg20: hit(20) ? 1 / Math.log2(rank + 1) : 0,
  };
}

/** Sums next-item metrics over targets; `result()` gives the means (zeros when no target was added). */
export class NextItemAccumulator {
  private readonly sums = { hr10: 0, hr20: 0, mrr10: 0, mrr20: 0, ndcg10: 0, ndcg20: 0 };
  private count = 0;

  add(list: readonly string[], target: string): void {
    const s = scoreRank(rankOf(list, target));
    for (const key of Object.keys(this.sums) as (keyof typeof this.sums)[]) this.sums[key] += s[key];
    this.count++;
  }

  result(): NextItemMetrics {
    const n = this.count || 1;
    return {
      hr10: this.sums.hr10 / n,
      hr20: this.sums.hr20 / n,
      mrr10: this.sums.mrr10 / n,
      mrr20: this.sums.mrr20 / n,
      ndcg10: this.sums.ndcg10 / n,
      ndcg20: this.sums.ndcg20 / n,
      targets: this.count,
    };
  }
}
