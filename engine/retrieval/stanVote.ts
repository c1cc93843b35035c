import { kthSmallest } from '../selection.ts';

/** The flat arrays of a session-kNN memory STAN reads (see `SessionKnnIndex`). */
export interface StanMemory {
  sessionOffsets: Int32Array;
  sessionItems: Int32Array;
  sessionLastPos: Int32Array;
}

export interface StanSettings {
  stanK: number;
  stanSample: number;
  lambdaSpw: number;
  lambdaInh: number;
}

/** Scratch space of the STAN vote, sized once per memory; a vote fills and clears it synchronously. */
export class StanScratch {
  /** Per session: Σ of the weights of the current session's items it holds (filled by the caller's walk). */
  readonly overlap: Float64Array;
  readonly votes: Float64Array;
  readonly inCurrent: Uint8Array;
  /** Normalised votes of the last call, and which items hold one (cleared by the next call). */
  readonly last: Float32Array;
  lastVoted: number[] = [];

  constructor(sessions: number, items: number) {
    this.overlap = new Float64Array(sessions);
    this.votes = new Float64Array(items);
    this.inCurrent = new Uint8Array(items);
    this.last = new Float32Array(items);
  }
}

/**
 * STAN's item scores (Garg et al., SIGIR 2019, as session-rec's `knn/stan.py` without the neighbour-recency
 * factor) for the current session's distinct items `items` (newest first), `ranks[j]` the plays between
 * item j's latest play and the newest (0 for the newest). Item j weighs w_j = exp(−ranks[j] / λ_spw); of the
 * `stanSample` most recent sessions sharing an item, the `stanK` most similar by Σ shared w / (‖w‖ · √|s|)
 * vote: neighbour s gives item x sim(s) · exp(−|pos_s(x) − pos_s*| / λ_inh), pos_s* the last position in s
 * of an item of the current session. The caller has walked the postings into `scratch.overlap` (Σ shared w
 * per session) and passes the sessions it touched in ascending (log) order, `recent`; this clears the
 * overlap and fills `scratch.last` with the votes, the best scaled to 1.
 */
export function stanVote(
  memory: StanMemory,
  settings: StanSettings,
  items: readonly number[],
  ranks: readonly number[],
  recent: Int32Array,
  scratch: StanScratch,
): void {
  const { overlap, votes, inCurrent, last } = scratch;
  for (const x of scratch.lastVoted) last[x] = 0;
  scratch.lastVoted = [];
  const { stanK, stanSample, lambdaSpw, lambdaInh } = settings;
  const { sessionOffsets, sessionItems, sessionLastPos } = memory;
  let norm = 0;
  for (let j = 0; j < items.length; j++) norm += Math.exp((-2 * ranks[j]) / lambdaSpw);
  const sampled = stanK > 0 ? Math.min(stanSample, recent.length) : 0;
  const sims = new Float64Array(sampled);
  const sessions = new Int32Array(sampled);
  const rootNorm = Math.sqrt(norm);
  for (let r = 0; r < sampled; r++) {
    const s = recent[recent.length - 1 - r];
    sessions[r] = s;
    sims[r] = overlap[s] / (rootNorm * Math.sqrt(sessionOffsets[s + 1] - sessionOffsets[s]));
  }
  for (const s of recent) overlap[s] = 0;
  if (sampled === 0) return;
  for (const i of items) inCurrent[i] = 1;
  // The stanK most similar: a selection for the cut; ties at the cut all vote (order-free, deterministic).
  const cut = sampled > stanK ? kthSmallest(sims.slice(), sampled - stanK) : 0;
  const voted: number[] = [];
  let max = 0;
  for (let r = 0; r < sampled; r++) {
    const sim = sims[r];
    if (sim < cut || sim <= 0) continue;
    const s = sessions[r];
    const from = sessionOffsets[s];
    const to = sessionOffsets[s + 1];
    let star = 0;
    for (let p = from; p < to; p++) {
      if (inCurrent[sessionItems[p]] && sessionLastPos[p] > star) star = sessionLastPos[p];
    }
    for (let p = from; p < to; p++) {
      const x = sessionItems[p];
      if (votes[x] === 0) voted.push(x);
      votes[x] += sim * Math.exp(-Math.abs(sessionLastPos[p] - star) / lambdaInh);
    }
  }
  for (const i of items) inCurrent[i] = 0;
  for (const x of voted) if (votes[x] > max) max = votes[x];
  for (const x of voted) {
    last[x] = max > 0 ? votes[x] / max : 0;
    votes[x] = 0;
  }
  scratch.lastVoted = voted;
}
