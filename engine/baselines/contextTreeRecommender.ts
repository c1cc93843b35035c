import { SessionIndex } from './sessionIndex.ts';
import type { SessionRecommender, TrainSession } from './sessionRecommender.ts';

/** Options of CT, after session-rec's `ContextTree` (`ct/ct.py`, `ct/context_tree_BVMM.py`). */
export interface ContextTreeOptions {
  /** Longest context (plays, most recent first) the tree grows to; session-rec's `history_maxlen` is 50. */
  maxDepth: number;
  /**
   * `bayes`: each context's mixing weight u is updated after every training play, u ← u·p/q, as Mi et al.
   * define it; `fixed`: u stays at its prior 2^−depth, which is what session-rec's code computes (its update
   * writes the new weight to an attribute that is never read).
   */
  weights: 'bayes' | 'fixed';
}

export const CT_DEFAULTS: ContextTreeOptions = { maxDepth: 10, weights: 'bayes' };

/**
 * Context tree (Mi, Lin & Faltings, 2018): a variable-order Markov model. Every suffix of the session (the
 * last play, the last two, …) up to `maxDepth` is a node with its own expert, p(x) = (1 + n(x)) / (1 + N)
 * over the plays that followed that context in training, and a weight u (prior 2^−depth). The prediction
 * mixes the experts from the root (no context) to the deepest matching context: q₀ = p₀, q_d = u_d·p_d +
 * (1 − u_d)·q_{d−1}.
 */
export class ContextTreeRecommender implements SessionRecommender {
  readonly name: string;
  readonly options: ContextTreeOptions;
  private index = new SessionIndex([]);
  /** (parent node · items + item) → child node; node 0 is the root. */
  private children = new Map<number, number>();
  private total: number[] = [1];
  private weight: number[] = [1];
  /** Counts of what followed each context; the root's are in `rootCounts`. */
  private counts: (Map<number, number> | undefined)[] = [undefined];
  private rootCounts = new Float64Array(0);
  private scores = new Float64Array(0);
  private isCandidate = new Uint8Array(0);

  constructor(options: Partial<ContextTreeOptions> = {}, name = 'ct') {
    this.options = { ...CT_DEFAULTS, ...options };
    this.name = name;
  }

  fit(train: readonly TrainSession[]): void {
    this.index = new SessionIndex(train);
    const items = this.index.itemCount;
    this.children = new Map();
    this.total = [1];
    this.weight = [1];
    this.counts = [undefined];
    this.rootCounts = new Float64Array(items);
    this.scores = new Float64Array(items);
    this.isCandidate = new Uint8Array(items);
    const { maxDepth, weights } = this.options;
    const path: number[] = [];
    for (const seq of this.index.sequences) {
      for (let j = 0; j < seq.length; j++) {
        // The context of play j: the plays before it, most recent first.
        this.pathOf(seq, j - 1, path);
        const x = seq[j];
        let q = 0;
        for (const node of path) {
          const u = this.weight[node];
          const p = (1 + this.count(node, x)) / (1 + this.total[node]);
          q = u * p + (1 - u) * q;
          if (weights === 'bayes') this.weight[node] = (u * p) / q;
          this.increment(node, x);
        }
        // Grow the tree along the context of the next play (this one included).
        let node = 0;
        for (let d = 1; d <= maxDepth && j - d + 1 >= 0; d++) {
          const key = node * items + seq[j - d + 1];
          let child = this.children.get(key);
          if (child === undefined) {
            child = this.total.length;
            this.children.set(key, child);
            this.total.push(1);
            this.weight.push(2 ** -d);
            this.counts.push(undefined);
          }
          node = child;
        }
      }
    }
  }

  /** Nodes in the tree: the root and every context seen in training up to `maxDepth`; exposed for tests. */
  get nodeCount(): number {
    return this.total.length;
  }

  /** The mixed probability q of `id` following `prefix` (not normalised over items); exposed for tests. */
  probability(prefix: readonly string[], id: string): number {
    const x = this.index.indexOf.get(id);
    const path = this.pathOf(this.indices(prefix), prefix.length - 1, []);
    let q = 0;
    for (const node of path) {
      const c = x === undefined ? 0 : this.count(node, x);
      const u = this.weight[node];
      q = u * ((1 + c) / (1 + this.total[node])) + (1 - u) * q;
    }
    return q;
  }

  recommend(prefix: readonly string[], k: number, exclude?: ReadonlySet<string>): string[] {
    const path = this.pathOf(this.indices(prefix), prefix.length - 1, []);
    // q(x) = Σ_d W_d (1 + n_d(x)) / (1 + N_d), W_d = u_d Π_{j>d} (1 − u_j): linear in the counts, so only
    // items some context on the path has seen, and the most played (the root's counts), can lead.
    const mix = new Float64Array(path.length);
    let rest = 1;
    for (let d = path.length - 1; d >= 0; d--) {
      mix[d] = this.weight[path[d]] * rest;
      rest *= 1 - this.weight[path[d]];
    }
    let base = 0;
    for (let d = 0; d < path.length; d++) base += mix[d] / (1 + this.total[path[d]]);
    const candidates: number[] = [];
    const add = (x: number) => {
      if (this.isCandidate[x] === 0) {
        this.isCandidate[x] = 1;
        candidates.push(x);
        this.scores[x] = base + (mix[0] * this.rootCounts[x]) / (1 + this.total[0]);
      }
    };
    const popular = Math.min(this.index.itemCount, k + (exclude?.size ?? 0));
    for (let i = 0; i < popular; i++) add(this.index.byPopularity[i]);
    for (let d = 1; d < path.length; d++) {
      const counts = this.counts[path[d]];
      if (!counts) continue;
      for (const x of counts.keys()) add(x);
    }
    for (let d = 1; d < path.length; d++) {
      const counts = this.counts[path[d]];
      if (!counts) continue;
      const scale = mix[d] / (1 + this.total[path[d]]);
      for (const [x, c] of counts) this.scores[x] += scale * c;
    }
    const out = this.index.top(candidates, this.scores, k, exclude);
    for (const x of candidates) {
      this.scores[x] = 0;
      this.isCandidate[x] = 0;
    }
    return out;
  }

  /**
   * The root and the matching contexts of the plays `seq[last]`, `seq[last − 1]`, … (most recent first), into
   * `out`; an unknown item (−1) ends the match.
   */
  private pathOf(seq: ArrayLike<number>, last: number, out: number[]): number[] {
    out.length = 0;
    out.push(0);
    const items = this.index.itemCount;
    let node = 0;
    for (let d = 1, j = last; d <= this.options.maxDepth && j >= 0 && seq[j] >= 0; d++, j--) {
      const child = this.children.get(node * items + seq[j]);
      if (child === undefined) break;
      out.push(child);
      node = child;
    }
    return out;
  }

  private indices(prefix: readonly string[]): number[] {
    return prefix.map((id) => this.index.indexOf.get(id) ?? -1);
  }

  private count(node: number, x: number): number {
    return node === 0 ? this.rootCounts[x] : (this.counts[node]?.get(x) ?? 0);
  }

  private increment(node: number, x: number): void {
    this.total[node]++;
    if (node === 0) {
      this.rootCounts[x]++;
      return;
    }
    let counts = this.counts[node];
    if (!counts) {
      counts = new Map();
      this.counts[node] = counts;
    }
    counts.set(x, (counts.get(x) ?? 0) + 1);
  }
}
