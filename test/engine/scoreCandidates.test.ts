import { describe, expect, it } from 'vitest';
import { generateDemoSessions } from '../../engine/demo/demoSessions.ts';
import { createEngine } from '../../engine/engine.ts';
import { SessionKnnIndex } from '../../engine/retrieval/sessionKnnIndex.ts';
import { TransitionIndex } from '../../engine/retrieval/transitionIndex.ts';
import type { SessionState } from '../../engine/session.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import type { Scorer } from '../../models/scorer.ts';
import { smallCatalog } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1, 20);
const catalog = smallCatalog({ items: 600, artists: 60 });
const logged = generateDemoSessions(catalog, { seed: 3, sessions: 300 });
// Transition and session-kNN indexes, so the candidates' retrieval signals are features that matter.
const resources = {
  catalog,
  transitions: TransitionIndex.fromSessions(catalog, logged),
  sessions: SessionKnnIndex.fromSessions(catalog, logged),
};
const engine = createEngine({ ...resources, scorer: createFallbackScorer() });

/** A session some way in: picks, a like, an early skip, a steer. */
async function sessionState(): Promise<SessionState> {
  let state = engine.start({ seed: 11, intent: { tag: 'genre3' } });
  state = (await engine.next(state, { n: 6, nowMs: T0 })).state;
  state = engine.feedback(state, { type: 'liked', pos: 1 }, T0).state;
  state = engine.feedback(state, { type: 'skipped', pos: 2, atMs: 3_000 }, T0).state;
  state = engine.steer(state, { kind: 'tag', tag: 'genre5' }, T0).state;
  state = (await engine.next(state, { n: 4, nowMs: T0 })).state;
  // Positives after the steer seed the transition source.
  state = engine.feedback(state, { type: 'liked', pos: 6 }, T0).state;
  return engine.feedback(state, { type: 'completed', pos: 7 }, T0).state;
}

describe('engine.scoreCandidates', () => {
  it("gives a decision's own candidates the scores the decision gave them (same features, one call)", async () => {
    const state = await sessionState();
    const { pool } = await engine.score(state, { nowMs: T0 });
    // Transition and session-kNN candidates are among them: their signals are recomputed, not logged.
    expect(pool.sources.some((s) => s & 2)).toBe(true);
    expect(pool.sources.some((s) => s & 16)).toBe(true);
    const again = await engine.scoreCandidates(state, pool.items, { nowMs: T0, sources: pool.sources });
    expect(Array.from(again.scores)).toEqual(pool.scores);
    expect(again.pool).toMatchObject({
      items: pool.items,
      scores: pool.scores,
      decision: pool.decision,
      fromPos: pool.fromPos,
      steer: pool.steer,
    });
  });

  it('another model reorders the same candidates; the state is not counted', async () => {
    const state = await sessionState();
    const { pool } = await engine.score(state, { nowMs: T0 });
    // A model that likes what the fallback dislikes: the same set, the other way round.
    const inverse: Scorer = {
      id: 'inverse',
      degraded: false,
      score: async (features, count) => {
        const base = await createFallbackScorer().score(features, count);
        return base.map((s) => -s);
      },
    };
    const other = createEngine({ ...resources, scorer: inverse });
    const { pool: rescored } = await other.scoreCandidates(state, pool.items, {
      nowMs: T0,
      sources: pool.sources,
    });
    expect(new Set(rescored.items)).toEqual(new Set(pool.items));
    expect(rescored.model).toBe('inverse');
    expect(rescored.decision).toBe(state.decisions);
    // Steering's items lead in both; behind them the order is reversed.
    expect(rescored.items.at(-1)).not.toBe(pool.items.at(-1));
  });

  it('refuses an index outside the catalog with ENGINE_UNKNOWN_ITEM', async () => {
    const state = engine.start({ seed: 1 });
    const err = await engine.scoreCandidates(state, [catalog.size], { nowMs: T0 }).catch((e) => e);
    expect(isOmakaseError(err, 'ENGINE_UNKNOWN_ITEM')).toBe(true);
  });
});

describe('engine.slotChoices', () => {
  it('gives each picked item the propensity the pick reported, and the greedy item when it did not explore', async () => {
    let state = await sessionState();
    const { state: scored, pool } = await engine.score(state, { nowMs: T0 });
    let checked = 0;
    state = scored;
    for (let round = 0; round < 12; round++) {
      const { state: next, picks } = engine.pick(state, pool, { n: 3, nowMs: T0 });
      const items = picks.map((p) => catalog.indexOf(p.id)!);
      const slots = engine.slotChoices(state, pool, { items, nowMs: T0 });
      expect(slots).toHaveLength(picks.length);
      picks.forEach((pick, k) => {
        const at = slots[k]!.items.indexOf(items[k]!);
        expect(slots[k]!.p[at]).toBe(pick.propensity);
        if (!pick.reasons.explored) expect(at).toBe(0);
        else expect(at).toBeGreaterThan(0);
        // A distribution: the greedy best and the top few, summing to 1.
        expect(slots[k]!.p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        checked++;
      });
      state = next;
    }
    expect(checked).toBeGreaterThanOrEqual(30);
  });

  it('conditions later slots on the items taken before: a forced item changes what follows', async () => {
    const state = await sessionState();
    const { state: scored, pool } = await engine.score(state, { nowMs: T0 });
    const greedy = engine.slotChoices(scored, pool, { items: [pool.items[0]!], nowMs: T0 })[0]!;
    // Take the second choice of slot 0: slot 0 gives it the explore chance, and slot 1 no longer offers it.
    const second = greedy.items[1]!;
    const slots = engine.slotChoices(scored, pool, { items: [second, greedy.items[0]!], nowMs: T0 });
    expect(slots[0]!.p[1]).toBeCloseTo(0.05 / (greedy.items.length - 1), 12);
    expect(slots[1]!.items).not.toContain(second);
    // An item the pool does not hold ends the walk there.
    const absent = [...Array(catalog.size).keys()].find((i) => !pool.items.includes(i))!;
    expect(engine.slotChoices(scored, pool, { items: [absent, second], nowMs: T0 })).toHaveLength(1);
  });
});
