import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { isOmakaseError } from '../../models/omakaseError.ts';
import type { SessionStore, SessionStoreOptions } from '../../sessions/sessionStore.ts';

/**
 * The behaviour every `SessionStore` must have. Each implementation's test file calls this with a factory;
 * the factory may be called several times (different options) and every store made is closed at the end.
 */
export function registerStoreContract(
  name: string,
  makeStore: (options: SessionStoreOptions) => SessionStore,
): void {
  describe(`SessionStore contract: ${name}`, () => {
    const stores: SessionStore[] = [];
    const made = new Map<SessionStore, string[]>();
    const open = (options: SessionStoreOptions = {}) => {
      const store = makeStore(options);
      stores.push(store);
      made.set(store, []);
      return store;
    };
    const newId = (store: SessionStore) => {
      const id = `s-${randomUUID()}`;
      made.get(store)!.push(id);
      return id;
    };
    afterAll(async () => {
      for (const store of stores) {
        for (const id of made.get(store)!) await store.delete(id);
        await store.close();
      }
    });

    it('loads nothing for an unknown session', async () => {
      const store = open();
      expect(await store.load(newId(store))).toBeUndefined();
    });

    it('creates at version 0 → 1 and loads the snapshot back as JSON', async () => {
      const store = open();
      const id = newId(store);
      const snapshot = { value: { active: 'streaming' }, context: { lastSeq: 3, list: [1, 2], none: null } };
      expect(await store.save(id, snapshot, 0)).toBe(1);
      expect(await store.load(id)).toEqual({ snapshot, version: 1, tail: [] });
      expect(await store.save(id, { ...snapshot, context: { lastSeq: 4 } }, 1)).toBe(2);
      expect(await store.load(id)).toEqual({
        snapshot: { ...snapshot, context: { lastSeq: 4 } },
        version: 2,
        tail: [],
      });
    });

    it('returns copies: changing a loaded snapshot does not change the stored one', async () => {
      const store = open();
      const id = newId(store);
      await store.save(id, { list: [1] }, 0);
      const loaded = (await store.load(id))!.snapshot as { list: number[] };
      loaded.list.push(2);
      expect((await store.load(id))!.snapshot).toEqual({ list: [1] });
    });

    it('rejects a stale expected version with SESSION_STORE_CONFLICT and writes nothing', async () => {
      const store = open();
      const id = newId(store);
      await store.save(id, { n: 1 }, 0);
      await store.save(id, { n: 2 }, 1);
      const stale = await store.save(id, { n: 99 }, 1).catch((err: unknown) => err);
      expect(isOmakaseError(stale, 'SESSION_STORE_CONFLICT')).toBe(true);
      const create = await store.save(id, { n: 98 }, 0).catch((err: unknown) => err);
      expect(isOmakaseError(create, 'SESSION_STORE_CONFLICT')).toBe(true);
      expect(await store.load(id)).toEqual({ snapshot: { n: 2 }, version: 2, tail: [] });
    });

    it('lets exactly one of several concurrent writers at the same version win', async () => {
      const store = open();
      const id = newId(store);
      await store.save(id, { writer: -1 }, 0);
      const results = await Promise.allSettled(
        [0, 1, 2, 3, 4].map((writer) => store.save(id, { writer }, 1)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      expect((won[0] as PromiseFulfilledResult<number>).value).toBe(2);
      for (const r of results.filter((x) => x.status === 'rejected')) {
        expect(isOmakaseError((r as PromiseRejectedResult).reason, 'SESSION_STORE_CONFLICT')).toBe(true);
      }
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect(await store.load(id)).toEqual({ snapshot: { writer: winner }, version: 2, tail: [] });
    });

    it('appends events in order with increasing ids, each a version, and reads after an id', async () => {
      const store = open();
      const id = newId(store);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const appended = await store.append(id, { type: 'user.feedback', atMs: i, i }, i);
        expect(appended.version).toBe(i + 1);
        ids.push(appended.id);
      }
      expect(new Set(ids).size).toBe(5);
      const all = await store.readEvents(id);
      expect(all.map((e) => e.event.i)).toEqual([0, 1, 2, 3, 4]);
      expect(all.map((e) => e.id)).toEqual(ids);
      expect((await store.readEvents(id, { fromId: ids[1] })).map((e) => e.event.i)).toEqual([2, 3, 4]);
      expect((await store.readEvents(id, { fromId: ids[1], count: 2 })).map((e) => e.event.i)).toEqual([
        2, 3,
      ]);
      expect(await store.readEvents(id, { fromId: ids[4] })).toEqual([]);
    });

    it('fences appends: a stale version writes nothing and one of several concurrent appends wins', async () => {
      const store = open();
      const id = newId(store);
      await store.save(id, { n: 1 }, 0);
      const stale = await store.append(id, { type: 'x', atMs: 1 }, 0).catch((err: unknown) => err);
      expect(isOmakaseError(stale, 'SESSION_STORE_CONFLICT')).toBe(true);
      const results = await Promise.allSettled(
        [0, 1, 2].map((writer) => store.append(id, { type: 'x', atMs: 2, writer }, 1)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const staleSave = await store.save(id, { n: 2 }, 1).catch((err: unknown) => err);
      expect(isOmakaseError(staleSave, 'SESSION_STORE_CONFLICT')).toBe(true);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect((await store.readEvents(id)).map((e) => e.event.writer)).toEqual([winner]);
    });

    it('loads the latest snapshot with the events appended after it as the tail', async () => {
      const store = open();
      const id = newId(store);
      await store.append(id, { type: 'user.start', atMs: 0 }, 0);
      // Only a log, no snapshot yet: nothing to load.
      expect(await store.load(id)).toBeUndefined();
      await store.save(id, { at: 'start' }, 1);
      const a = await store.append(id, { type: 'x', atMs: 1, i: 1 }, 2);
      await store.append(id, { type: 'x', atMs: 2, i: 2 }, a.version);
      const loaded = await store.load(id);
      expect(loaded?.snapshot).toEqual({ at: 'start' });
      expect(loaded?.version).toBe(4);
      expect(loaded?.tail.map((e) => e.event.i)).toEqual([1, 2]);
      expect(loaded?.tail[0]?.id).toBe(a.id);
      await store.save(id, { at: 'two' }, 4);
      expect(await store.load(id)).toEqual({ snapshot: { at: 'two' }, version: 5, tail: [] });
      const b = await store.append(id, { type: 'x', atMs: 3, i: 3 }, 5);
      expect((await store.load(id))?.tail).toEqual([{ id: b.id, event: { type: 'x', atMs: 3, i: 3 } }]);
    });

    it('keeps each session its own log', async () => {
      const store = open();
      const a = newId(store);
      const b = newId(store);
      await store.append(a, { type: 'x', atMs: 1, who: 'a' }, 0);
      await store.append(b, { type: 'x', atMs: 1, who: 'b' }, 0);
      expect((await store.readEvents(a)).map((e) => e.event.who)).toEqual(['a']);
      expect(await store.readEvents(newId(store))).toEqual([]);
    });

    it('bounds the log, keeping the newest events', async () => {
      const store = open({ maxEvents: 20 });
      const id = newId(store);
      for (let i = 0; i < 400; i++) await store.append(id, { type: 'x', atMs: i, i }, i);
      const kept = (await store.readEvents(id)).map((e) => e.event.i as number);
      // Redis trims with `MAXLEN ~` (whole stream nodes of up to 100 entries), so allow that slack.
      expect(kept.length).toBeGreaterThanOrEqual(20);
      expect(kept.length).toBeLessThanOrEqual(20 + 100);
      expect(kept.at(-1)).toBe(399);
      expect(kept).not.toContain(0);
    });

    it('deletes the snapshot and the log', async () => {
      const store = open();
      const id = newId(store);
      await store.save(id, { n: 1 }, 0);
      await store.append(id, { type: 'x', atMs: 1 }, 1);
      await store.delete(id);
      expect(await store.load(id)).toBeUndefined();
      expect(await store.readEvents(id)).toEqual([]);
      expect(await store.save(id, { n: 2 }, 0)).toBe(1);
    });

    it('touch keeps an existing session and creates nothing', async () => {
      const store = open();
      const id = newId(store);
      await store.touch(id);
      expect(await store.load(id)).toBeUndefined();
      await store.save(id, { n: 1 }, 0);
      await store.touch(id);
      expect(await store.load(id)).toEqual({ snapshot: { n: 1 }, version: 1, tail: [] });
    });

    it('keeps a finished session only endedTtlMs after its final write, a live one for ttlMs', async () => {
      const store = open({ ttlMs: 60_000, endedTtlMs: 150 });
      const ended = newId(store);
      const live = newId(store);
      await store.save(ended, { status: 'active', n: 1 }, 0);
      await store.save(live, { status: 'active', n: 1 }, 0);
      await store.save(ended, { status: 'done', n: 2 }, 1);
      // A log entry written after the final snapshot does not give the session its long TTL back.
      await store.append(ended, { type: 'session.ended', atMs: 1 }, 2);
      expect(await store.load(ended)).toMatchObject({ snapshot: { status: 'done' }, version: 3 });
      const deadline = Date.now() + 5_000;
      while ((await store.load(ended)) !== undefined) {
        if (Date.now() > deadline) throw new Error('the ended session was still stored after 5 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await store.readEvents(ended)).toEqual([]);
      expect(await store.load(live)).toMatchObject({ snapshot: { n: 1 }, version: 1 });
    });
  });
}
