import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../engine/engine.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import type { Scorer } from '../../models/scorer.ts';
import { rescoreSession } from '../../sessions/rescore.ts';
import { kendallTau } from '../../sessions/rescoredPool.ts';
import { openManagers } from './managerFixtures.ts';
import { catalog, engine, livedSession } from './replayFixtures.ts';

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

/** A model that ranks the other way round from the fallback blend. */
const inverse: Scorer = {
  id: 'inverse',
  degraded: false,
  score: async (features, count) => (await createFallbackScorer().score(features, count)).map((s) => -s),
};

describe('kendallTau', () => {
  it('is 1 for the same order, −1 for the reverse, and counts ties as neither', () => {
    expect(kendallTau([3, 2, 1], [30, 20, 10])).toBe(1);
    expect(kendallTau([3, 2, 1], [10, 20, 30])).toBe(-1);
    // One discordant pair of three, no ties: (2 − 1) / 3.
    expect(kendallTau([1, 2, 3], [1, 3, 2])).toBeCloseTo(1 / 3, 12);
    // tau-b with a tie in b: pairs (1,2) tied in b; C = 2, D = 0; √(3 · 2).
    expect(kendallTau([1, 2, 3], [1, 1, 3])).toBeCloseTo(2 / Math.sqrt(6), 12);
  });
});

describe('rescoreSession', () => {
  it('the model the session ran on: every logged candidate set scores the same, every slate comes out the same', async () => {
    const { events } = await livedSession();
    const report = await rescoreSession(events, engine, engine);
    const pools = events.filter((e) => e.type === 'engine.pool').length;
    expect(report.decisions).toBe(pools);
    expect(report).toMatchObject({
      withinTolerance: pools,
      topChanged: 0,
      maxScoreDelta: 0,
      rankFlips: 0,
      slatesChanged: 0,
      picksChanged: 0,
      meanKendallTau: 1,
      ok: true,
      notes: [],
    });
    // The walk found the very state each decision was scored at.
    expect(report.perDecision.every((d) => d.exactState)).toBe(true);
    expect(report.deliveries).toBeGreaterThanOrEqual(4);
    for (const d of report.perDelivery) for (const item of d.items) expect(item.rank).toBe(item.loggedRank);
  });

  it('another model on the logged candidates: ranks reversed, tops and slates changed, ranks of the delivered items', async () => {
    const { events } = await livedSession();
    const other = createEngine({ catalog, scorer: inverse });
    const report = await rescoreSession(events, engine, other);
    expect(report.model).toEqual({ logged: 'fallback', rescored: 'inverse' });
    expect(report.ok).toBe(false);
    expect(report.topChanged).toBeGreaterThan(0);
    expect(report.meanKendallTau).toBeLessThan(-0.5);
    expect(report.rankFlips).toBeGreaterThan(0);
    expect(report.slatesChanged).toBeGreaterThan(0);
    const decision = report.perDecision[0]!;
    // The same candidate set: the rescored best is one of the logged candidates, at its logged rank.
    expect(decision.rescored[0]!.rank).toBe(0);
    expect(decision.rescored[0]!.loggedRank).toBeGreaterThan(0);
    expect(decision.rescored[0]!.score).toBeCloseTo(-decision.rescored[0]!.loggedScore, 5);
    const delivery = report.perDelivery[0]!;
    expect(delivery.items.map((i) => i.id)).toEqual(delivery.logged);
    expect(delivery.rescored).toHaveLength(delivery.logged.length);
  });
});
