import { afterEach, describe, expect, it } from 'vitest';
import { sessionError } from '../../sessions/errors.ts';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import { appended, code, manager, nextNotice, openManagers, range, seqs } from './managerFixtures.ts';

// A store that fails under the manager: a failed log write, a failed snapshot after a logged call.

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

describe('createSessionManager', () => {
  it('a failed log write fails the call and drops the copy; the next call continues from the store', async () => {
    const store = createMemoryStore();
    let failNext = false;
    const append = store.append.bind(store);
    store.append = (sessionId, event, expected) => {
      if (!failNext) return append(sessionId, event, expected);
      failNext = false;
      return Promise.reject(sessionError('SESSION_STORE_UNAVAILABLE', 'Redis is down (simulated).'));
    };
    const reported: unknown[] = [];
    const { service } = manager({ store, onError: (err) => reported.push(err) });
    const { sessionId: sid } = await service.start({ connectionId: 'c1', seed: 2 });
    const first = await service.more(sid, 'c1', 5);
    failNext = true;
    expect(await code(service.feedback(sid, 'c1', { type: 'disliked', seq: 2 }))).toBe(
      'SESSION_STORE_UNAVAILABLE',
    );
    // Not acknowledged, so not kept: the retry is taken as new, once.
    await service.feedback(sid, 'c1', { type: 'disliked', seq: 2 });
    const next = await service.more(sid, 'c1', 5);
    expect(seqs(next)).toEqual(range(6, 10));
    const ids = [...first, ...next].map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    const dislikes = (await store.readEvents(sid)).filter((e) => e.event.type === 'user.feedback');
    expect(dislikes).toHaveLength(1);
    expect(reported).toEqual([expect.objectContaining({ code: 'SESSION_STORE_UNAVAILABLE' })]);
  });

  it('a failed snapshot after a successful log append does not fail the call', async () => {
    const { store, failSaves } = failingSaves();
    const reported: unknown[] = [];
    let onReport!: () => void;
    const report = new Promise<void>((resolve) => {
      onReport = resolve;
    });
    const { service } = manager({
      store,
      snapshotEvery: 1,
      onError: (err) => {
        reported.push(err);
        onReport();
      },
    });
    const { sessionId: sid } = await service.start({ connectionId: 'c1', seed: 2 });
    const first = await service.more(sid, 'c1', 5);
    failSaves(1);
    // Logged, so acknowledged: the snapshot after it fails, the call does not.
    expect(await service.feedback(sid, 'c1', { type: 'disliked', seq: 2 })).toMatchObject({
      invalidated: expect.any(Array),
    });
    // The next call, sent at once, finds the copy dropped under it: it restores from the store (snapshot + the
    // logged dislike) and continues, instead of failing or waiting forever.
    const next = await service.more(sid, 'c1', 5);
    await report;
    expect(reported).toEqual([expect.objectContaining({ code: 'SESSION_STORE_UNAVAILABLE' })]);
    expect(seqs(next)).toEqual(range(6, 10));
    expect(next.map((d) => d.artist)).not.toContain(first[1]!.artist);
    const ids = [...first, ...next].map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    const stored = (await store.load(sid))!.snapshot as { context: { engine: { dislikedIds: string[] } } };
    expect(stored.context.engine.dislikedIds).toContain(first[1]!.id);
  });

  it('a disconnect after a call whose snapshot failed still starts the grace window', async () => {
    const { store, failSaves } = failingSaves();
    const { service, clock } = manager({ store, snapshotEvery: 1, graceMs: 10_000, onError: () => {} });
    const opened = await service.start({ connectionId: 'c1', seed: 2 });
    const sid = opened.sessionId;
    await service.more(sid, 'c1', 3);
    failSaves(1);
    await service.feedback(sid, 'c1', { type: 'completed', seq: 1 });
    const logged = appended(store, 'client.disconnected');
    service.disconnected(sid, 'c1');
    await logged;
    const ended = nextNotice(service, sid);
    clock.increment(10_000);
    expect(await ended).toEqual({ type: 'ended', reason: 'grace-expired' });
  });
});

/** A memory store whose next `n` snapshot saves fail as a store that is down does (`failSaves(n)`). */
function failingSaves() {
  const store = createMemoryStore();
  let failing = 0;
  const save = store.save.bind(store);
  store.save = (sessionId, snapshot, expected) => {
    if (failing === 0) return save(sessionId, snapshot, expected);
    failing--;
    return Promise.reject(sessionError('SESSION_STORE_UNAVAILABLE', 'Redis is down (simulated).'));
  };
  const failSaves = (n: number) => {
    failing = n;
  };
  return { store, failSaves };
}
