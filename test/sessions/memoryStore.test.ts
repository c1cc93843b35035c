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
});
