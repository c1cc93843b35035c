import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import type { SessionContext } from '../../sessions/sessionContext.ts';
import { fakeEngine } from './fakeEngine.ts';
import {
  appended,
  continuesOnAnotherNode,
  engine,
  manager,
  openManagers,
  range,
  saved,
  seqs,
  T0,
} from './managerFixtures.ts';

// A session restored on another node from its snapshot and log tail (over Redis: redisManager.test.ts). The
// manager's other tests, by topic: sessionManager.calls, .decisions, .storeFailures and .connections.

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

describe('two managers on one store', () => {
  it('a session rebuilt from its snapshot and log tail continues exactly as if it had never moved', async () => {
    // The same calls three times: the session stays on node A; it moves to B restoring from a snapshot per
    // event (no tail); it moves to B restoring from the start snapshot and a tail of every event since.
    const run = async (move: 'stay' | 'snapshots' | 'tail') => {
      const store = createMemoryStore();
      const snapshotEvery = move === 'snapshots' ? 1 : 1_000;
      const a = manager({ store, nodeId: 'A', snapshotEvery, randomToken: () => 'token' });
      const b =
        move === 'stay' ? a : manager({ store, nodeId: 'B', snapshotEvery, randomToken: () => 'token' });
      const { sessionId: sid } = await a.service.start({ connectionId: 'c1', seed: 11 });
      const first = await a.service.more(sid, 'c1', 10);
      for (const item of first.slice(0, 5))
        await a.service.feedback(sid, 'c1', { type: 'completed', seq: item.seq });
      await a.service.feedback(sid, 'c1', { type: 'skipped', seq: first[5]!.seq, atMs: 20_000 });
      const { invalidated } = await a.service.feedback(sid, 'c1', { type: 'disliked', seq: first[6]!.seq });
      await a.service.steer(sid, 'c1', { kind: 'less-artist', artist: first[7]!.artist });
      await a.service.pause(sid, 'c1');
      await a.service.play(sid, 'c1');
      const second = await a.service.more(sid, 'c1', 5);
      const tail = (await store.load(sid))!.tail.length;
      const resumed = await b.service.resume({
        connectionId: 'c2',
        sessionId: sid,
        resumeToken: 'token',
        lastSeq: 12,
      });
      const after = await b.service.more(sid, 'c2', 20);
      return { first, invalidated, second, tail, resumed, after };
    };
    const stay = await run('stay');
    const snapshots = await run('snapshots');
    const tail = await run('tail');
    // Snapshots follow commands: a refill logged since the last command may still be in the tail.
    expect(snapshots.tail).toBeLessThanOrEqual(1);
    expect(tail.tail).toBeGreaterThan(10);
    for (const moved of [snapshots, tail]) {
      expect(moved.invalidated).toEqual(stay.invalidated);
      expect(moved.second).toEqual(stay.second);
      expect(moved.resumed.missed).toEqual(stay.resumed.missed);
      expect(moved.resumed.lastSeq).toBe(stay.resumed.lastSeq);
      expect(moved.after).toEqual(stay.after);
    }
  });

  it('a tail with a more that waited for its decision restores to the same session', async () => {
    const run = async (move: boolean) => {
      const fake = fakeEngine();
      const store = createMemoryStore();
      const a = manager({
        store,
        engine: fake.engine,
        nodeId: 'A',
        snapshotEvery: 1_000,
        randomToken: () => 'token',
      });
      const b = move ? manager({ store, engine: fake.engine, nodeId: 'B', randomToken: () => 'token' }) : a;
      fake.hold();
      const { sessionId: sid } = await a.service.start({ connectionId: 'c1', seed: 13 });
      const taken = appended(store, 'feed.more');
      const waiting = a.service.more(sid, 'c1', 6);
      await taken;
      fake.release();
      const first = await waiting;
      await a.service.feedback(sid, 'c1', { type: 'disliked', seq: 3 });
      const second = await a.service.more(sid, 'c1', 4);
      const tail = (await store.load(sid))!.tail.map((e) => e.event);
      const resumed = await b.service.resume({
        connectionId: 'c2',
        sessionId: sid,
        resumeToken: 'token',
        lastSeq: 10,
      });
      const after = await b.service.more(sid, 'c2', 10);
      return { first, second, tail, resumed, after };
    };
    const stay = await run(false);
    const moved = await run(true);
    expect(moved.tail.some((e) => e.type === 'engine.pool' && e.answered)).toBe(true);
    expect(moved.first).toEqual(stay.first);
    expect(moved.second).toEqual(stay.second);
    expect(moved.resumed.lastSeq).toBe(stay.resumed.lastSeq);
    expect(moved.after).toEqual(stay.after);
    expect(seqs(moved.after)).toEqual(range(11, 20));
  });

  it('snapshots of context versions 1 and 2 (picks decided ahead in a buffer) restore and continue as version 3', async () => {
    const store = createMemoryStore();
    const a = manager({ store, nodeId: 'A', snapshotEvery: 1, randomToken: () => 'token' });
    const { sessionId: sid } = await a.service.start({ connectionId: 'c1', seed: 7 });
    const first = await a.service.more(sid, 'c1', 10);
    const snapshotted = saved(store);
    await a.service.feedback(sid, 'c1', { type: 'skipped', seq: first[1]!.seq, atMs: 10_000 });
    await snapshotted;
    const stored = (await store.load(sid))!;
    // The snapshot covers every command; the refresh the early skip made due lands after the answer.
    expect(stored.tail.filter((e) => e.event.type !== 'engine.pool')).toHaveLength(0);
    const snapshot = stored.snapshot as { context: SessionContext };
    const { pool, principal: _p, v: _v, ...rest } = snapshot.context;
    // The old machine kept picks decided ahead in `buffer`, queued in the engine's history.
    const ahead = engine.pick(rest.engine!, pool!, { n: 4, nowMs: T0 });
    const v2context = {
      ...rest,
      v: 2,
      engine: ahead.state,
      settings: { ...rest.settings, lookahead: 8 },
      buffer: ahead.picks,
      reply: null,
    };
    const { halted, ...v2rest } = v2context;
    const v1context = {
      ...v2rest,
      v: 1,
      exhausted: halted === 'exhausted',
      stalled: halted === 'stalled',
      startedAt: 0,
      endedAt: null,
    };
    const continueFrom = async (context: unknown) => {
      const copy = createMemoryStore();
      await copy.save(sid, { ...snapshot, context }, 0);
      const b = manager({ store: copy, nodeId: 'B', snapshotEvery: 1, randomToken: () => 'token' });
      const resumed = await b.service.resume({
        connectionId: 'c2',
        sessionId: sid,
        resumeToken: 'token',
        lastSeq: 10,
      });
      // The snapshot after the more is not waited for by the call.
      const snapshotted = saved(copy);
      const after = await b.service.more(sid, 'c2', 20);
      await snapshotted;
      const kept = (await copy.load(sid))!.snapshot as { context: SessionContext };
      return { resumed, after, saved: kept.context };
    };
    const fromV2 = await continueFrom(v2context);
    const fromV1 = await continueFrom(v1context);
    expect(fromV1).toEqual(fromV2);
    expect(fromV2.resumed).toMatchObject({ lastSeq: 10, missed: [] });
    expect(seqs(fromV2.after)).toEqual(range(11, 30));
    const ids = [...first, ...fromV2.after].map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(fromV2.saved).toMatchObject({ v: 3, principal: null, pool: { decision: expect.any(Number) } });
    expect(fromV2.saved.settings).not.toHaveProperty('lookahead');
    expect(fromV2.saved).not.toHaveProperty('buffer');
  });

  it('a session moves to another node and continues without repeats', async () => {
    const shared = createMemoryStore();
    await continuesOnAnotherNode(() => shared);
  });
});
