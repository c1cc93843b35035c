import { describe, expect, it } from 'vitest';
import { PopularityRecommender } from '../../../engine/baselines/popularityRecommender.ts';
import { SknnRecommender } from '../../../engine/baselines/sknnRecommender.ts';
import { createEngine } from '../../../engine/engine.ts';
import { ListenerModel } from '../../../engine/eval/listenerSimulator.ts';
import { splitSessions } from '../../../engine/eval/sessionSplit.ts';
import {
  enginePlayer,
  recommenderPlayer,
  runStream,
  summariseSimulations,
} from '../../../engine/eval/streamRunner.ts';
import { TransitionIndex } from '../../../engine/retrieval/transitionIndex.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { syntheticWorld } from './fixture.ts';

const { catalog, sessions } = syntheticWorld();
const split = splitSessions(sessions, { seed: 3, validation: 0, test: 0.2 });
const model = new ListenerModel(catalog, split.train);
const held = split.test[0];

describe('listener simulator', () => {
  it('wants its own future most, its genre more than others, and never a repeat', () => {
    const listener = model.listener(held, 1);
    const future = held.items[5].id;
    expect(listener.start).toEqual([held.items[0].id]);
    expect(listener.affinity(future)).toBe(1);
    const genre = catalog.get(held.items[0].id)!.tags[0];
    const same = catalog.items.find((it) => it.tags[0] === genre && !held.items.some((p) => p.id === it.id))!;
    const other = catalog.items.find((it) => it.tags[0] !== genre)!;
    expect(listener.affinity(same.id)).toBeGreaterThan(listener.affinity(other.id));
    for (let step = 0; step < 20; step++) expect(listener.react(future, step, true).outcome).toBe('skipped');
  });

  it('reacts the same way for the same seed and step, and likes only its own future', () => {
    const a = model.listener(held, 7);
    const b = model.listener(held, 7);
    const ids = catalog.items.slice(0, 40).map((it) => it.id);
    const ra = ids.map((id, step) => a.react(id, step, false));
    expect(ids.map((id, step) => b.react(id, step, false))).toEqual(ra);
    ra.forEach((r, i) => {
      if (r.liked) expect(a.affinity(ids[i])).toBe(1);
      if (r.outcome === 'skipped') expect(r.playedMs).toBeLessThan(catalog.get(ids[i])!.durationMs);
    });
  });

  it('quits after a run of skips or a skip budget', () => {
    const listener = model.listener(held, 1);
    expect(listener.quits(5, 5)).toBe(true);
    expect(listener.quits(1, 30)).toBe(true);
    expect(listener.quits(4, 29)).toBe(false);
  });
});

describe('streams', () => {
  const popularity = new PopularityRecommender();
  popularity.fit(split.train);
  const sknn = new SknnRecommender();
  sknn.fit(split.train);

  it('drives a baseline for the whole length, deterministically, without repeats', async () => {
    const run = () =>
      runStream(recommenderPlayer(sknn, popularity), model.listener(held, 5), {
        catalog,
        length: 100,
        seed: 5,
        closedLoop: true,
      });
    const a = await run();
    const b = await run();
    expect(a.plays).toHaveLength(100);
    expect(b).toEqual(a);
    expect(new Set(a.plays.map((p) => p.id)).size).toBe(100);
    expect(a.quitAt).toBeGreaterThan(0);
    expect(a.quitAt).toBeLessThanOrEqual(100);
  });

  it('drives the real engine through start/next/feedback for 100 items, deterministically', async () => {
    const engine = createEngine({
      catalog,
      scorer: createFallbackScorer(),
      transitions: TransitionIndex.fromSessions(catalog, split.train),
    });
    const run = () =>
      runStream(enginePlayer('ours', engine, 'radio'), model.listener(held, 11), {
        catalog,
        length: 100,
        seed: 11,
        closedLoop: true,
      });
    const a = await run();
    expect(a.plays).toHaveLength(100);
    expect((await run()).plays).toEqual(a.plays);
    const summary = summariseSimulations([a]);
    expect(summary.simRepeats).toBe(0);
    expect(summary.simViolations).toBe(0);
    expect(summary.simSkipRate).toBeCloseTo(a.skips / 100, 12);
    // The engine hears the feedback: with skips and likes it plays a different stream than without.
    const open = await runStream(enginePlayer('ours', engine, 'radio'), model.listener(held, 11), {
      catalog,
      length: 100,
      seed: 11,
      closedLoop: false,
    });
    expect(open.skips).toBe(0);
    expect(open.plays.map((p) => p.id)).not.toEqual(a.plays.map((p) => p.id));
  });
});
