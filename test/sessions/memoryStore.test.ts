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
});
