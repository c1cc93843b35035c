import type { Catalog } from './catalog.ts';
import type { EngineConfig } from './config.ts';
import type { Pick } from './pick.ts';
import { feedbackCorrection } from './policy/feedbackCorrection.ts';
import { type SlateRequest, selectSlate } from './policy/slatePolicy.ts';
import { Spare } from './policy/slateScratch.ts';
import { steerLead } from './policy/steerLead.ts';
import { type ScoredPool, scoreSpan } from './pool.ts';
import { createRng, deriveSeed } from './rng.ts';
import type { SessionState } from './session.ts';

/** Salt for the picks' random draws, so they never share a stream with a decision's retrieval. */
const PICK_SALT = 0x5eed_1c4;

/**
 * Chooses the next `n` picks from a scored pool against the session as it is now: what was picked since the
 * pool was scored, artists blocked and items disliked since, are out; outcomes marked since it was scored
 * move the scores toward or away from their items' neighbourhood (`feedbackCorrection`); then the slate
 * policy (rules, diversity, exploration) picks. Synchronous and cheap: this is what runs at delivery.
 * The draws come from (session seed, next position), so the same state and pool give the same picks.
 * With `follow` it takes the given items instead of drawing, and reports each slot's choices (`SlotChoices`).
 */
export function pickFromPool(
  catalog: Catalog,
  config: EngineConfig,
  state: SessionState,
  pool: ScoredPool,
  n: number,
  nowMs: number,
  follow?: SlateRequest['follow'],
): Pick[] {
  const size = pool.items.length;
  const scratch = scratches.take().prepare(size);
  const out = scratch.out;
  // Picked since scoring (the rest of the history was excluded when the pool was retrieved).
  const since = new Set<number>();
  for (let h = state.history.length - 1; h >= 0 && state.history[h].pos >= pool.fromPos; h--) {
    const i = catalog.indexOf(state.history[h].id);
    if (i !== undefined) since.add(i);
  }
  const blocked = new Set<number>();
  for (const b of state.blockedArtists) {
    if (b.untilPos <= state.nextPos) continue;
    const members = catalog.byArtist(b.artist);
    if (members.length > 0) blocked.add(catalog.artistIds[members[0]]);
  }
  const disliked = new Set<number>();
  for (let k = Math.max(0, state.dislikedIds.length - 16); k < state.dislikedIds.length; k++) {
    const i = catalog.indexOf(state.dislikedIds[k]);
    if (i !== undefined) disliked.add(i);
  }
  let eligible = 0;
  for (let c = 0; c < size; c++) {
    const i = pool.items[c];
    if (since.has(i) || disliked.has(i) || (blocked.size > 0 && blocked.has(catalog.artistIds[i]))) {
      out[c] = 1;
    } else eligible++;
  }
  if (eligible === 0) {
    scratches.give(scratch);
    return [];
  }

  const indexes = scratch.indexes.subarray(0, eligible);
  const sources = scratch.sources.subarray(0, eligible);
  const ranks = scratch.ranks.subarray(0, eligible);
  const modelScores = scratch.modelScores.subarray(0, eligible);
  for (let c = 0, e = 0; c < size; c++) {
    if (out[c]) continue;
    indexes[e] = pool.items[c];
    sources[e] = pool.sources[c];
    ranks[e] = c;
    modelScores[e++] = pool.scores[c];
  }
  const pull = feedbackCorrection(catalog, state, pool);
  const lead = steerLead(catalog, state.steers);
  let scores = modelScores;
  let correction: Float32Array | undefined;
  if (pull || lead) {
    // The listener's order ("more by X", "something calmer") is not a hint the model may outvote: the items
    // that meet it lead (the spacing rules still apply).
    const span = lead ? scoreSpan(pool.scores) : 0;
    scores = scratch.scores.subarray(0, eligible);
    correction = scratch.correction.subarray(0, eligible);
    for (let e = 0; e < eligible; e++) {
      correction[e] = (pull ? pull[ranks[e]] : 0) + (lead?.(indexes[e]) ? span : 0);
      scores[e] = modelScores[e] + correction[e];
    }
  }
  const picks = selectSlate({
    catalog,
    config,
    profile: state.profile,
    history: state.history,
    candidates: { indexes, sources },
    scores,
    modelScores,
    ranks,
    correction,
    n,
    firstPos: state.nextPos,
    nowMs,
    rng: createRng(deriveSeed(state.seed ^ PICK_SALT, state.nextPos)),
    model: { id: pool.model, degraded: pool.degraded },
    pooled: { candidates: pool.candidates, decision: pool.decision },
    follow,
  });
  scratches.give(scratch);
  return picks;
}

/**
 * A pick's working arrays, kept between picks (`Spare`): seven typed arrays per pick, each with its own backing
 * store, were a good part of a pick's garbage. Each is written before it is read (`out` is cleared here).
 */
class PickScratch {
  out = new Uint8Array(0);
  indexes = new Int32Array(0);
  sources = new Int32Array(0);
  ranks = new Int32Array(0);
  modelScores = new Float32Array(0);
  scores = new Float32Array(0);
  correction = new Float32Array(0);

  prepare(size: number): this {
    if (this.out.length < size) {
      this.out = new Uint8Array(size);
      this.indexes = new Int32Array(size);
      this.sources = new Int32Array(size);
      this.ranks = new Int32Array(size);
      this.modelScores = new Float32Array(size);
      this.scores = new Float32Array(size);
      this.correction = new Float32Array(size);
    }
    this.out.fill(0, 0, size);
    return this;
  }
}

const scratches = new Spare(() => new PickScratch());
