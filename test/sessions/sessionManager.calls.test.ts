import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import { code, engine, manager, openManagers, range, seqs } from './managerFixtures.ts';

// The manager's calls, refusals, repeated requests and log.

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

describe('createSessionManager', () => {
  it('starts, streams with monotonic seqs and no repeats, and takes every command', async () => {
    const { service } = manager();
    const opened = await service.start({ connectionId: 'c1', intent: { tag: 'genre1' } });
    expect(opened).toMatchObject({ status: 'streaming', lastSeq: 0, missed: [], graceMs: 120_000 });
    expect(opened.resumeToken.length).toBeGreaterThanOrEqual(32);
    const sid = opened.sessionId;
    const first = await service.more(sid, 'c1', 5);
    expect(seqs(first)).toEqual(range(1, 5));
    expect(first[0]).toMatchObject({ degraded: expect.any(Boolean), reasons: expect.any(Object) });
    expect(await service.feedback(sid, 'c1', { type: 'started', seq: 1 })).toEqual({ invalidated: [] });
    await service.feedback(sid, 'c1', { type: 'completed', seq: 1 });
    await service.feedback(sid, 'c1', { type: 'liked', seq: 2 });
    await service.pause(sid, 'c1');
    await service.play(sid, 'c1');
    const second = await service.more(sid, 'c1', 12);
    expect(seqs(second)).toEqual(range(6, 17));
    const ids = [...first, ...second].map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    await service.end(sid, 'c1');
    expect(await code(service.more(sid, 'c1', 1))).toBe('SESSION_ENDED');
  });

  it('refuses invalid requests with codes and leaves the stored session as it was (refusals are only logged)', async () => {
    const { service, store } = manager();
    const { sessionId: sid } = await service.start({ connectionId: 'c1' });
    await service.more(sid, 'c1', 3);
    const before = await store.load(sid);
    expect(await code(service.play(sid, 'c1'))).toBe('SESSION_INVALID_EVENT');
    expect(await code(service.more(sid, 'c1', 0))).toBe('SESSION_INVALID_REQUEST');
    expect(await code(service.more(sid, 'c1', 51))).toBe('SESSION_INVALID_REQUEST');
    expect(await code(service.feedback(sid, 'c1', { type: 'disliked', seq: 4 }))).toBe('SESSION_UNKNOWN_SEQ');
    expect(await code(service.steer(sid, 'c1', { kind: 'artist', artist: 'Nobody' }))).toBe(
      'SESSION_INVALID_REQUEST',
    );
    expect(await code(service.more('no-such-session', 'c1', 1))).toBe('SESSION_NOT_FOUND');
    const after = await store.load(sid);
    expect(after?.snapshot).toEqual(before?.snapshot);
    const added = after!.tail.slice(before!.tail.length).map((e) => e.event);
    expect(added.filter((e) => e.type !== 'engine.pool').map((e) => [e.type, e.ok, e.code])).toEqual([
      ['user.play', false, 'SESSION_INVALID_EVENT'],
      ['feed.more', false, 'SESSION_INVALID_REQUEST'],
      ['feed.more', false, 'SESSION_INVALID_REQUEST'],
      ['user.feedback', false, 'SESSION_UNKNOWN_SEQ'],
      ['user.steer', false, 'SESSION_INVALID_REQUEST'],
    ]);
    await service.pause(sid, 'c1');
    expect(await code(service.pause(sid, 'c1'))).toBe('SESSION_INVALID_EVENT');
  });

  it('a dislike withdraws delivered picks of that artist and keeps the artist out', async () => {
    const { service } = manager();
    const { sessionId: sid } = await service.start({ connectionId: 'c1', seed: 5 });
    const delivered = await service.more(sid, 'c1', 30);
    // Dislike an item whose artist has later items in the queue, if the stream has one.
    const target =
      delivered.find((d, i) => delivered.slice(i + 1).some((later) => later.artist === d.artist)) ??
      delivered[0];
    const later = delivered.filter((d) => d.seq > target.seq && d.artist === target.artist).map((d) => d.seq);
    expect(later.length).toBeGreaterThan(0);
    const { invalidated } = await service.feedback(sid, 'c1', { type: 'disliked', seq: target.seq });
    expect(invalidated).toEqual(later);
    const after = await service.more(sid, 'c1', 10);
    expect(after.map((d) => d.artist)).not.toContain(target.artist);
    expect(seqs(after)).toEqual(range(31, 40));
  });

  it('a request sent again with its key is applied once, on this node and after a move to another', async () => {
    const store = createMemoryStore();
    const a = manager({ store, nodeId: 'A', randomToken: () => 'token' });
    const b = manager({ store, nodeId: 'B', randomToken: () => 'token' });
    const { sessionId: sid } = await a.service.start({ connectionId: 'c1', seed: 5 });
    const [first, second] = await a.service.more(sid, 'c1', 2);
    const liked = { type: 'liked', seq: first!.seq } as const;
    await a.service.feedback(sid, 'c1', liked, { key: 'f1' });
    await a.service.feedback(sid, 'c1', liked, { key: 'f1' });
    await a.service.pause(sid, 'c1', { key: 'p1' });
    // A pause applied twice would be refused (the session is already paused): the repeat is answered.
    await a.service.pause(sid, 'c1', { key: 'p1' });
    expect(await code(a.service.pause(sid, 'c1', { key: 'p2' }))).toBe('SESSION_INVALID_EVENT');
    await a.service.play(sid, 'c1', { key: 'p3' });
    // The client lost its connection and resumes on node B, then sends the unanswered requests again.
    await b.service.resume({ connectionId: 'c2', sessionId: sid, resumeToken: 'token', lastSeq: 2 });
    await b.service.feedback(sid, 'c2', liked, { key: 'f1' });
    await b.service.play(sid, 'c2', { key: 'p3' });
    // The same key with other content is a new request.
    await b.service.feedback(sid, 'c2', { type: 'disliked', seq: second!.seq }, { key: 'f1' });
    // Every request is in the log (the repeats as answered), but two outcomes reached the engine: the like
    // once, and the dislike. A third node rebuilds the session from the store and agrees.
    const log = (await store.readEvents(sid)).map((e) => e.event);
    expect(log.filter((e) => e.type === 'user.feedback')).toHaveLength(4);
    // The log says which were answered as repeats, so a reader need not re-run the machine to know.
    expect(
      log
        .filter((e) => e.type === 'user.feedback' || e.type === 'user.play' || e.type === 'user.pause')
        .map((e) => `${(e as { key?: string }).key}${(e as { repeat?: true }).repeat ? ' again' : ''}`),
    ).toEqual(['f1', 'f1 again', 'p1', 'p1 again', 'p2', 'p3', 'f1 again', 'p3 again', 'f1']);
    const restored = manager({ store, nodeId: 'C', randomToken: () => 'token' });
    await restored.service.resume({ connectionId: 'c3', sessionId: sid, resumeToken: 'token', lastSeq: 2 });
    const snapshot = (await store.load(sid))!.snapshot as { context: { engine: { signals: number } } };
    expect(snapshot.context.engine.signals).toBe(2);
  });

  it('serializes concurrent calls on one session', async () => {
    const { service } = manager();
    const { sessionId: sid } = await service.start({ connectionId: 'c1' });
    const batches = await Promise.all([1, 2, 3, 4].map(() => service.more(sid, 'c1', 6)));
    expect(batches.flatMap(seqs)).toEqual(range(1, 24));
    expect(new Set(batches.flat().map((i) => i.id)).size).toBe(24);
  });

  it('logs every inbound event and every decision with its pool, each delivery with ids and propensities', async () => {
    const { service, store } = manager();
    const { sessionId: sid } = await service.start({ connectionId: 'c1', seed: 1234 });
    const delivered = await service.more(sid, 'c1', 10);
    await service.feedback(sid, 'c1', { type: 'skipped', seq: 1, atMs: 5_000 });
    const events = (await store.readEvents(sid)).map((e) => e.event);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => !t.startsWith('engine.'))).toEqual([
      'user.start',
      'feed.more',
      'user.feedback',
    ]);
    expect(events[0]).toMatchObject({
      type: 'user.start',
      seed: 1234,
      connectionId: 'c1',
      model: engine.modelId,
    });
    const pools = events.filter((e) => e.type === 'engine.pool');
    expect(pools.length).toBeGreaterThanOrEqual(1);
    expect(pools[0]).toMatchObject({
      nowMs: expect.any(Number),
      pool: {
        decision: 0,
        fromPos: 0,
        model: engine.modelId,
        ids: expect.any(Array),
        scores: expect.any(Array),
      },
    });
    const pool = pools[0]!.pool as { ids: string[]; scores: number[] };
    expect(pool.ids.length).toBe(pool.scores.length);
    expect(pool.scores).toEqual([...pool.scores].sort((x, y) => y - x));
    const more = events.find((e) => e.type === 'feed.more')!;
    expect(more).toMatchObject({
      n: 10,
      ok: true,
      reqId: expect.any(Number),
      nowMs: expect.any(Number),
      ids: delivered.map((d) => d.id),
      p: delivered.map((d) => d.propensity),
    });
    for (const id of more.ids as string[]) expect(pool.ids).toContain(id);
    expect(events.find((e) => e.type === 'user.feedback')).toMatchObject({ ok: true, feedback: { seq: 1 } });
  });
});
