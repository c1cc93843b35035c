import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import { createSessionManager } from '../../sessions/sessionManager.ts';
import { fakeEngine } from './fakeEngine.ts';
import { appended, code, manager, openManagers, range, seqs } from './managerFixtures.ts';

// Calls while the engine decides: what waits for a decision, what never does, and a failed decision.

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

describe('createSessionManager', () => {
  it('feedback during a decision never waits for it, and the next more picks with it at once', async () => {
    const fake = fakeEngine();
    const { service } = manager({ engine: fake.engine });
    const { sessionId: sid } = await service.start({ connectionId: 'c1', seed: 4 });
    const first = await service.more(sid, 'c1', 8);
    // Every decision from here on is held: nothing below may wait for one.
    fake.hold();
    const disliked = first[2]!;
    await service.feedback(sid, 'c1', { type: 'disliked', seq: disliked.seq });
    const acks = await Promise.all(
      first.slice(3).map((item) => service.feedback(sid, 'c1', { type: 'completed', seq: item.seq })),
    );
    expect(acks).toHaveLength(5);
    const second = await service.more(sid, 'c1', 8);
    expect(seqs(second)).toEqual(range(9, 16));
    expect(second.map((d) => d.artist)).not.toContain(disliked.artist);
    // Picked from the pool scored before the dislike, corrected for it.
    for (const d of second) expect(d.reasons.decision).toBe(0);
    fake.release();
  });

  it('a refresh a call makes due begins after the caller has its answer, not on its path', async () => {
    const fake = fakeEngine();
    // Not over the wire: the caller continues in the same turn of the event loop, as a server writing its
    // response on the answer does.
    const service = createSessionManager({ engine: fake.engine, store: createMemoryStore() });
    openManagers.push(service);
    const { sessionId: sid } = await service.start({ connectionId: 'c1', seed: 5 });
    await new Promise((resolve) => setImmediate(resolve));
    const before = fake.calls.score;
    // Ten picks from one pool make it due (`poolPicks`).
    const items = await service.more(sid, 'c1', 10);
    expect(fake.calls.score).toBe(before);
    // A more in the same turn is served from the due pool at once.
    const next = await service.more(sid, 'c1', 2);
    expect(fake.calls.score).toBe(before);
    for (const d of [...items, ...next]) expect(d.reasons.decision).toBe(0);
    // A turn for the caller's answer, then one for the refresh queue's grant (`RefreshQueue`).
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.calls.score).toBe(before);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.calls.score).toBe(before + 1);
    await new Promise((resolve) => setImmediate(resolve));
    const after = await service.more(sid, 'c1', 1);
    expect(after[0]!.reasons.decision).toBe(1);
  });

  it('a more waits for a decision only without a pool; a failed decision refuses it with SESSION_ENGINE_FAILED', async () => {
    const fake = fakeEngine();
    const { service, store } = manager({ engine: fake.engine });
    fake.hold();
    const { sessionId: sid } = await service.start({ connectionId: 'c1', seed: 4 });
    let answered = false;
    let taken = appended(store, 'feed.more');
    const waiting = service.more(sid, 'c1', 3).then((items) => {
      answered = true;
      return items;
    });
    // The more reached the session (it is logged right after it is sent) and waits: no pool yet.
    await taken;
    expect(answered).toBe(false);
    fake.release();
    expect(seqs(await waiting)).toEqual([1, 2, 3]);
    // After a steer the pool is stale: the more waits for its decision, which fails.
    fake.hold();
    fake.failNextWith(new Error('model down'));
    await service.steer(sid, 'c1', { kind: 'tag', tag: 'genre2' });
    taken = appended(store, 'feed.more');
    const failing = code(service.more(sid, 'c1', 3));
    await taken;
    fake.release();
    expect(await failing).toBe('SESSION_ENGINE_FAILED');
    // The next more retries and is served.
    expect(seqs(await service.more(sid, 'c1', 3))).toEqual([4, 5, 6]);
  });
});
