import { createFallbackScorer } from '../models/fallbackScorer.ts';
import type { Scorer } from '../models/scorer.ts';
import type { Catalog } from './catalog.ts';
import { DEFAULT_CONFIG, type EngineConfig } from './config.ts';
import { engineError } from './errors.ts';
import { assembleFeatures } from './features.ts';
import { resolveIntent } from './intent.ts';
import type { Pick } from './pick.ts';
import { selectSlate } from './policy/slatePolicy.ts';
import { buildQuery, createDirections } from './query.ts';
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
import {
  type Feedback,
  type Intent,
  PROFILES,
  type Profile,
  type SessionState,
  type Steer,
} from './session.ts';
import { appendPicks, applyFeedback, applySteer, initialState } from './sessionUpdate.ts';

/**
 * The pure engine: given a session's state, a clock reading and the state's seed, it returns the next
 * picks and why. It holds the catalog, the retrieval indexes and the model; it keeps no per-session state.
 */
export interface Engine {
  readonly catalog: Catalog;
  /** The model id used for scoring (`fallback` when degraded). */
  readonly modelId: string;
  /** A new session. `seed` makes the whole session reproducible. */
  start(options: { seed: number; intent?: Intent; profile?: Profile }): SessionState;
  /**
   * Picks the next `n` items (1..100). The returned state holds them in its history as queued
   * (no outcome yet). Fewer than `n` only when the catalog has nothing left that the rules allow.
   */
  next(
    state: SessionState,
    options: { n: number; nowMs: number },
  ): Promise<{ state: SessionState; picks: Pick[] }>;
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
  /**
   * The state `next` returned along with `picks`: restores a logged decision without running the model
   * again (a session rebuilt from its snapshot and log).
   */
  record(state: SessionState, picks: readonly Pick[]): SessionState;
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
  vectors?: VectorIndex;
  config?: Partial<EngineConfig>;
}

export const MAX_PICKS_PER_DECISION = 100;

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
  };
  const directions = createDirections(catalog);

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

    async next(state, { n, nowMs }) {
      assertState(state);
      if (!Number.isInteger(n) || n < 1 || n > MAX_PICKS_PER_DECISION) {
        throw engineError(
          'ENGINE_INVALID_REQUEST',
          `n must be an integer from 1 to ${MAX_PICKS_PER_DECISION} (got ${n}).`,
        );
      }
      const rng = createRng(deriveSeed(state.seed, state.decisions));
      const query = buildQuery(state, catalog, directions);
      const excluded = exclusions(state, catalog);
      let candidates = retrieve(retrieval, query, config, excluded, rng);
      if (candidates.indexes.length < n * 3) candidates = widen(candidates, catalog, excluded, n * 3);
      if (candidates.indexes.length === 0) return { state: appendPicks(state, [], config), picks: [] };

      const count = candidates.indexes.length;
      const features = assembleFeatures(catalog, query, candidates, state.nextPos);
      const { scores, scorer } = await score(features, count);
      const picks = selectSlate({
        catalog,
        config,
        profile: state.profile,
        history: state.history,
        candidates,
        scores,
        n,
        firstPos: state.nextPos,
        nowMs,
        rng,
        model: { id: scorer.id, degraded: scorer.degraded },
      });
      return { state: appendPicks(state, picks, config), picks };
    },

    feedback(state, feedback, nowMs) {
      assertState(state);
      return applyFeedback(state, feedback, config, nowMs);
    },

    steer(state, steer, nowMs) {
      assertState(state);
      return applySteer(state, steer, catalog, config, nowMs);
    },

    record(state, picks) {
      assertState(state);
      return appendPicks(state, picks, config);
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
  const out: Candidates = {
    indexes: candidates.indexes.slice(),
    sources: candidates.sources.slice(),
    transition: candidates.transition.slice(),
    sknn: candidates.sknn.slice(),
  };
  for (let i = 0; i < catalog.size && out.indexes.length < want; i++) {
    if (have.has(i) || excluded(i)) continue;
    out.indexes.push(i);
    out.sources.push(SOURCE_BIT.explore);
    out.transition.push(0);
    out.sknn.push(0);
  }
  return out;
}

function assertState(state: SessionState): void {
  if (state === null || typeof state !== 'object' || state.v !== 1 || !Array.isArray(state.history)) {
    throw engineError(
      'ENGINE_INVALID_STATE',
      'This session state is not a version-1 engine state; start a new session.',
    );
  }
}
