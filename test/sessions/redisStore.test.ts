import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../sessions/redisStore.ts';
import { registerStoreContract } from './storeContract.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `omakase-test-${randomUUID()}`;
const admin = new Redis(url);

afterAll(async () => {
  // Only this suite's keys: the prefix is unique to this run.
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

registerStoreContract('redis', (options) => createRedisStore({ ...options, url, prefix }));

describe('createRedisStore', () => {
  it('writes the snapshot under a hash-tagged key with a TTL refreshed by save, append and touch', async () => {
    const store = createRedisStore({ url, prefix, ttlMs: 60_000 });
    const id = `s-${randomUUID()}`;
    try {
      await store.save(id, { n: 1 }, 0);
      await store.append(id, { type: 'x', atMs: 1 }, 1);
      const snapKey = `${prefix}:{${id}}:snap`;
      const logKey = `${prefix}:{${id}}:log`;
      expect(await admin.hget(snapKey, 'v')).toBe('2');
      expect(await admin.xlen(logKey)).toBe(1);
      await admin.pexpire(snapKey, 10_000);
      await store.touch(id);
      expect(await admin.pttl(snapKey)).toBeGreaterThan(10_000);
      await admin.pexpire(snapKey, 10_000);
      await store.save(id, { n: 2 }, 2);
      expect(await admin.pttl(snapKey)).toBeGreaterThan(10_000);
      expect(await admin.pttl(logKey)).toBeGreaterThan(10_000);
    } finally {
      await store.delete(id);
      await store.close();
    }
  });

  it('reports an unreachable Redis as SESSION_STORE_UNAVAILABLE (retryable)', async () => {
    // Port 1 on loopback refuses connections at once.
    const store = createRedisStore({ url: 'redis://127.0.0.1:1', prefix });
    const err = await store.load('nobody').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SESSION_STORE_UNAVAILABLE', details: { retryable: true } });
    await store.close();
  });
});
