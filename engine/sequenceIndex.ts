import type { Catalog } from './catalog.ts';
import type { PlaySequence } from './retrieval/transitionIndex.ts';

/** Settings of the sequence memory. */
export interface SequenceOptions {
  /** Plays after an antecedent that count towards a rule (session-rec SR's `steps`). */
  steps: number;
  /** Rules kept per antecedent, strongest first. */
  perItem: number;
  /** Continuations kept per two-play context. */
  perContext: number;
}

export const SEQUENCE_DEFAULTS: SequenceOptions = { steps: 10, perItem: 100, perContext: 20 };

/** Sequence features of one decision's candidates, one value per candidate in each column. */
export interface SequenceColumns {
  /** Sequential-rule weight from the last play, scaled by that play's strongest rule, in [0, 1]. */
  srLast: Float32Array;
  /** The same from the play before the last (the candidate two or more plays after it). */
  srPrev: Float32Array;
  /** Rules from the last five plays, the k-th newest weighing 1/k, scaled by the best candidate, in [0, 1]. */
  srRecent: Float32Array;
  /** Share of what followed the last two plays, in that order, that was this candidate, in [0, 1). */
  ctx2: Float32Array;
}

/**
 * Order-aware memory of logged sessions, for features the ranker reads beside `transition` and `sknn`:
 * sequential rules a → b weighted by 1/gap for b up to `steps` plays after a (Ludewig & Jannach 2018), and
 * the items that followed each ordered pair of consecutive plays (the second level of a context tree,
 * Mi et al. 2018). Skipped and disliked plays are left out, as the transition index does. Stored flat
 * (CSR per antecedent, one map for the pairs); a decision scatters at most six rows into a scratch array,
 * so its cost does not grow with the log.
 *
 * @example
 * const seq = SequenceIndex.fromSessions(catalog, trainSessions);
 * const cols = seq.columns([lastIndex, prevIndex], candidateIndexes); // cols.srLast[c] for candidate c
 */
export class SequenceIndex {
  private readonly scratch: Float32Array;

  private constructor(
    private readonly ruleOffsets: Int32Array,
    private readonly ruleTargets: Int32Array,
    private readonly ruleWeights: Float32Array,
    private readonly contexts: Map<number, number>,
    private readonly contextOffsets: Int32Array,
    private readonly contextTargets: Int32Array,
    private readonly contextShares: Float32Array,
    private readonly size: number,
  ) {
    this.scratch = new Float32Array(size);
  }

  static empty(catalog: Catalog): SequenceIndex {
    return new SequenceIndex(
      new Int32Array(catalog.size + 1),
      new Int32Array(0),
      new Float32Array(0),
      new Map(),
      new Int32Array(1),
      new Int32Array(0),
      new Float32Array(0),
      catalog.size,
    );
  }

  static fromSessions(
    catalog: Catalog,
    sessions: readonly PlaySequence[],
    options: Partial<SequenceOptions> = {},
  ): SequenceIndex {
    const { steps, perItem, perContext } = { ...SEQUENCE_DEFAULTS, ...options };
    const size = catalog.size;
    const rules = new Map<number, Map<number, number>>();
    const follow = new Map<number, Map<number, number>>();
    const bump = (table: Map<number, Map<number, number>>, key: number, to: number, w: number) => {
      let row = table.get(key);
      if (!row) {
        row = new Map();
        table.set(key, row);
      }
      row.set(to, (row.get(to) ?? 0) + w);
    };
    for (const session of sessions) {
      const seq: number[] = [];
      for (const p of session.items) {
        if (p.outcome === 'skipped' || p.outcome === 'disliked') continue;
        const i = catalog.indexOf(p.id);
        if (i !== undefined) seq.push(i);
      }
      for (let t = 0; t < seq.length; t++) {
        for (let gap = 1; gap <= steps && t + gap < seq.length; gap++) {
          if (seq[t + gap] !== seq[t]) bump(rules, seq[t], seq[t + gap], 1 / gap);
        }
        if (t >= 1 && t + 1 < seq.length) bump(follow, seq[t - 1] * size + seq[t], seq[t + 1], 1);
      }
    }
    const ruleOffsets = new Int32Array(size + 1);
    const ruleRows: [number, number][][] = new Array(size);
    for (let i = 0; i < size; i++) {
      const row = rules.get(i);
      ruleRows[i] = row ? strongest(row, perItem) : [];
      ruleOffsets[i + 1] = ruleOffsets[i] + ruleRows[i].length;
    }
    const ruleTargets = new Int32Array(ruleOffsets[size]);
    const ruleWeights = new Float32Array(ruleOffsets[size]);
    for (let i = 0; i < size; i++) {
      const top = ruleRows[i];
      const max = top.length > 0 ? top[0][1] : 1;
      top.forEach(([j, w], k) => {
        ruleTargets[ruleOffsets[i] + k] = j;
        ruleWeights[ruleOffsets[i] + k] = w / max;
      });
    }
    const contexts = new Map<number, number>();
    const contextRows: { top: [number, number][]; total: number }[] = [];
    for (const [key, row] of follow) {
      let total = 0;
      for (const c of row.values()) total += c;
      contexts.set(key, contextRows.length);
      contextRows.push({ top: strongest(row, perContext), total });
    }
    const contextOffsets = new Int32Array(contextRows.length + 1);
    contextRows.forEach((r, k) => {
      contextOffsets[k + 1] = contextOffsets[k] + r.top.length;
    });
    const contextTargets = new Int32Array(contextOffsets[contextRows.length]);
    const contextShares = new Float32Array(contextOffsets[contextRows.length]);
    contextRows.forEach((r, k) => {
      r.top.forEach(([j, c], m) => {
        contextTargets[contextOffsets[k] + m] = j;
        // (count) / (total + 1): a context seen once is not certainty.
        contextShares[contextOffsets[k] + m] = c / (r.total + 1);
      });
    });
    return new SequenceIndex(
      ruleOffsets,
      ruleTargets,
      ruleWeights,
      contexts,
      contextOffsets,
      contextTargets,
      contextShares,
      size,
    );
  }

  get ruleCount(): number {
    return this.ruleTargets.length;
  }

  /**
   * The sequence columns for `candidates` (item indexes) after `recent` (item indexes of the session's
   * latest plays, newest first).
   */
  columns(recent: readonly number[], candidates: ArrayLike<number>): SequenceColumns {
    const n = candidates.length;
    const out: SequenceColumns = {
      srLast: new Float32Array(n),
      srPrev: new Float32Array(n),
      srRecent: new Float32Array(n),
      ctx2: new Float32Array(n),
    };
    if (recent.length === 0 || this.size === 0) return out;
    const { scratch } = this;
    this.readRule(recent[0], candidates, out.srLast);
    if (recent.length > 1) this.readRule(recent[1], candidates, out.srPrev);
    let max = 0;
    for (let c = 0; c < n; c++) out.srRecent[c] = out.srLast[c] + out.srPrev[c] / 2;
    for (let k = 2; k < Math.min(5, recent.length); k++) {
      const from = this.ruleOffsets[recent[k]];
      const to = this.ruleOffsets[recent[k] + 1];
      for (let p = from; p < to; p++) scratch[this.ruleTargets[p]] = this.ruleWeights[p];
      for (let c = 0; c < n; c++) out.srRecent[c] += scratch[candidates[c]] / (k + 1);
      for (let p = from; p < to; p++) scratch[this.ruleTargets[p]] = 0;
    }
    for (let c = 0; c < n; c++) if (out.srRecent[c] > max) max = out.srRecent[c];
    if (max > 0) for (let c = 0; c < n; c++) out.srRecent[c] /= max;
    if (recent.length > 1) {
      const row = this.contexts.get(recent[1] * this.size + recent[0]);
      if (row !== undefined) {
        const from = this.contextOffsets[row];
        const to = this.contextOffsets[row + 1];
        for (let p = from; p < to; p++) scratch[this.contextTargets[p]] = this.contextShares[p];
        for (let c = 0; c < n; c++) out.ctx2[c] = scratch[candidates[c]];
        for (let p = from; p < to; p++) scratch[this.contextTargets[p]] = 0;
      }
    }
    return out;
  }

  private readRule(antecedent: number, candidates: ArrayLike<number>, into: Float32Array): void {
    const { scratch, ruleOffsets, ruleTargets, ruleWeights } = this;
    const from = ruleOffsets[antecedent];
    const to = ruleOffsets[antecedent + 1];
    if (from === to) return;
    for (let p = from; p < to; p++) scratch[ruleTargets[p]] = ruleWeights[p];
    for (let c = 0; c < candidates.length; c++) into[c] = scratch[candidates[c]];
    for (let p = from; p < to; p++) scratch[ruleTargets[p]] = 0;
  }
}

/** The `limit` heaviest entries of a row, heaviest first (ties: the smaller item index). */
function strongest(row: Map<number, number>, limit: number): [number, number][] {
  return [...row].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, limit);
}
