import type { TrainSession } from './sessionRecommender.ts';

/**
 * Training sessions with item ids interned to dense integers: each session's ordered plays and distinct
 * items, and for each item the sessions that hold it (ascending, so the last ones are the most recent).
 * The neighbourhood baselines share it; every ranking they return goes through `top`.
 */
export class SessionIndex {
  readonly ids: string[] = [];
  readonly indexOf = new Map<string, number>();
  /** Ordered plays of each session, as item indices. */
  readonly sequences: Int32Array[] = [];
  /** Distinct items of each session, in first-play order. */
  readonly sets: Int32Array[] = [];
  /** Sessions holding each item, ascending (= least to most recent in training order). */
  readonly postings: Int32Array[];
  /** Plays of each item over all training sessions. */
  readonly plays: Float64Array;
  /** Start time of each session (ms since the epoch), NaN when the session has none. */
  readonly times: Float64Array;
  /** Item indices by plays, most played first (ties by first appearance). */
  readonly byPopularity: Int32Array;

  constructor(train: readonly TrainSession[]) {
    const postingLists: number[][] = [];
    const playCounts: number[] = [];
    for (const session of train) {
      const seq = new Int32Array(session.items.length);
      const seen = new Set<number>();
      const set: number[] = [];
      session.items.forEach((play, i) => {
        let idx = this.indexOf.get(play.id);
        if (idx === undefined) {
          idx = this.ids.length;
          this.ids.push(play.id);
          this.indexOf.set(play.id, idx);
          postingLists.push([]);
          playCounts.push(0);
        }
        seq[i] = idx;
        playCounts[idx]++;
        if (!seen.has(idx)) {
          seen.add(idx);
          set.push(idx);
          postingLists[idx].push(this.sequences.length);
        }
      });
      this.sequences.push(seq);
      this.sets.push(Int32Array.from(set));
    }
    this.postings = postingLists.map((p) => Int32Array.from(p));
    this.times = Float64Array.from(train, (s) => s.startMs ?? Number.NaN);
    this.plays = Float64Array.from(playCounts);
    const order = Array.from(this.ids.keys());
    order.sort((a, b) => playCounts[b] - playCounts[a] || a - b);
    this.byPopularity = Int32Array.from(order);
  }

  get itemCount(): number {
    return this.ids.length;
  }

  get sessionCount(): number {
    return this.sequences.length;
  }

  /** Known item indices of a prefix, in order (unknown ids are dropped). */
  known(prefix: readonly string[]): number[] {
    const out: number[] = [];
    for (const id of prefix) {
      const idx = this.indexOf.get(id);
      if (idx !== undefined) out.push(idx);
    }
    return out;
  }

  /**
   * The `k` best items of `candidates` by `scores` (descending; ties go to the more played item, then the
   * lower index, so rankings are deterministic), skipping excluded ids and non-positive scores.
   */
  top(
    candidates: readonly number[],
    scores: Float64Array,
    k: number,
    exclude?: ReadonlySet<string>,
  ): string[] {
    // A bounded insertion list: k is small (≤ 100) and most candidates lose to the current k-th at once,
    // which beats sorting tens of thousands of candidates per call.
    const best: number[] = [];
    const better = (a: number, b: number) =>
      scores[a] > scores[b] ||
      (scores[a] === scores[b] &&
        (this.plays[a] > this.plays[b] || (this.plays[a] === this.plays[b] && a < b)));
    for (const c of candidates) {
      if (!(scores[c] > 0) || k <= 0) continue;
      if (best.length === k && !better(c, best[k - 1])) continue;
      if (exclude?.has(this.ids[c])) continue;
      let i = best.length < k ? best.length : k - 1;
      while (i > 0 && better(c, best[i - 1])) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = c;
    }
    return best.map((c) => this.ids[c]);
  }
}
