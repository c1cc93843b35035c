import type { EngineConfig } from './config.ts';
import type { Candidates } from './retrieval/retrieve.ts';
import type { SessionState, Steer } from './session.ts';

/**
 * A decision's scored candidates, kept between picks: retrieval and one batched model call make it, and
 * every pick is chosen from it when it is handed out, against the session as it is at that moment (see
 * `pickFromPool`). Plain JSON, best model score first, bounded by `EngineConfig.poolKeep`.
 */
export interface ScoredPool {
  /** The decision that scored it (its retrieval used the seed derived from (session seed, decision)). */
  decision: number;
  /** The session's next position when it was scored: picks at or after it came from this pool. */
  fromPos: number;
  /** The session's signal count when it was scored: outcomes marked later correct its scores. */
  signal: number;
  /** The steering it was scored for (`steerKey`): other steering makes it stale. */
  steer: string;
  /** Catalog indexes, best model score first (the items the listener's steering orders before all: `steerLead`). */
  items: number[];
  /** Model scores, aligned with `items`. */
  scores: number[];
  /** Retrieval source bits (`SOURCE_BIT`), aligned with `items`. */
  sources: number[];
  /** How many candidates were retrieved and scored (more than `items` keeps). */
  candidates: number;
  model: string;
  degraded: boolean;
}

/** What a pool is worth now: `stale` must be scored again before a pick; `due` serves, but wants a refresh. */
export type PoolNeed = 'fresh' | 'due' | 'stale';

/** A signal at least this strong (|strength|) since scoring makes the pool due: the query has moved. */
export const STRONG_SIGNAL = 0.6;

/**
 * The top `config.poolKeep` candidates by score, as a pool; candidates `lead` names (the items the
 * listener's steering orders, `steerLead`) are kept whatever their score, ahead of the rest.
 */
export function buildPool(
  state: SessionState,
  candidates: Candidates,
  scores: Float32Array,
  config: EngineConfig,
  model: { id: string; degraded: boolean },
  lead?: (index: number) => boolean,
): ScoredPool {
  const count = candidates.indexes.length;
  const order: number[] = [];
  for (let c = 0; c < count; c++) order.push(c);
  const first = new Uint8Array(count);
  if (lead) for (let c = 0; c < count; c++) first[c] = lead(candidates.indexes[c]) ? 1 : 0;
  // Ties keep retrieval order, so a pool does not depend on the sort's stability.
  order.sort((a, b) => first[b] - first[a] || scores[b] - scores[a] || a - b);
  const keep = order.slice(0, Math.min(count, config.poolKeep));
  return {
    decision: state.decisions,
    fromPos: state.nextPos,
    signal: state.signals ?? 0,
    steer: steerKey(state.steers),
    items: keep.map((c) => candidates.indexes[c]),
    scores: keep.map((c) => scores[c]),
    sources: keep.map((c) => candidates.sources[c]),
    candidates: count,
    model: model.id,
    degraded: model.degraded,
  };
}

/** The steering a pool was scored for, as a short comparable key. */
export function steerKey(steers: readonly { steer: Steer }[]): string {
  let key = '';
  for (const { steer } of steers) key += `${JSON.stringify(steer)};`;
  return key;
}

/**
 * Whether the pool can serve the next pick: none, or scored for other steering, is `stale`; after
 * `config.poolPicks` picks from it or a strong signal since it was scored, it is `due` for a refresh (picks
 * still come from it, corrected, until the refresh lands).
 */
export function poolNeed(state: SessionState, pool: ScoredPool | null, config: EngineConfig): PoolNeed {
  if (pool === null || pool.steer !== steerKey(state.steers)) return 'stale';
  if (state.nextPos - pool.fromPos >= config.poolPicks) return 'due';
  if ((state.signals ?? 0) === pool.signal) return 'fresh';
  for (let h = state.history.length - 1; h >= 0; h--) {
    const entry = state.history[h];
    if ((entry.mark ?? 0) <= pool.signal) continue;
    if (Math.abs(signalStrength(entry)) >= STRONG_SIGNAL) return 'due';
  }
  return 'fresh';
}

/**
 * How much an outcome says for or against the item's neighbourhood, in [-1.2, 1]: a like +1, a full listen a
 * little (the model expected it), skips graded by how early they came, a dislike most of all.
 */
export function signalStrength(entry: {
  outcome?: string;
  liked?: boolean;
  playedMs?: number;
  durationMs: number;
}): number {
  if (entry.outcome === 'disliked') return -1.2;
  if (entry.liked || entry.outcome === 'liked') return 1;
  if (entry.outcome === 'completed') return 0.15;
  if (entry.outcome === 'skipped') {
    const played = entry.playedMs ?? 0;
    if (played < 5_000) return -1;
    if (played < 30_000) return -0.7;
    if (played < entry.durationMs / 2) return -0.3;
    return 0;
  }
  return 0;
}

/** The spread of a pool's scores (1 when they are all equal): the unit of its corrections. */
export function scoreSpan(scores: readonly number[]): number {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  return hi - lo || 1;
}
