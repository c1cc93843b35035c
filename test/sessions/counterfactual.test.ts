import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../engine/engine.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import type { Scorer } from '../../models/scorer.ts';
import { counterfactual } from '../../sessions/counterfactual.ts';
import { toOpenBanditRows } from '../../sessions/replayExport.ts';
import { openManagers } from './managerFixtures.ts';
import { catalog, engine, livedSession } from './replayFixtures.ts';

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

const inverse: Scorer = {
  id: 'inverse',
  degraded: false,
  score: async (features, count) => (await createFallbackScorer().score(features, count)).map((s) => -s),
};

describe('counterfactual', () => {
  it('the logging policy evaluated on its own log: its chances are the logged ones, IPS = SNIPS = the observed mean', async () => {
    const { events } = await livedSession();
    for (const rescore of [false, true]) {
      const report = await counterfactual([events], engine, engine, { rescore });
      expect(report.loggedMismatches).toBe(0);
      expect(report.perSlot.every((s) => s.pTarget === s.pLogged)).toBe(true);
      const rows = (await toOpenBanditRows(events, { earlySkipMs: Infinity })).filter(
        (r) => r.reward !== null,
      );
      expect(report.rewarded).toBe(rows.length);
      expect(report.rewarded).toBeGreaterThanOrEqual(4);
      const mean = rows.reduce((a, r) => a + r.reward!, 0) / rows.length;
      const { estimates } = report;
      expect(estimates.observed.value).toBeCloseTo(mean, 12);
      expect(estimates.ips.value).toBeCloseTo(mean, 12);
      expect(estimates.snips.value).toBeCloseTo(mean, 12);
      // DR differs by the mean of Σₐ π(a) r̂(a) − r̂(logged): not 0 per round, small on average.
      expect(Math.abs(estimates.dr.value - mean)).toBeLessThan(0.05);
      expect(estimates.effectiveSampleSize).toBeCloseTo(rows.length, 9);
      expect(report.unsupportedMass).toBe(0);
    }
  });

  it('a policy config with more exploration: each slot gets the chance the new ε gives it', async () => {
    const { events } = await livedSession();
    const explorer = createEngine({ catalog, scorer: createFallbackScorer(), config: { exploration: 0.5 } });
    const report = await counterfactual([events], engine, explorer, { rescore: false });
    const greedy = report.perSlot.filter((s) => s.pLogged === 0.95);
    expect(greedy.length).toBeGreaterThan(5);
    // Same scores and ranking: the greedy pick stays greedy, now with 1 − 0.5.
    for (const s of greedy) expect(s.pTarget).toBeCloseTo(0.5, 12);
    for (const s of report.perSlot.filter((x) => x.pLogged === 1)) expect(s.pTarget).toBe(1);
    // Weights 0.5/0.95 on greedy rounds: SNIPS stays a mean of rewards, IPS shrinks.
    expect(report.estimates.snips.value).toBeGreaterThanOrEqual(0);
    expect(report.estimates.snips.value).toBeLessThanOrEqual(1);
    expect(report.estimates.ips.value).toBeLessThan(report.estimates.observed.value + 1e-12);
  });

  it('another model: slots it would not pick weigh 0, the ESS drops, DR still answers', async () => {
    const { events } = await livedSession();
    const other = createEngine({ catalog, scorer: inverse });
    for (const rewardModel of ['score', 'item-mean'] as const) {
      const report = await counterfactual([events], engine, other, { rewardModel });
      expect(report.target).toEqual({ model: 'inverse', rescored: true });
      expect(report.estimates.zeroWeight).toBeGreaterThan(0);
      expect(report.estimates.effectiveSampleSize).toBeLessThan(report.rewarded);
      expect(Number.isFinite(report.estimates.dr.value)).toBe(true);
      expect(report.perSlot.some((s) => s.targetGreedy !== s.id)).toBe(true);
      // The target puts mass on items the logging policy could not pick there: the support gap is reported.
      expect(report.unsupportedMass).toBeGreaterThan(0);
    }
  });
});
