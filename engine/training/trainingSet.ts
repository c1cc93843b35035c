import { FEATURE_COUNT } from '../../models/featureSchema.ts';
import type { Catalog } from '../catalog.ts';
import { DEFAULT_CONFIG, type EngineConfig } from '../config.ts';
import { assembleFeatures } from '../features.ts';
import { buildQuery, createDirections } from '../query.ts';
import { exclusions } from '../retrieval/exclusions.ts';
import { buildExplorePool, type RetrievalResources, retrieve, SOURCE_BIT } from '../retrieval/retrieve.ts';
import type { SessionKnnIndex } from '../retrieval/sessionKnnIndex.ts';
import type { TransitionIndex } from '../retrieval/transitionIndex.ts';
import type { VectorIndex } from '../retrieval/vectorIndex.ts';
import { createRng, deriveSeed, hashString } from '../rng.ts';
import type { SequenceIndex } from '../sequenceIndex.ts';
import type { HistoryEntry, Outcome } from '../session.ts';
import { initialState } from '../sessionUpdate.ts';

/** A logged session as the trainer reads it (the sessions JSONL format). */
export interface LoggedSequence {
  id: string;
  items: readonly { id: string; outcome?: Outcome; playedMs?: number }[];
}

export interface TrainingSet {
  X: Float32Array;
  y: Float32Array;
  weights: Float32Array;
  /** Decision each row belongs to (rows of one decision share a group), for ranking metrics. */
  groups: Int32Array;
  n: number;
  stats: {
    sessions: number;
    steps: number;
    stepsWithTarget: number;
    targetRecall: number;
    positives: number;
    negativesPerStep: number;
    negativeWeight: number;
    likedWeight: number;
    liked: number;
  };
}

export interface TrainingSetOptions {
  seed: number;
  /** Sampled retrieved candidates per step, labelled 0. */
  negatives?: number;
  /**
   * Weight of a sampled (never played) negative against a logged outcome. Default: 0.2 when the log has
   * skips or dislikes (logged outcomes then carry the signal), 1 when every play is a plain positive.
   */
  negativeWeight?: number;
  /**
   * Weight of a logged like against a plain completion (both are labelled 1). A completion says the item was
   * good enough; a like says it was among the best, which is what a listener's likes reward. Default 1.
   */
  likedWeight?: number;
  /**
   * Extra negatives per step drawn from the step's hardest candidates: the `hardPool` the neighbour
   * sessions and transitions rate best (what the served ranking has to beat in its top 10). Default 0.
   */
  hardNegatives?: number;
  /** How many of the best-rated candidates the hard negatives come from; default 50. */
  hardPool?: number;
  /** Candidates retrieved per step; more than serving uses, so more logged plays fall inside. */
  candidates?: number;
  /**
   * Steps per session that yield examples, a seeded sample of its positions (the others only advance the
   * replayed state). Neighbouring steps of a long playlist share most of their context, so a sample teaches
   * nearly what every step does at a fraction of the retrieval cost. Default 64; 0 = every step.
   */
  maxStepsPerSession?: number;
  /** Stop after this many rows (memory bound for very large logs). */
  maxRows?: number;
  config?: Partial<EngineConfig>;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Turns logged sessions into ranker examples through the engine's own path: for every step the session is
 * replayed into an engine state, the real query is built, the real retrieval runs, and features come from
 * `assembleFeatures`. The logged item is the labelled example (1 if completed or liked, 0 if skipped early or
 * disliked); sampled retrieved candidates are negatives. Steps whose logged item retrieval did not find are
 * left out, so every row looks like a row the ranker sees when serving.
 */
export function buildTrainingSet(
  catalog: Catalog,
  vectors: VectorIndex,
  transitions: TransitionIndex,
  neighbours: SessionKnnIndex,
  sequences: SequenceIndex,
  sessions: readonly LoggedSequence[],
  options: TrainingSetOptions,
): TrainingSet {
  const config: EngineConfig = {
    ...DEFAULT_CONFIG,
    ...options.config,
    candidates: options.candidates ?? 1500,
  };
  const hasOutcomes = sessions.some((s) =>
    s.items.some((p) => p.outcome === 'skipped' || p.outcome === 'disliked'),
  );
  // Logs with skips teach by their own outcomes; logs of plain plays need sampled negatives to contrast with.
  const negatives = options.negatives ?? (hasOutcomes ? 0 : 16);
  const negativeWeight = options.negativeWeight ?? 1;
  const likedWeight = options.likedWeight ?? 1;
  const hardNegatives = options.hardNegatives ?? 0;
  const hardPool = options.hardPool ?? 50;
  if (!(likedWeight > 0 && Number.isFinite(likedWeight)))
    throw new RangeError(`likedWeight must be a positive number, got ${likedWeight}`);
  let liked = 0;
  const maxRows = options.maxRows ?? 2_000_000;
  const maxSteps = options.maxStepsPerSession ?? DEFAULT_STEPS_PER_SESSION;
  const resources: RetrievalResources = {
    catalog,
    vectors,
    transitions,
    sessions: neighbours,
    explorePool: buildExplorePool(catalog, Math.min(config.explorePool, catalog.size)),
  };
  const directions = createDirections(catalog);
  const X: number[] = [];
  const y: number[] = [];
  const w: number[] = [];
  const groups: number[] = [];
  let steps = 0;
  let stepsWithTarget = 0;
  let positives = 0;
  let group = 0;

  sessions.forEach((session, s) => {
    options.onProgress?.(s, sessions.length);
    if (y.length >= maxRows) return;
    let state = initialState(hashString(session.id), {}, 'default');
    let clock = 0;
    const sampled = sampleSteps(
      session.items.length,
      maxSteps,
      deriveSeed(options.seed, hashString(session.id)),
    );
    session.items.forEach((play, t) => {
      const target = catalog.indexOf(play.id);
      if (target === undefined) return;
      const label = labelOf(play.outcome, play.playedMs);
      if (state.history.length > 0 && label !== undefined && (!sampled || sampled.has(t))) {
        steps++;
        const rng = createRng(deriveSeed(state.seed, steps));
        const query = buildQuery(state, catalog, directions);
        const candidates = retrieve(resources, query, config, exclusions(state, catalog), rng);
        let at = candidates.indexes.indexOf(target);
        if (at < 0 && hasOutcomes) {
          // With logged outcomes, a play retrieval missed still teaches what the listener makes of an item:
          // it joins as if the exploration pool had offered it, with its real transition strength.
          at = candidates.indexes.length;
          candidates.indexes.push(target);
          candidates.sources.push(SOURCE_BIT.explore);
          candidates.transition.push(transitionStrength(transitions, query.recentPositives, target));
          const knn = neighbours.score(query.positives, 1);
          candidates.sknn.push(knn.vote(target));
          candidates.stan?.push(knn.stan(target));
        } else if (at >= 0) {
          stepsWithTarget++;
        }
        if (at >= 0) {
          // The logged item plus a seeded sample of the other retrieved candidates.
          const rows = [at];
          for (let k = 0; k < negatives && candidates.indexes.length > 1; k++) {
            const c = rng.int(candidates.indexes.length);
            if (c !== at) rows.push(c);
          }
          if (hardNegatives > 0) {
            const hard = hardest(candidates, hardPool);
            for (let k = 0; k < hardNegatives && hard.length > 1; k++) {
              const c = hard[rng.int(hard.length)];
              if (c !== at) rows.push(c);
            }
          }
          const picked = {
            indexes: rows.map((c) => candidates.indexes[c]),
            sources: rows.map((c) => candidates.sources[c]),
            transition: rows.map((c) => candidates.transition[c]),
            sknn: rows.map((c) => candidates.sknn[c]),
            stan: rows.map((c) => candidates.stan?.[c] ?? 0),
          };
          const features = assembleFeatures(catalog, query, picked, state.nextPos, sequences);
          for (let r = 0; r < rows.length; r++) {
            for (let f = 0; f < FEATURE_COUNT; f++) X.push(features[r * FEATURE_COUNT + f]);
            const isTarget = r === 0;
            y.push(isTarget ? label : 0);
            // A logged outcome is strong evidence; an unplayed candidate is weak evidence.
            const isLike = isTarget && play.outcome === 'liked';
            if (isLike) liked++;
            w.push(isTarget ? (isLike ? likedWeight : 1) : negativeWeight);
            groups.push(group);
            if (isTarget && label === 1) positives++;
          }
          group++;
        }
      }
      const item = catalog.items[target];
      const entry: HistoryEntry = {
        pos: state.nextPos,
        id: item.id,
        artist: item.artist,
        album: item.album,
        startMs: clock,
        durationMs: item.durationMs,
        outcome: play.outcome ?? 'completed',
        playedMs: play.playedMs,
        liked: play.outcome === 'liked',
        started: true,
      };
      clock += play.outcome === 'skipped' ? (play.playedMs ?? 0) : item.durationMs;
      const history = [...state.history, entry];
      state = {
        ...state,
        nextPos: state.nextPos + 1,
        history: history.length > config.historyWindow ? history.slice(-config.historyWindow) : history,
      };
    });
  });
  options.onProgress?.(sessions.length, sessions.length);
  return {
    X: Float32Array.from(X),
    y: Float32Array.from(y),
    weights: Float32Array.from(w),
    groups: Int32Array.from(groups),
    n: y.length,
    stats: {
      sessions: sessions.length,
      steps,
      stepsWithTarget,
      targetRecall: steps > 0 ? stepsWithTarget / steps : 0,
      positives,
      negativesPerStep: negatives,
      negativeWeight,
      likedWeight,
      liked,
    },
  };
}

export const DEFAULT_STEPS_PER_SESSION = 64;

/** A seeded sample of `max` of the positions 1..length-1 (undefined: take them all). */
function sampleSteps(length: number, max: number, seed: number): Set<number> | undefined {
  if (max <= 0 || length - 1 <= max) return undefined;
  const positions = Array.from({ length: length - 1 }, (_, i) => i + 1);
  const rng = createRng(seed);
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(positions.length - i);
    [positions[i], positions[j]] = [positions[j], positions[i]];
  }
  return new Set(positions.slice(0, max));
}

/** The `pool` candidates (positions) the session-kNN vote and the transition strength rate best. */
function hardest(candidates: { sknn: number[]; transition: number[] }, pool: number): number[] {
  const rated = candidates.sknn.map((v, c) => ({ c, v: v + candidates.transition[c] }));
  rated.sort((a, b) => b.v - a.v || a.c - b.c);
  return rated.slice(0, pool).map((r) => r.c);
}

/** How strongly the recent positives lead to `target` through the transition memory, as retrieval scores it. */
function transitionStrength(transitions: TransitionIndex, seeds: readonly number[], target: number): number {
  let best = 0;
  seeds.slice(0, 3).forEach((seed, rank) => {
    const { targets, weights } = transitions.neighbours(seed);
    for (let k = 0; k < targets.length; k++) {
      if (targets[k] === target) best = Math.max(best, weights[k] / (1 + rank));
    }
  });
  return best;
}

/** 1 for a play the listener wanted, 0 for one they turned away from, undefined when it says nothing. */
function labelOf(outcome: Outcome | undefined, playedMs: number | undefined): number | undefined {
  switch (outcome) {
    case undefined:
    case 'completed':
    case 'liked':
      return 1;
    case 'disliked':
      return 0;
    case 'skipped':
      return (playedMs ?? 0) < 30_000 ? 0 : undefined;
  }
}
