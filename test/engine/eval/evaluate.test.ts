import { describe, expect, it } from 'vitest';
import { MarkovRecommender } from '../../../engine/baselines/markovRecommender.ts';
import { RandomRecommender } from '../../../engine/baselines/randomRecommender.ts';
import { SknnRecommender } from '../../../engine/baselines/sknnRecommender.ts';
import { VsknnRecommender } from '../../../engine/baselines/vsknnRecommender.ts';
import { createEngine } from '../../../engine/engine.ts';
import { evaluate, sampleTargets } from '../../../engine/eval/evaluate.ts';
import { splitSessions } from '../../../engine/eval/sessionSplit.ts';
import { sknnGrid, tuneOnValidation } from '../../../engine/eval/tuneOnValidation.ts';
import { TransitionIndex } from '../../../engine/retrieval/transitionIndex.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { syntheticWorld } from './fixture.ts';

const { catalog, sessions } = syntheticWorld(100);
const split = splitSessions(sessions, { seed: 5, validation: 0.1, test: 0.2 });

const METRICS = [
  'hr10',
  'hr20',
  'mrr10',
  'mrr20',
  'ndcg10',
  'ndcg20',
  'freshHr10',
  'freshHr20',
  'freshMrr10',
  'freshMrr20',
  'freshNdcg10',
  'freshNdcg20',
  'coverage',
  'ild',
  'artistRepeatRate',
  'repeats',
  'radioViolations',
  'simSkipRate',
  'simLength',
  'simLikes',
  'simRepeats',
  'simViolations',
];

async function run() {
  const engine = createEngine({
    catalog,
    scorer: createFallbackScorer(),
    transitions: TransitionIndex.fromSessions(catalog, split.train),
  });
  return evaluate({
    catalog,
    train: split.train,
    test: split.test,
    algorithms: [
      new RandomRecommender(1),
      new MarkovRecommender(),
      new SknnRecommender(),
      new VsknnRecommender(),
    ],
    engines: [{ name: 'ours', engine, profile: 'radio' }],
    options: { seed: 3, targetsPerSession: 5, listeners: 4, streamLength: 100 },
  });
}

describe('evaluate', () => {
  it('reports every metric for every algorithm, the same for the same seed', async () => {
    const a = await run();
    expect(a.map((r) => r.algorithm)).toEqual(['random', 'markov', 'sknn', 'vsknn', 'ours']);
    for (const r of a) {
      for (const m of METRICS)
        expect(Number.isFinite(r[m as keyof typeof r]), `${r.algorithm}.${m}`).toBe(true);
      expect(r.targets).toBe(split.test.length * 5);
    }
    expect(await run()).toEqual(a);
    const by = Object.fromEntries(a.map((r) => [r.algorithm, r]));
    // The synthetic sessions walk a genre in order: transitions and neighbours beat chance by far.
    expect(by.markov.freshHr10).toBeGreaterThan(by.random.freshHr10 + 0.3);
    expect(by.sknn.freshHr10).toBeGreaterThan(by.random.freshHr10 + 0.3);
    expect(by.ours.repeats).toBe(0);
    expect(by.ours.simRepeats).toBe(0);
    expect(by.ours.radioViolations).toBe(0);
    expect(by.ours.simViolations).toBe(0);
  });

  it('samples targets deterministically, in order, from position 1', () => {
    const t1 = sampleTargets(split.test, catalog, 5, 9);
    expect(sampleTargets(split.test, catalog, 5, 9)).toEqual(t1);
    expect(t1).toHaveLength(split.test.length * 5);
    for (const t of t1) expect(t.prefix.length).toBeGreaterThanOrEqual(1);
    const all = sampleTargets(split.test.slice(0, 1), catalog, 0, 9);
    expect(all).toHaveLength(split.test[0].items.length - 1);
    expect(all.map((t) => t.prefix.length)).toEqual(all.map((_, i) => i + 1));
  });

  it('tunes on validation and keeps the best trial', () => {
    const { bestConfig, trials } = tuneOnValidation(sknnGrid(), split.train, split.validation, catalog, {
      seed: 1,
      targetsPerSession: 5,
    });
    const best = trials.reduce((b, t) => (t.freshHr10 > b.freshHr10 ? t : b));
    expect(trials).toHaveLength(sknnGrid().length);
    expect(trials.find((t) => t.config === bestConfig)!.freshHr10).toBe(best.freshHr10);
  });
});
