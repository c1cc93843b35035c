import { SessionIndex } from './sessionIndex.ts';
import type { RecommendContext, SessionRecommender, TrainSession } from './sessionRecommender.ts';

const DAY_MS = 86_400_000;

/**
 * Options of STAN and VSTAN, named as session-rec's `STAN` (`knn/stan.py`) and `VSKNN_STAN`
 * (`knn/vstan.py`). A λ of 0 switches its weighting off (session-rec's `None`).
 */
export interface VstanOptions {
  /** Neighbour sessions the item scores come from. */
  k: number;
  /** Candidate sessions kept before similarity: the most recent that share an item with the session. */
  sampleSize: number;
  /** λ_spw: a play p of the n in the current session weighs exp((p − n) / λ_spw) (STAN's factor 1). */
  lambdaSpw: number;
  /** λ_snh, in days: a neighbour that started Δ days before now counts exp(−Δ / λ_snh) (factor 2). */
  lambdaSnh: number;
  /**
   * λ_inh: an item of a neighbour at distance d (in plays) from the neighbour's last item shared with the
   * current session counts exp(−d / λ_inh) (factor 3).
   */
  lambdaInh: number;
  /**
   * VSTAN's λ_ipw: a neighbour's votes count exp((p − n) / λ_ipw), p the latest play of the current session
   * the neighbour holds (V-SKNN's decay, exponential as in vstan.py).
   */
  lambdaIpw: number;
  /** VSTAN's λ_idf: a vote for x is multiplied by (1 + idf(x) · λ_idf), idf = log(sessions / plays of x). */
  lambdaIdf: number;
  /** `cosine`: Σ shared weights / (‖current weights‖ · √|neighbour|); `vec`: Σ shared weights / |current|. */
  similarity: 'cosine' | 'vec';
}

/** session-rec's constructor defaults for STAN (its k has none; 100 as for the other kNN methods). */
export const STAN_DEFAULTS: VstanOptions = {
  k: 100,
  sampleSize: 5000,
  lambdaSpw: 1.02,
  lambdaSnh: 5,
  lambdaInh: 2.05,
  lambdaIpw: 0,
  lambdaIdf: 0,
  similarity: 'cosine',
};

/** session-rec's constructor defaults for VSTAN (`VSKNN_STAN`). */
export const VSTAN_DEFAULTS: VstanOptions = {
  ...STAN_DEFAULTS,
  lambdaIpw: 1.02,
  lambdaIdf: 5,
};

/** One neighbour: its training index and its similarity (the neighbour-recency factor included). */
export interface StanNeighbour {
  session: number;
  similarity: number;
}

/**
 * VSTAN (Ludewig, Latifi, Jannach et al., UMUAI 2021): STAN's three factors (Garg et al., SIGIR 2019) with
 * V-SKNN's vote decay by the latest shared play and idf weighting. STAN is this with `lambdaIpw` and
 * `lambdaIdf` off and cosine similarity (`StanRecommender`). Sessions without `startMs` fall back to
 * training order for "recent" sampling and skip the neighbour-recency factor.
 */
export class VstanRecommender implements SessionRecommender {
  readonly name: string;
  readonly options: VstanOptions;
  private index = new SessionIndex([]);
  private idf = new Float64Array(0);
  private timed = false;
  private latest = 0;
  private acc = new Float64Array(0);
  private touched = new Uint8Array(0);
  private inCurrent = new Uint8Array(0);
  private lastPos = new Int32Array(0);
  private scores = new Float64Array(0);
  private isCandidate = new Uint8Array(0);

  constructor(options: Partial<VstanOptions> = {}, name = 'vstan', defaults = VSTAN_DEFAULTS) {
    this.options = { ...defaults, ...options };
    this.name = name;
  }

  fit(train: readonly TrainSession[]): void {
    this.index = new SessionIndex(train);
    const n = this.index.sessionCount;
    this.idf = this.index.plays.map((plays) => Math.log(n / plays));
    this.timed = n > 0 && this.index.times.every((t) => !Number.isNaN(t));
    this.latest = this.timed ? this.index.times.reduce((a, b) => Math.max(a, b), -Infinity) : 0;
    this.acc = new Float64Array(n);
    this.touched = new Uint8Array(n);
    const items = this.index.itemCount;
    this.inCurrent = new Uint8Array(items);
    this.lastPos = new Int32Array(items);
    this.scores = new Float64Array(items);
    this.isCandidate = new Uint8Array(items);
  }

  /** The `k` nearest neighbour sessions of a prefix, best first; exposed for tests. */
  neighbours(prefix: readonly string[], context: RecommendContext = {}): StanNeighbour[] {
    const { k, sampleSize, lambdaSpw, lambdaSnh, similarity } = this.options;
    const n = prefix.length;
    // pos_map: the weight of an item's latest play (later plays overwrite earlier ones).
    const weight = new Map<string, number>();
    prefix.forEach((id, i) => {
      weight.set(id, lambdaSpw > 0 ? Math.exp((i + 1 - n) / lambdaSpw) : 1);
    });
    let norm = 0;
    for (const w of weight.values()) norm += w * w;
    const candidates: number[] = [];
    for (const [id, w] of weight) {
      const item = this.index.indexOf.get(id);
      if (item === undefined) continue;
      for (const s of this.index.postings[item]) {
        if (this.touched[s] === 0) {
          this.touched[s] = 1;
          candidates.push(s);
        }
        this.acc[s] += w;
      }
    }
    const times = this.index.times;
    // session-rec's "recent" sampling, by start time when known (else later in training = more recent).
    const recentFirst = (a: number, b: number) => (this.timed ? times[b] - times[a] : 0) || b - a;
    candidates.sort(recentFirst);
    // The decay scales every neighbour's votes alike, so the ranking does not depend on "now"; without one,
    // the latest training session stands in (which also keeps exp() from underflowing).
    const now = context.nowMs ?? this.latest;
    const out: StanNeighbour[] = [];
    for (const s of candidates.slice(0, sampleSize)) {
      const shared = this.acc[s];
      let sim =
        similarity === 'cosine'
          ? shared / (Math.sqrt(norm) * Math.sqrt(this.index.sets[s].length))
          : shared / weight.size;
      if (lambdaSnh > 0 && this.timed) {
        sim *= Math.exp(-(now - times[s]) / (lambdaSnh * DAY_MS));
      }
      out.push({ session: s, similarity: sim });
    }
    for (const s of candidates) {
      this.acc[s] = 0;
      this.touched[s] = 0;
    }
    out.sort((a, b) => b.similarity - a.similarity || recentFirst(a.session, b.session));
    return out.slice(0, k);
  }

  recommend(
    prefix: readonly string[],
    k: number,
    exclude?: ReadonlySet<string>,
    context?: RecommendContext,
  ): string[] {
    const candidates = this.accumulate(prefix, context);
    const out = this.index.top(candidates, this.scores, k, exclude);
    this.reset(candidates);
    return out;
  }

  /** Every candidate's score after a prefix; exposed for tests. */
  itemScores(prefix: readonly string[], context?: RecommendContext): Map<string, number> {
    const candidates = this.accumulate(prefix, context);
    const out = new Map(candidates.map((x) => [this.index.ids[x], this.scores[x]]));
    this.reset(candidates);
    return out;
  }

  private reset(candidates: readonly number[]): void {
    for (const x of candidates) {
      this.scores[x] = 0;
      this.isCandidate[x] = 0;
    }
  }

  /** Sums the neighbours' votes into `scores`; returns the items voted for. */
  private accumulate(prefix: readonly string[], context?: RecommendContext): number[] {
    const { lambdaInh, lambdaIpw, lambdaIdf } = this.options;
    const known = prefix.map((id) => this.index.indexOf.get(id) ?? -1);
    for (const x of known) if (x >= 0) this.inCurrent[x] = 1;
    const n = prefix.length;
    const candidates: number[] = [];
    for (const { session, similarity } of this.neighbours(prefix, context)) {
      const seq = this.index.sequences[session];
      // The neighbour's last play of an item the current session holds (pos_i_star), and each item's last play.
      let star = 0;
      for (let i = 0; i < seq.length; i++) {
        if (this.inCurrent[seq[i]]) star = i + 1;
        this.lastPos[seq[i]] = i + 1;
      }
      let ipw = 1;
      if (lambdaIpw > 0) {
        let p = n;
        while (p > 0 && !(known[p - 1] >= 0 && this.lastPos[known[p - 1]] > 0)) p--;
        ipw = Math.exp((p - n) / lambdaIpw);
      }
      for (const x of this.index.sets[session]) {
        let vote = similarity;
        if (lambdaInh > 0) vote *= Math.exp(-Math.abs(this.lastPos[x] - star) / lambdaInh);
        if (lambdaIdf > 0) vote += vote * this.idf[x] * lambdaIdf;
        vote *= ipw;
        if (this.isCandidate[x] === 0) {
          this.isCandidate[x] = 1;
          candidates.push(x);
        }
        this.scores[x] += vote;
      }
      for (const x of seq) this.lastPos[x] = 0;
    }
    for (const x of known) if (x >= 0) this.inCurrent[x] = 0;
    return candidates;
  }
}
