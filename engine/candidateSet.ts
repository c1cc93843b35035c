import type { EngineConfig } from './config.ts';
import type { SessionQuery } from './query.ts';
import { type Candidates, type RetrievalResources, transitionNeighbours } from './retrieval/retrieve.ts';

/**
 * A given candidate set (a logged decision's items and the sources that proposed them) with the retrieval
 * signals a decision at this point of the session would have given them: the transition strength and the
 * session-kNN vote, read from the same indexes and in the same way as `retrieve`, so its features are the
 * ones the live decision scored.
 *
 * @example
 * const candidates = candidateSet(resources, query, config, excluded, [12, 40], [1, 2]);
 * const features = assembleFeatures(catalog, query, candidates, state.nextPos);
 */
export function candidateSet(
  resources: RetrievalResources,
  query: SessionQuery,
  config: EngineConfig,
  excluded: (index: number) => boolean,
  indexes: readonly number[],
  sources: readonly number[],
): Candidates {
  const total = Math.min(config.candidates, resources.catalog.size);
  const near = transitionNeighbours(
    resources.transitions,
    query,
    Math.round(total * config.quotas.transition),
    excluded,
  );
  const strength = new Map(near.indexes.map((index, k) => [index, near.strengths[k]]));
  // The votes do not depend on how many best items are asked for.
  const knn = resources.sessions.score(query.positives, 1, resources.stanVotes !== false);
  return {
    indexes: indexes.slice(),
    sources: indexes.map((_, c) => sources[c] ?? 0),
    transition: indexes.map((index) => strength.get(index) ?? 0),
    sknn: indexes.map((index) => knn.vote(index)),
    stan: indexes.map((index) => knn.stan(index)),
  };
}
