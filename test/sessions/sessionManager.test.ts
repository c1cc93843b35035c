import { afterEach, describe, expect, it } from 'vitest';
import { sessionError } from '../../sessions/errors.ts';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import type { SessionContext } from '../../sessions/sessionContext.ts';
import { createSessionManager } from '../../sessions/sessionManager.ts';
import { fakeEngine } from './fakeEngine.ts';
import {
  appended,
  code,
  continuesOnAnotherNode,
  engine,
  manager,
  nextNotice,
  openManagers,
  range,
  saved,
  seqs,
  T0,
} from './managerFixtures.ts';

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

  it('resumes within the grace window: missed items re-sent, token rotated, old connection locked out', async () => {
    const { service, clock } = manager();
    const opened = await service.start({ connectionId: 'c1' });
    const sid = opened.sessionId;
    const sent = await service.more(sid, 'c1', 5);
    await service.pause(sid, 'c1');
    service.disconnected(sid, 'c1');
    clock.increment(60_000);
    const wrong = await code(
      service.resume({ connectionId: 'c2', sessionId: sid, resumeToken: 'nope', lastSeq: 2 }),
    );
    expect(wrong).toBe('SESSION_BAD_RESUME_TOKEN');
    const resumed = await service.resume({
      connectionId: 'c2',
      sessionId: sid,
      resumeToken: opened.resumeToken,
      lastSeq: 2,
    });
    expect(resumed).toMatchObject({ sessionId: sid, status: 'paused', lastSeq: 5 });
    expect(resumed.missed).toEqual(sent.slice(2));
    expect(resumed.resumeToken).not.toBe(opened.resumeToken);
    expect(await code(service.more(sid, 'c1', 1))).toBe('SESSION_TAKEN_OVER');
    const stale = service.resume({
      connectionId: 'c3',
      sessionId: sid,
      resumeToken: opened.resumeToken,
      lastSeq: 0,
    });
    expect(await code(stale)).toBe('SESSION_BAD_RESUME_TOKEN');
    await service.play(sid, 'c2');
    expect(seqs(await service.more(sid, 'c2', 2))).toEqual([6, 7]);
    // The old connection's late disconnect must not start the new owner's grace window.
    service.disconnected(sid, 'c1');
    clock.increment(120_000);
    expect(seqs(await service.more(sid, 'c2', 1))).toEqual([8]);
  });

  it('takes over a live connection and tells its listeners', async () => {
    const { service } = manager();
    const opened = await service.start({ connectionId: 'c1' });
    const sid = opened.sessionId;
    await service.more(sid, 'c1', 3);
    const notice = nextNotice(service, sid);
    const resumed = await service.resume({
      connectionId: 'c2',
      sessionId: sid,
      resumeToken: opened.resumeToken,
      lastSeq: 3,
    });
    expect(resumed.missed).toEqual([]);
    expect(await notice).toEqual({ type: 'taken-over' });
    expect(await code(service.feedback(sid, 'c1', { type: 'liked', seq: 1 }))).toBe('SESSION_TAKEN_OVER');
    expect(await service.feedback(sid, 'c2', { type: 'liked', seq: 1 })).toEqual({ invalidated: [] });
  });

  it('ends a disconnected session after the grace window; a later resume gets SESSION_EXPIRED', async () => {
    const { service, clock } = manager({ graceMs: 30_000 });
    const opened = await service.start({ connectionId: 'c1' });
    const sid = opened.sessionId;
    const notice = nextNotice(service, sid);
    service.disconnected(sid, 'c1');
    // Wait until the disconnect is recorded (calls on a session run in order), then let the window pass.
    await code(service.more(sid, 'c1', 1));
    clock.increment(30_000);
    expect(await notice).toEqual({ type: 'ended', reason: 'grace-expired' });
    const late = service.resume({
      connectionId: 'c2',
      sessionId: sid,
      resumeToken: opened.resumeToken,
      lastSeq: 0,
    });
    expect(await code(late)).toBe('SESSION_EXPIRED');
  });

  it('ends an idle session and says why', async () => {
    const { service, clock } = manager({ idleMs: 60_000 });
    const { sessionId: sid } = await service.start({ connectionId: 'c1' });
    await service.more(sid, 'c1', 2);
    const notice = nextNotice(service, sid);
    clock.increment(60_000);
    expect(await notice).toEqual({ type: 'ended', reason: 'idle' });
    expect(await code(service.more(sid, 'c1', 1))).toBe('SESSION_EXPIRED');
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

  it('a resume by another principal is SESSION_FORBIDDEN and writes nothing', async () => {
    const { service, store } = manager();
    const opened = await service.start({ connectionId: 'c1', seed: 3, principal: 'alice' });
    const sid = opened.sessionId;
    await service.more(sid, 'c1', 4);
    const before = await store.load(sid);
    const events = (await store.readEvents(sid)).length;
    const resume = (principal?: string) =>
      service.resume({
        connectionId: 'c2',
        principal,
        sessionId: sid,
        resumeToken: opened.resumeToken,
        lastSeq: 0,
      });
    expect(await code(resume('mallory'))).toBe('SESSION_FORBIDDEN');
    expect(await code(resume())).toBe('SESSION_FORBIDDEN');
    expect(await store.load(sid)).toEqual(before);
    expect((await store.readEvents(sid)).length).toBe(events);
    // The owner's connection still drives it, and the right principal may resume it with the same token.
    expect(seqs(await service.more(sid, 'c1', 2))).toEqual([5, 6]);
    expect((await resume('alice')).lastSeq).toBe(6);
  });

  it('a failed snapshot after a successful log append does not fail the call', async () => {
    const store = createMemoryStore();
    let failSaves = 0;
    const save = store.save.bind(store);
    store.save = (sessionId, snapshot, expected) => {
      if (failSaves === 0) return save(sessionId, snapshot, expected);
      failSaves--;
      return Promise.reject(sessionError('SESSION_STORE_UNAVAILABLE', 'Redis is down (simulated).'));
    };
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
    failSaves = 1;
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
    const store = createMemoryStore();
    let failSaves = 0;
    const save = store.save.bind(store);
    store.save = (sessionId, snapshot, expected) => {
      if (failSaves === 0) return save(sessionId, snapshot, expected);
      failSaves--;
      return Promise.reject(sessionError('SESSION_STORE_UNAVAILABLE', 'Redis is down (simulated).'));
    };
    const { service, clock } = manager({ store, snapshotEvery: 1, graceMs: 10_000, onError: () => {} });
    const opened = await service.start({ connectionId: 'c1', seed: 2 });
    const sid = opened.sessionId;
    await service.more(sid, 'c1', 3);
    failSaves = 1;
    await service.feedback(sid, 'c1', { type: 'completed', seq: 1 });
    const logged = appended(store, 'client.disconnected');
    service.disconnected(sid, 'c1');
    await logged;
    const ended = nextNotice(service, sid);
    clock.increment(10_000);
    expect(await ended).toEqual({ type: 'ended', reason: 'grace-expired' });
  });
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
