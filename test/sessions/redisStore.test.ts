import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../sessions/redisStore.ts';
import { missing } from '../requirements.ts';
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

/** Seed nodes of a Redis Cluster (.ci/run starts three masters and sets this). */
const clusterNodes = process.env.OMAKASE_REDIS_CLUSTER?.split(',').filter(Boolean);
describe.skipIf(missing(clusterNodes !== undefined))(
  'on a Redis Cluster (skips without OMAKASE_REDIS_CLUSTER; .ci/run starts one)',
  () => {
    registerStoreContract('redis cluster', (options) =>
      createRedisStore({ ...options, cluster: clusterNodes, prefix }),
    );

    it('spreads sessions over the masters, each session whole on one', async () => {
      const store = createRedisStore({ cluster: clusterNodes, prefix });
      const ids = Array.from({ length: 30 }, () => `s-${randomUUID()}`);
      try {
        for (const id of ids) {
          await store.save(id, { n: 1 }, 0);
          await store.append(id, { type: 'x', atMs: 1 }, 1);
          expect(await store.load(id)).toMatchObject({ version: 2, tail: [{ event: { type: 'x' } }] });
        }
        // Each seed node is a master (.ci/run makes three, no replicas): count this suite's keys on each.
        const perMaster = await Promise.all(
          clusterNodes!.map(async (node) => {
            const admin = new Redis(`redis://${node}`);
            try {
              return (await admin.keys(`${prefix}:*:snap`)).length;
            } finally {
              admin.disconnect();
            }
          }),
        );
        expect(perMaster.length).toBe(3);
        expect(perMaster.reduce((a, b) => a + b, 0)).toBe(30);
        expect(perMaster.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
      } finally {
        for (const id of ids) await store.delete(id);
        await store.close();
      }
    });
  },
);

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

  it('bounds every call by commandTimeoutMs against a Redis that accepts and never answers, and says nothing of ioredis', async () => {
    // A frozen Redis: the TCP handshake completes (the kernel does it), no reply ever comes.
    const sockets: Socket[] = [];
    const frozen = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => frozen.listen(0, '127.0.0.1', resolve));
    const port = (frozen.address() as { port: number }).port;
    const failures: string[] = [];
    const store = createRedisStore({
      url: `redis://127.0.0.1:${port}`,
      prefix,
      commandTimeoutMs: 200,
      onFailure: (what, err) => failures.push(`${what}: ${err.message}`),
    });
    try {
      const started = Date.now();
      const err = (await store.save('s', { n: 1 }, 0).catch((e: unknown) => e)) as {
        code: string;
        message: string;
        details: Record<string, unknown>;
      };
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(err).toMatchObject({
        code: 'SESSION_STORE_UNAVAILABLE',
        details: { retryable: true, timedOut: true },
      });
      expect(err.message).toBe('The session store did not answer in time during save; retry shortly.');
      expect(err.message).not.toMatch(/127\.0\.0\.1|Command|ioredis|EVALSHA/i);
      expect(failures).toEqual(['save: Command timed out']);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      frozen.close();
    }
  });
});
