import type { Catalog } from '../catalog.ts';
import { kthSmallest } from '../selection.ts';
import { StanScratch, stanVote } from './stanVote.ts';
import type { PlaySequence } from './transitionIndex.ts';

/** Settings of the session-kNN scores, named as session-rec's SKNN (`knn/sknn.py`). */
export interface SessionKnnOptions {
  /** Neighbour sessions that vote. */
  k: number;
  /** Candidate neighbours kept before similarity: the most recent (latest in log order) sharing an item. */
  sampleSize: number;
  /** Items of the current session considered, newest first (caps the postings walked per decision). */
  maxItems: number;
  /** STAN vote (the `stan` feature): neighbour sessions that vote; 0 switches the vote off. */
  stanK: number;
  /** STAN: candidate neighbours kept before similarity, the most recent sharing an item. */
  stanSample: number;
  /** STAN's λ_spw: the r-th newest distinct item of the current session weighs exp(−r / λ_spw). */
  lambdaSpw: number;
  /** STAN's λ_inh: a neighbour's item d plays from its last item shared with this session counts exp(−d / λ_inh). */
  lambdaInh: number;
}

/**
 * The STAN settings are the ones `omakase eval` tuned on validation for STAN on all five 30Music slices (k 100,
 * sample 1000, λ_spw 4, λ_inh 16 on four of them); the neighbour-recency factor λ_snh needs start times the
 * engine's memory does not keep (log order stands in for recency, as for the sample).
 */
export const SESSION_KNN_DEFAULTS: SessionKnnOptions = {
  k: 10,
  sampleSize: 500,
  maxItems: 100,
  stanK: 100,
  stanSample: 1000,
  lambdaSpw: 4,
  lambdaInh: 16,
};

/**
 * The result of one session-kNN scoring: the best items, and every voted item's score (the best scaled to 1).
 * `vote` reads the index's scratch space, so it is valid only until the index scores again.
 */
export interface SessionKnnScores {
  /** The best `limit` items, best first. */
  items: Int32Array;
  scores: Float32Array;
  /** Score of any item, 0 when no neighbour played it. */
  vote(index: number): number;
  /** STAN score of any item (Garg et al. 2019: sequence-aware neighbours and votes), the best scaled to 1. */
  stan(index: number): number;
}

const NONE: SessionKnnScores = {
  items: new Int32Array(0),
  scores: new Float32Array(0),
  vote: () => 0,
  stan: () => 0,
};

/**
 * Session-based kNN (Jannach & Ludewig 2017) as a retrieval source and a feature: logged sessions indexed
 * item → sessions and session → items (flat CSR arrays, built once per engine). For the current session's
 * positives it takes the `sampleSize` most recent sessions sharing an item, keeps the `k` most similar by
 * binary cosine, and lets each vote for its items with its similarity. The same walk gives STAN's vote (the
 * `stan` feature, `stanVote.ts`): recency-weighted neighbours, votes decayed by the distance from the
 * neighbour's last shared play. The work per decision is bounded by `maxItems` postings walks and `k` (and
 * `stanK`) neighbour sessions, never a scan of the log.
 */
export class SessionKnnIndex {
  private readonly overlap: Float64Array;
  private readonly votes: Float64Array;
  /** Normalised votes of the last `score` call, and which items hold one (cleared by the next call). */
  private readonly lastVotes: Float32Array;
  private lastVoted: number[] = [];

  private constructor(
    private readonly itemOffsets: Int32Array,
    private readonly itemSessions: Int32Array,
    readonly sessionOffsets: Int32Array,
    readonly sessionItems: Int32Array,
    /** Beside `sessionItems`: the item's last position in its session (1-based, plays kept). */
    readonly sessionLastPos: Int32Array,
    readonly options: SessionKnnOptions,
  ) {
    // Scratch space reused across decisions; a decision fills and clears it synchronously.
    this.overlap = new Float64Array(sessionOffsets.length - 1);
    this.votes = new Float64Array(itemOffsets.length - 1);
    this.lastVotes = new Float32Array(itemOffsets.length - 1);
    this.stanStore = new StanScratch(sessionOffsets.length - 1, itemOffsets.length - 1);
  }

  private readonly stanStore: StanScratch;

  static empty(catalog: Catalog): SessionKnnIndex {
    return new SessionKnnIndex(
      new Int32Array(catalog.size + 1),
      new Int32Array(0),
      new Int32Array(1),
      new Int32Array(0),
      new Int32Array(0),
      SESSION_KNN_DEFAULTS,
    );
  }

  static fromSessions(
    catalog: Catalog,
    sessions: readonly PlaySequence[],
    options: Partial<SessionKnnOptions> = {},
  ): SessionKnnIndex {
    const sets: Int32Array[] = [];
    const lastPositions: Int32Array[] = [];
    const counts = new Int32Array(catalog.size);
    for (const session of sessions) {
      // Item → its last position among the kept plays (1-based); a Map keeps first-play order for the set.
      const seen = new Map<number, number>();
      let at = 0;
      for (const play of session.items) {
        // A skipped or disliked play is not part of what the session liked.
        if (play.outcome === 'skipped' || play.outcome === 'disliked') continue;
        const i = catalog.indexOf(play.id);
        if (i !== undefined) seen.set(i, ++at);
      }
      if (seen.size === 0) continue;
      const set = Int32Array.from(seen.keys());
      sets.push(set);
      lastPositions.push(Int32Array.from(seen.values()));
      for (const i of set) counts[i]++;
    }
    const sessionOffsets = new Int32Array(sets.length + 1);
    for (let s = 0; s < sets.length; s++) sessionOffsets[s + 1] = sessionOffsets[s] + sets[s].length;
    const sessionItems = new Int32Array(sessionOffsets[sets.length]);
    const sessionLastPos = new Int32Array(sessionOffsets[sets.length]);
    for (let s = 0; s < sets.length; s++) {
      sessionItems.set(sets[s], sessionOffsets[s]);
      sessionLastPos.set(lastPositions[s], sessionOffsets[s]);
    }
    const itemOffsets = new Int32Array(catalog.size + 1);
    for (let i = 0; i < catalog.size; i++) itemOffsets[i + 1] = itemOffsets[i] + counts[i];
    const itemSessions = new Int32Array(itemOffsets[catalog.size]);
    const fill = itemOffsets.slice(0, catalog.size);
    // Sessions in log order, so each item's postings ascend: the last ones are the most recent.
    sets.forEach((set, s) => {
      for (const i of set) itemSessions[fill[i]++] = s;
    });
    return new SessionKnnIndex(itemOffsets, itemSessions, sessionOffsets, sessionItems, sessionLastPos, {
      ...SESSION_KNN_DEFAULTS,
      ...options,
    });
  }

  get sessionCount(): number {
    return this.sessionOffsets.length - 1;
  }

  /**
   * SKNN scores for a session given its positives (item indexes, newest first, duplicates allowed): the
   * best `limit` items (the session's own items among them: the caller excludes what was played) and a
   * lookup for any item; with `withStan`, STAN's vote too (otherwise it reads 0 and costs nothing).
   */
  score(positives: readonly number[], limit: number, withStan = true): SessionKnnScores {
    for (const x of this.lastVoted) this.lastVotes[x] = 0;
    this.lastVoted = [];
    const { k, sampleSize, maxItems } = this.options;
    const items: number[] = [];
    const ranks: number[] = [];
    const inSession = new Set<number>();
    for (let j = 0; j < positives.length; j++) {
      const i = positives[j];
      if (items.length >= maxItems) break;
      if (inSession.has(i)) continue;
      inSession.add(i);
      items.push(i);
      ranks.push(j);
    }
    if (items.length === 0 || this.sessionCount === 0) return NONE;
    const stan = this.stanStore;
    const { overlap, votes, lastVotes, itemOffsets, itemSessions, sessionOffsets, sessionItems } = this;
    const touched: number[] = [];
    // STAN's weighted overlap in the same walk: the r-th newest play weighs exp(−r / λ_spw).
    const stanWeighted = stan.overlap;
    for (let j = 0; j < items.length; j++) {
      const i = items[j];
      const w = withStan ? Math.exp(-ranks[j] / this.options.lambdaSpw) : 0;
      for (let p = itemOffsets[i]; p < itemOffsets[i + 1]; p++) {
        const s = itemSessions[p];
        if (overlap[s] === 0) touched.push(s);
        overlap[s]++;
        if (withStan) stanWeighted[s] += w;
      }
    }
    // session-rec's "recent" sampling: log order stands in for time. Session numbers are distinct, so a native
    // ascending sort read from the end gives the most recent first.
    const recent = Int32Array.from(touched).sort();
    if (withStan) stanVote(this, this.options, items, ranks, recent, stan);
    const sampled = Math.min(sampleSize, recent.length);
    // The k most similar of the sample (ties: the more recent), best first.
    const near = new Int32Array(Math.max(0, k));
    const nearSim = new Float64Array(near.length);
    let nearCount = 0;
    for (let r = 1; r <= sampled; r++) {
      const s = recent[recent.length - r];
      const sim = overlap[s] / Math.sqrt(items.length * (sessionOffsets[s + 1] - sessionOffsets[s]));
      if (nearCount === near.length) {
        const last = nearCount - 1;
        if (last < 0 || sim < nearSim[last] || (sim === nearSim[last] && s < near[last])) continue;
      }
      let j = nearCount < near.length ? nearCount++ : nearCount - 1;
      for (; j > 0 && (sim > nearSim[j - 1] || (sim === nearSim[j - 1] && s > near[j - 1])); j--) {
        near[j] = near[j - 1];
        nearSim[j] = nearSim[j - 1];
      }
      near[j] = s;
      nearSim[j] = sim;
    }
    for (const s of touched) overlap[s] = 0;
    const voted: number[] = [];
    let max = 0;
    for (let j = 0; j < nearCount; j++) {
      const s = near[j];
      const sim = nearSim[j];
      for (let p = sessionOffsets[s]; p < sessionOffsets[s + 1]; p++) {
        const x = sessionItems[p];
        if (votes[x] === 0) voted.push(x);
        votes[x] += sim;
        if (votes[x] > max) max = votes[x];
      }
    }
    // The cut for the best `limit` by a selection over the values; only those few get a comparator sort.
    const values = new Float64Array(voted.length);
    for (let j = 0; j < voted.length; j++) values[j] = votes[voted[j]];
    const cut = values.length > limit ? kthSmallest(values, values.length - limit) : 0;
    const best = voted.filter((x) => votes[x] >= cut);
    best.sort((a, b) => votes[b] - votes[a] || a - b);
    if (best.length > limit) best.length = limit;
    for (const x of voted) {
      lastVotes[x] = votes[x] / max;
      votes[x] = 0;
    }
    this.lastVoted = voted;
    const scores = new Float32Array(best.length);
    for (let j = 0; j < best.length; j++) scores[j] = lastVotes[best[j]];
    return {
      items: Int32Array.from(best),
      scores,
      vote: (x) => lastVotes[x],
      stan: withStan ? (x) => stan.last[x] : () => 0,
    };
  }
}
