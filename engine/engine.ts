import { createFallbackScorer } from '../models/fallbackScorer.ts';
import { FEATURE_COUNT, FEATURE_INDEX } from '../models/featureSchema.ts';
import type { Scorer } from '../models/scorer.ts';
import { candidateSet } from './candidateSet.ts';
import type { Catalog } from './catalog.ts';
import { DEFAULT_CONFIG, type EngineConfig } from './config.ts';
import { engineError } from './errors.ts';
import { assembleFeatures } from './features.ts';
import { resolveIntent } from './intent.ts';
import type { Pick } from './pick.ts';
import { pickFromPool } from './pickFromPool.ts';
import type { SlotChoices } from './policy/slatePolicy.ts';
import { steerLead } from './policy/steerLead.ts';
import { buildPool, type PoolNeed, poolNeed, type ScoredPool } from './pool.ts';
import { buildQuery, createDirections, type SessionQuery } from './query.ts';
import { exclusions } from './retrieval/exclusions.ts';
import {
  buildExplorePool,
  type Candidates,
  type RetrievalResources,
  retrieve,
  SOURCE_BIT,
} from './retrieval/retrieve.ts';
import { SessionKnnIndex } from './retrieval/sessionKnnIndex.ts';
import { TransitionIndex } from './retrieval/transitionIndex.ts';
import { createVectorIndex, type VectorIndex } from './retrieval/vectorIndex.ts';
import { createRng, deriveSeed } from './rng.ts';
import { SequenceIndex } from './sequenceIndex.ts';
import {
  type Feedback,
  type Intent,
  PROFILES,
  type Profile,
  type SessionState,
  type Steer,
} from './session.ts';
import { appendPicks, applyFeedback, applySteer, initialState } from './sessionUpdate.ts';

export type { SlotChoices } from './policy/slatePolicy.ts';
export type { PoolNeed, ScoredPool } from './pool.ts';

/**
 * The pure engine: given a session's state, a clock reading and the state's seed, it returns the next
 * picks and why. It holds the catalog, the retrieval indexes and the model; it keeps no per-session state.
 *
 * A decision (`score`) retrieves and scores a pool of candidates in one batched model call; each pick is
 * chosen from the pool when it is handed out (`pick`), against the session as it is at that moment, so a
 * skip, a dislike or a steer changes the very next pick. `next` does both at once.
 *
 * @example
 * let state = engine.start({ seed: 7, intent: { tag: 'jazz' } });
 * let { state: scored, pool } = await engine.score(state, { nowMs });
 * const first = engine.pick(scored, pool, { n: 1, nowMs });
 * state = engine.feedback(first.state, { type: 'disliked', pos: 0 }, nowMs).state;
 * if (engine.poolNeed(state, pool) !== 'fresh') ({ state, pool } = await engine.score(state, { nowMs }));
 * const second = engine.pick(state, pool, { n: 1, nowMs }); // decided with the dislike
 */
export interface Engine {
  readonly catalog: Catalog;
  /** The model id used for scoring (`fallback` when degraded). */
  readonly modelId: string;
  /** A new session. `seed` makes the whole session reproducible. */
  start(options: { seed: number; intent?: Intent; profile?: Profile }): SessionState;
  /**
   * A decision: retrieves candidates for the session as it stands and scores them with the model (one
   * batched call), keeping the best as a pool for the picks that follow. The returned state counts it.
   */
  score(state: SessionState, options: { nowMs: number }): Promise<{ state: SessionState; pool: ScoredPool }>;
  /**
   * Picks the next `n` items (1..100) from `pool` against the state as it is now (rules, diversity, and a
   * correction for feedback since the pool was scored). The returned state holds them in its history as
   * queued (no outcome yet). Fewer than `n` when the pool has nothing more the rules allow.
   */
  pick(state: SessionState, pool: ScoredPool, options: { n: number; nowMs: number }): Picked;
  /**
   * Scores a given candidate set (catalog indexes, with the retrieval `sources` that proposed them) with this
   * engine's model, with the features a decision at `state` would give them, in one batched call; no
   * retrieval, and the state is not counted. For replaying a logged decision's candidates with another model.
   * `scores` is aligned with `items`; `pool` is what a decision would keep of them (best first, steering's
   * items ahead), numbered as a decision at `state`.
   *
   * @example
   * const logged = fromLoggedPool(entry.pool, engine.catalog);
   * const { pool } = await other.scoreCandidates(state, logged.items, { nowMs, sources: logged.sources });
   */
  scoreCandidates(
    state: SessionState,
    items: readonly number[],
    options: { nowMs: number; sources?: readonly number[] },
  ): Promise<{ scores: Float32Array; pool: ScoredPool }>;
  /**
   * The slate policy's chances, slot by slot, for a delivery that took `items` (catalog indexes) from `pool`
   * at `state`: what each slot could pick and how likely (`SlotChoices`, exploration included), given that the
   * earlier slots took the items given. For off-policy evaluation: the chance of `items[k]` is its entry in
   * slot k, 0 when absent. Shorter than `items` when one is not in the pool (or the rules refuse it).
   *
   * @example
   * const slots = engine.slotChoices(state, pool, { items: [pool.items[0]], nowMs });
   * const p = slots[0].p[slots[0].items.indexOf(pool.items[0])] ?? 0;
   */
  slotChoices(
    state: SessionState,
    pool: ScoredPool,
    options: { items: readonly number[]; nowMs: number },
  ): SlotChoices[];
  /** Whether `pool` can serve the next pick: `stale` must be scored again first, `due` wants a refresh soon. */
  poolNeed(state: SessionState, pool: ScoredPool | null): PoolNeed;
  /** A decision and its first `n` picks at once (`score` then `pick`), for tools that pick one batch at a time. */
  next(state: SessionState, options: { n: number; nowMs: number }): Promise<Picked>;
  /**
   * Records feedback on a picked position. Queued picks (no outcome yet) that conflict with a negative
   * are withdrawn from the history and returned, so the caller can replace them and tell the client.
   * Throws ENGINE_UNKNOWN_POSITION for a position never picked.
   */
  feedback(
    state: SessionState,
    feedback: Feedback,
    nowMs: number,
  ): { state: SessionState; withdrawn: number[] };
  /** Applies steering; like `feedback`, withdraws queued picks that no longer fit. */
  steer(state: SessionState, steer: Steer, nowMs: number): { state: SessionState; withdrawn: number[] };
}

export interface Picked {
  state: SessionState;
  picks: Pick[];
}

/** What an engine is made of. Build the indexes once per catalog and share the engine across sessions. */
export interface EngineResources {
  catalog: Catalog;
  scorer: Scorer;
  /** Used when `scorer` throws or returns non-finite scores; those picks are marked degraded. */
  fallback?: Scorer;
  transitions?: TransitionIndex;
  /** Logged sessions for session-kNN retrieval and its feature (none: that source stays empty). */
  sessions?: SessionKnnIndex;
  /** Order-aware memory of logged sessions for the sequence features (none: those columns are 0). */
  sequences?: SequenceIndex;
  vectors?: VectorIndex;
  config?: Partial<EngineConfig>;
}

export const MAX_PICKS_PER_DECISION = 100;

/** Candidates a decision scores at least (walking the catalog when retrieval offers fewer), catalog allowing. */
const MIN_POOL = 60;

export function createEngine(resources: EngineResources): Engine {
  const { catalog } = resources;
  const config: EngineConfig = { ...DEFAULT_CONFIG, ...resources.config };
  const fallback = resources.fallback ?? createFallbackScorer();
  const retrieval: RetrievalResources = {
    catalog,
    vectors: resources.vectors ?? createVectorIndex(catalog),
    transitions: resources.transitions ?? TransitionIndex.empty(catalog),
    sessions: resources.sessions ?? SessionKnnIndex.empty(catalog),
    explorePool: buildExplorePool(catalog, Math.min(config.explorePool, catalog.size)),
    stanVotes: (resources.scorer.columns ?? FEATURE_COUNT) > FEATURE_INDEX.stan,
  };
  const directions = createDirections(catalog);
  const sequences = resources.sequences ?? SequenceIndex.empty(catalog);

  async function score(
    features: Float32Array,
    count: number,
  ): Promise<{ scores: Float32Array; scorer: Scorer }> {
    try {
      const scores = await resources.scorer.score(features, count);
      if (scores.length >= count && scores.subarray(0, count).every(Number.isFinite)) {
        return { scores, scorer: resources.scorer };
      }
    } catch {
      // The stream never stops for a broken model: the fallback scores this decision, marked degraded.
    }
    return { scores: await fallback.score(features, count), scorer: fallback };
  }

  async function decide(state: SessionState, _options: { nowMs: number }) {
    assertState(state);
    const rng = createRng(deriveSeed(state.seed, state.decisions));
    const query = buildQuery(state, catalog, directions);
    const excluded = exclusions(state, catalog);
    let candidates = retrieve(retrieval, query, config, excluded, rng);
    if (candidates.indexes.length < MIN_POOL) candidates = widen(candidates, catalog, excluded, MIN_POOL);
    const { pool } = await scoreInto(state, query, candidates);
    return { state: { ...state, decisions: state.decisions + 1 }, pool };
  }

  /** Features, one batched model call, and the pool a decision keeps: shared by `score` and `scoreCandidates`. */
  async function scoreInto(state: SessionState, query: SessionQuery, candidates: Candidates) {
    const count = candidates.indexes.length;
    const features = assembleFeatures(catalog, query, candidates, state.nextPos, sequences);
    const { scores, scorer } =
      count > 0 ? await score(features, count) : { scores: new Float32Array(0), scorer: resources.scorer };
    const lead = steerLead(catalog, state.steers);
    const model = { id: scorer.id, degraded: scorer.degraded };
    return {
      scores: scores.subarray(0, count),
      pool: buildPool(state, candidates, scores, config, model, lead),
    };
  }

  function pickNow(state: SessionState, pool: ScoredPool, n: number, nowMs: number): Picked {
    const picks = pickFromPool(catalog, config, state, pool, n, nowMs);
    return { state: appendPicks(state, picks, config), picks };
  }

  return {
    catalog,
    modelId: resources.scorer.id,

    start({ seed, intent = {}, profile = 'default' }) {
      if (!Number.isInteger(seed))
        throw engineError('ENGINE_INVALID_REQUEST', 'The session seed must be an integer.');
      if (!PROFILES.includes(profile)) {
        throw engineError(
          'ENGINE_INVALID_REQUEST',
          `Unknown profile "${profile}"; use one of ${PROFILES.join(', ')}.`,
        );
      }
      return initialState(seed, resolveIntent(intent, catalog), profile);
    },

    score: decide,

    async scoreCandidates(state, items, { sources = [] }) {
      assertState(state);
      for (const i of items) {
        if (!Number.isInteger(i) || i < 0 || i >= catalog.size)
          throw engineError('ENGINE_UNKNOWN_ITEM', `Candidate ${i} is not an item of this catalog.`);
      }
      const query = buildQuery(state, catalog, directions);
      const excluded = exclusions(state, catalog);
      return scoreInto(state, query, candidateSet(retrieval, query, config, excluded, items, sources));
    },

    slotChoices(state, pool, { items, nowMs }) {
      assertState(state);
      const slots: SlotChoices[] = [];
      if (items.length === 0) return slots;
      const onSlot = (_slot: number, choices: SlotChoices) => slots.push(choices);
      pickFromPool(catalog, config, state, pool, items.length, nowMs, { items, onSlot });
      return slots;
    },

    pick(state, pool, { n, nowMs }) {
      assertState(state);
      assertCount(n);
      return pickNow(state, pool, n, nowMs);
    },

    poolNeed(state, pool) {
      return poolNeed(state, pool, config);
    },

    async next(state, { n, nowMs }) {
      assertCount(n);
      const scored = await decide(state, { nowMs });
      return pickNow(scored.state, scored.pool, n, nowMs);
    },

    feedback(state, feedback, nowMs) {
      assertState(state);
      return applyFeedback(state, feedback, config, nowMs);
    },

    steer(state, steer, nowMs) {
      assertState(state);
      return applySteer(state, steer, catalog, config, nowMs);
    },
  };
}

/**
 * When the sources together cannot offer enough (a small catalog, a long session, a narrow steer), walk the
 * catalog in order for allowed items, so the policy still fills the request while the catalog allows.
 */
function widen(
  candidates: Candidates,
  catalog: Catalog,
  excluded: (i: number) => boolean,
  want: number,
): Candidates {
  const have = new Set(candidates.indexes);
  const out: Required<Candidates> = {
    indexes: candidates.indexes.slice(),
    sources: candidates.sources.slice(),
    transition: candidates.transition.slice(),
    sknn: candidates.sknn.slice(),
    stan: candidates.stan?.slice() ?? candidates.indexes.map(() => 0),
  };
  for (let i = 0; i < catalog.size && out.indexes.length < want; i++) {
    if (have.has(i) || excluded(i)) continue;
    out.indexes.push(i);
    out.sources.push(SOURCE_BIT.explore);
    out.transition.push(0);
    out.sknn.push(0);
    out.stan.push(0);
  }
  return out;
}

function assertCount(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PICKS_PER_DECISION) {
    throw engineError(
      'ENGINE_INVALID_REQUEST',
      `n must be an integer from 1 to ${MAX_PICKS_PER_DECISION} (got ${n}).`,
    );
  }
}

function assertState(state: SessionState): void {
  if (state === null || typeof state !== 'object' || state.v !== 1 || !Array.isArray(state.history)) {
    throw engineError(
      'ENGINE_INVALID_STATE',
      'This session state is not a version-1 engine state; start a new session.',
    );
  }
}
