import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../engine/engine.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import { replaySession } from '../../sessions/replay.ts';
import type { LoggedPool } from '../../sessions/sessionLog.ts';
import type { SessionLogEvent } from '../../sessions/sessionStore.ts';
import { fakeEngine } from './fakeEngine.ts';
import {
  appended,
  continuesOnAnotherNode,
  engine as fixtureEngine,
  manager,
  openManagers,
} from './managerFixtures.ts';
import { catalog, engine, livedSession as lived } from './replayFixtures.ts';

const livedSession = async () => (await lived()).events;

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

/** The log's deliveries in order: each delivering `feed.more`, and each pool that answered a held one. */
const deliveriesOf = (events: SessionLogEvent[]) =>
  events.filter(
    (e) => (e.type === 'feed.more' && Array.isArray(e.ids)) || (e.type === 'engine.pool' && e.answered),
  );
const poolsOf = (events: SessionLogEvent[]) => events.filter((e) => e.type === 'engine.pool');
const poolOf = (e: SessionLogEvent) => e.pool as LoggedPool;

describe('replaySession', () => {
  it('replays a session lived through the real manager exactly, every delivery and every pool', async () => {
    const events = await livedSession();
    // The session did what the test is about: invalidations and a resume are in its log.
    expect(events.filter((e) => Array.isArray(e.withdrawn)).length).toBeGreaterThanOrEqual(3);
    expect(events.map((e) => e.type)).toContain('client.resumed');
    const deliveries = deliveriesOf(events);
    expect(deliveries.length).toBeGreaterThanOrEqual(4);
    const report = await replaySession(events, engine);
    expect(report).toMatchObject({
      decisions: deliveries.length,
      exact: deliveries.length,
      diverged: 0,
      firstDivergence: null,
      maxScoreDelta: 0,
      commandMismatches: [],
      notes: [],
      ok: true,
    });
    expect(report.changes).toBe(events.filter((e) => /^user\.(feedback|steer)$/.test(e.type)).length);
    // Scores agree exactly too: a rescore replay of the same engine compares every pool as well.
    const pools = poolsOf(events).length;
    expect(await replaySession(events, engine, { mode: 'rescore' })).toMatchObject({
      ok: true,
      decisions: deliveries.length + pools,
      exact: deliveries.length + pools,
      maxScoreDelta: 0,
    });
  });

  it('replays a more that waited for its decision (answered by the pool entry)', async () => {
    const fake = fakeEngine();
    const { service, store } = manager({ engine: fake.engine });
    fake.hold();
    const { sessionId: sid } = await service.start({ connectionId: 'c1', seed: 5 });
    const taken = appended(store, 'feed.more');
    const waiting = service.more(sid, 'c1', 4);
    await taken;
    fake.release();
    const first = await waiting;
    await service.feedback(sid, 'c1', { type: 'disliked', seq: 2 });
    const second = await service.more(sid, 'c1', 6);
    const events = (await store.readEvents(sid)).map((e) => e.event);
    const answered = events.find((e) => e.type === 'engine.pool' && e.answered);
    expect(answered?.answered).toMatchObject({ ids: first.map((d) => d.id) });
    const report = await replaySession(events, fake.engine);
    expect(report).toMatchObject({ ok: true, decisions: 2, exact: 2 });
    expect(second.map((d) => d.artist)).not.toContain(first[1]!.artist);
  });

  it('rescores a decision on the state it began on, when commands came before it landed', async () => {
    const fake = fakeEngine();
    const { service, store } = manager({ engine: fake.engine });
    const { sessionId: sid } = await service.start({ connectionId: 'c1', seed: 8 });
    // Ten picks make the pool due: its refresh begins, and is held while a like and a skip are taken.
    fake.hold();
    const items = await service.more(sid, 'c1', 10);
    await service.feedback(sid, 'c1', { type: 'liked', seq: items[0]!.seq });
    await service.feedback(sid, 'c1', { type: 'skipped', seq: items[1]!.seq, atMs: 2_000 });
    const landed = appended(store, 'engine.pool');
    fake.release();
    await landed;
    await service.more(sid, 'c1', 3);
    const events = (await store.readEvents(sid)).map((e) => e.event);
    const types = events.map((e) => e.type);
    // Logged when it landed: after the commands it was not scored for.
    expect(types.lastIndexOf('engine.pool')).toBeGreaterThan(types.lastIndexOf('user.feedback'));
    const report = await replaySession(events, fake.engine, { mode: 'rescore' });
    expect(report).toMatchObject({ ok: true, diverged: 0, maxScoreDelta: 0 });
    expect(report.exact).toBe(report.decisions);
  });

  it('reports a tampered delivery at that delivery, and only there', async () => {
    const events = structuredClone(await livedSession());
    const deliveries = deliveriesOf(events);
    const target = deliveries[1]!;
    const ids = target.ids as string[];
    const original = ids[1]!;
    ids[1] = original === 't0' ? 't1' : 't0';
    const report = await replaySession(events, engine);
    expect(report.ok).toBe(false);
    expect(report.diverged).toBe(1);
    expect(report.exact).toBe(deliveries.length - 1);
    expect(report.firstDivergence).toMatchObject({
      what: 'delivery',
      decision: 1,
      logIndex: events.indexOf(target),
      status: 'diverged',
    });
    expect(report.firstDivergence!.expected[1]).toBe(ids[1]);
    expect(report.firstDivergence!.got[1]).toBe(original);

    // A tampered propensity is a divergence too.
    const again = structuredClone(await livedSession());
    const p = deliveriesOf(again)[2]!.p as number[];
    p[0] = p[0]! / 2;
    const byP = await replaySession(again, engine);
    expect(byP).toMatchObject({ ok: false, diverged: 1, firstDivergence: { decision: 2 } });
    expect(byP.firstDivergence!.maxScoreDelta).toBeGreaterThan(0);
  });

  it('reports a tampered pool at the first delivery picked from it', async () => {
    const events = structuredClone(await livedSession());
    // The pool the second delivery came from: the last one logged before it.
    const second = deliveriesOf(events)[1]!;
    const pool = poolsOf(events.slice(0, events.indexOf(second))).at(-1)!;
    // The best half of the pool now scores worst.
    poolOf(pool).scores = poolOf(pool).scores.map((s) => -s);
    const report = await replaySession(events, engine);
    expect(report.ok).toBe(false);
    expect(report.exact).toBe(1);
    expect(report.firstDivergence).toMatchObject({
      what: 'delivery',
      decision: 1,
      logIndex: events.indexOf(second),
    });
    // Rescoring sees the pool itself differ, before any delivery from it.
    const rescored = await replaySession(events, engine, { mode: 'rescore' });
    expect(rescored.firstDivergence).toMatchObject({ what: 'decision', logIndex: events.indexOf(pool) });
  });

  it('a replay on an engine with another config diverges and says where', async () => {
    const events = await livedSession();
    const other = createEngine({
      catalog,
      scorer: createFallbackScorer(),
      config: { mmrLambda: 0.3, exploration: 0.3 },
    });
    const report = await replaySession(events, other);
    expect(report.ok).toBe(false);
    expect(report.diverged).toBeGreaterThan(0);
    expect(report.firstDivergence).not.toBeNull();
    expect(report.firstDivergence!.got).not.toEqual(report.firstDivergence!.expected);
    expect(report.divergences[0]).toEqual(report.firstDivergence);
  });

  it('rescore: score drift within the tolerance passes, beyond it diverges; a swap is a tolerated rank flip', async () => {
    const events = await livedSession();
    const drift = (delta: number) => {
      const copy = structuredClone(events);
      for (const e of poolsOf(copy)) poolOf(e).scores = poolOf(e).scores.map((s) => s + delta);
      return copy;
    };
    const small = await replaySession(drift(2e-5), engine, { mode: 'rescore', tolerance: 1e-4 });
    expect(small).toMatchObject({ ok: true, diverged: 0 });
    expect(small.maxScoreDelta).toBeGreaterThan(1e-5);
    expect(small.maxScoreDelta).toBeLessThan(3e-5);
    const large = await replaySession(drift(1e-2), engine, { mode: 'rescore', tolerance: 1e-4 });
    expect(large.ok).toBe(false);
    expect(large.firstDivergence).toMatchObject({ what: 'decision', decision: 0 });
    expect(large.firstDivergence!.maxScoreDelta).toBeGreaterThan(9e-3);
    // Exact mode judges the deliveries only: a uniform shift leaves every pick as it was.
    expect(await replaySession(drift(1e-2), engine)).toMatchObject({ ok: true });

    // The first two of a pool's best swapped (each keeps its own score): the order flips, the scores agree.
    const swapped = structuredClone(events);
    const target = poolOf(poolsOf(swapped)[2]!);
    [target.ids[0], target.ids[1]] = [target.ids[1]!, target.ids[0]!];
    [target.scores[0], target.scores[1]] = [target.scores[1]!, target.scores[0]!];
    const rescored = await replaySession(swapped, engine, { mode: 'rescore' });
    expect(rescored).toMatchObject({ tolerated: 1, rankFlips: 1, diverged: 0, ok: true });
    expect(rescored.divergences[0]).toMatchObject({ what: 'decision', decision: 2, status: 'tolerated' });
  });

  it('a feedback whose logged withdrawal differs from the engine is a command mismatch', async () => {
    const events = structuredClone(await livedSession());
    const change = events.find((e) => e.type === 'user.feedback' && Array.isArray(e.withdrawn))!;
    (change.withdrawn as number[]).pop();
    const report = await replaySession(events, engine);
    expect(report.ok).toBe(false);
    expect(report.commandMismatches).toEqual([
      expect.objectContaining({ logIndex: events.indexOf(change), type: 'user.feedback' }),
    ]);
  });

  it('replays a session that moved to another node (copies per node, compare-and-swap saves)', async () => {
    const shared = createMemoryStore();
    const sid = await continuesOnAnotherNode(() => shared);
    const events = (await shared.readEvents(sid)).map((e) => e.event);
    expect(new Set(events.map((e) => e.node))).toEqual(new Set(['A', 'B']));
    const report = await replaySession(events, fixtureEngine);
    expect(report).toMatchObject({ ok: true, diverged: 0, commandMismatches: [], notes: [] });
    expect(report.decisions).toBe(deliveriesOf(events).length);
  });

  it('notes event types it does not read, and refuses a command without its clock reading', async () => {
    const events = await livedSession();
    const withOld = [...events, { type: 'engine.decision', atMs: 0, picks: [] } as SessionLogEvent];
    const report = await replaySession(withOld, engine);
    expect(report).toMatchObject({ ok: true, notes: [expect.stringContaining('"engine.decision"')] });
    const noClock = events.map((e, i) => {
      if (i !== events.findIndex((x) => x.type === 'feed.more')) return e;
      const { nowMs: _n, ...rest } = e;
      return rest as SessionLogEvent;
    });
    await expect(replaySession(noClock, engine)).rejects.toMatchObject({
      code: 'SESSION_INVALID_REQUEST',
      message: expect.stringContaining('nowMs'),
    });
  });

  it('refuses a log that does not begin with the start (trimmed), and an empty one', async () => {
    const events = await livedSession();
    await expect(replaySession(events.slice(1), engine)).rejects.toMatchObject({
      code: 'SESSION_INVALID_REQUEST',
    });
    await expect(replaySession([], engine)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
  });
});
