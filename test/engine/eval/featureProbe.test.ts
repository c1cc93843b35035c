import { describe, expect, it } from 'vitest';
import { MarkovRecommender } from '../../../engine/baselines/markovRecommender.ts';
import { PopularityRecommender } from '../../../engine/baselines/popularityRecommender.ts';
import { createEngine } from '../../../engine/engine.ts';
import { probeSignals } from '../../../engine/eval/featureProbe.ts';
import { splitSessions } from '../../../engine/eval/sessionSplit.ts';
import { TransitionIndex } from '../../../engine/retrieval/transitionIndex.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { syntheticWorld } from './fixture.ts';

const { catalog, sessions } = syntheticWorld(100);
const split = splitSessions(sessions, { seed: 5, validation: 0.2, test: 0.1 });

describe('probeSignals', () => {
  it('blends a signal into the engine order, with the weight chosen on the other half', async () => {
    const engine = createEngine({
      catalog,
      scorer: createFallbackScorer(),
      transitions: TransitionIndex.empty(catalog),
    });
    const markov = new MarkovRecommender();
    const popularity = new PopularityRecommender();
    markov.fit(split.train);
    popularity.fit(split.train);
    const rows = await probeSignals({
      engine,
      profile: 'default',
      catalog,
      validation: split.validation,
      signals: [
        { name: 'markov', recommender: markov },
        { name: 'popularity', recommender: popularity },
      ],
      seed: 1,
      targetsPerSession: 5,
    });
    expect(rows.map((r) => `${r.signal}/${r.mode}`)).toEqual([
      'markov/rerank',
      'markov/retrieve',
      'popularity/rerank',
      'popularity/retrieve',
    ]);
    // The sessions walk a fixed order, which the fallback scorer without transitions cannot see but Markov
    // can: blending it in must help, and the signal alone is scored on the same targets.
    const [rerank, retrieve] = rows;
    expect(retrieve.weight).toBeGreaterThan(0);
    expect(retrieve.freshHr10).toBeGreaterThan(retrieve.baseHr10);
    expect(retrieve.signalHr10).toBeGreaterThan(retrieve.baseHr10);
    expect(rerank.baseHr10).toBe(retrieve.baseHr10);
    for (const r of rows) {
      // Weight 0 is in the grid, so the tuning half never loses; the report half is a fair check.
      for (const v of [r.freshHr10, r.freshMrr10, r.baseHr10, r.signalHr10]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
  });
});
