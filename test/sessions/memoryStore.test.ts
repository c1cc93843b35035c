import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import { registerStoreContract } from './storeContract.ts';

registerStoreContract('memory', (options) => createMemoryStore(options));

describe('createMemoryStore TTL', () => {
  it('expires a session ttlMs after its last save or touch', async () => {
    let now = 1_000;
    const store = createMemoryStore({ ttlMs: 100, now: () => now });
    await store.save('a', { n: 1 }, 0);
    await store.append('a', { type: 'x', atMs: now }, 1);
    now += 90;
    await store.touch('a');
    now += 90;
    expect(await store.load('a')).toEqual({
      snapshot: { n: 1 },
      version: 2,
      tail: [{ id: '1-0', event: { type: 'x', atMs: 1_000 } }],
    });
    now += 100;
    expect(await store.load('a')).toBeUndefined();
    expect(await store.readEvents('a')).toEqual([]);
    // An expired session starts again from version 0.
    expect(await store.save('a', { n: 2 }, 0)).toBe(1);
  });

  it('frees expired and ended sessions in its sweep, so what it holds is bounded by the TTLs', async () => {
    let now = 0;
    const store = createMemoryStore({ ttlMs: 1_000, endedTtlMs: 100, now: () => now, sweepMs: 0 });
    for (let i = 0; i < 50; i++) {
      await store.save(`live-${i}`, { status: 'active' }, 0);
      await store.save(`done-${i}`, { status: 'active' }, 0);
      await store.save(`done-${i}`, { status: 'done' }, 1);
    }
    expect(store.size()).toBe(100);
    now = 99;
    expect(store.sweep()).toBe(0);
    now = 100;
    // Never read again, the ended ones go all the same.
    expect(store.sweep()).toBe(50);
    expect(store.size()).toBe(50);
    now = 999;
    await store.touch('live-0');
    now = 1_000;
    expect(store.sweep()).toBe(49);
    expect(await store.load('live-0')).toMatchObject({ version: 1 });
    now = 2_000;
    expect(store.sweep()).toBe(1);
    expect(store.size()).toBe(0);
  });

  it('sweeps on its own timer', async () => {
    const store = createMemoryStore({ endedTtlMs: 1, sweepMs: 10 });
    await store.save('a', { status: 'done' }, 0);
    const deadline = Date.now() + 3_000;
    while (store.size() > 0) {
      if (Date.now() > deadline) throw new Error('the sweep never freed the ended session');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await store.close();
  });

  it("bounds a long session's log by size, dropping only events its snapshot covers", async () => {
    const store = createMemoryStore({ maxLogChars: 2_000, sweepMs: 0 });
    const pad = 'x'.repeat(80);
    let version = 0;
    for (let i = 0; i < 100; i++) {
      ({ version } = await store.append('a', { type: 'x', atMs: i, pad }, version));
      // A snapshot every 10 events, as the manager saves them.
      if (i % 10 === 9) version = await store.save('a', { upTo: i }, version);
    }
    const kept = await store.readEvents('a');
    const chars = kept.reduce((n, e) => n + JSON.stringify(e.event).length, 0);
    expect(chars).toBeLessThanOrEqual(2_000);
    expect(kept.at(-1)?.event.atMs).toBe(99);
    // With no snapshot covering them, events are never dropped for size: a restore needs the whole tail.
    for (let i = 0; i < 40; i++)
      ({ version } = await store.append('a', { type: 'y', atMs: i, pad }, version));
    const loaded = await store.load('a');
    expect(loaded?.tail).toHaveLength(40);
    expect(loaded?.snapshot).toEqual({ upTo: 99 });
  });
});
