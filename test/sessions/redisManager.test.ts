import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../sessions/redisStore.ts';
import type { SessionStore } from '../../sessions/sessionStore.ts';
import { continuesOnAnotherNode, openManagers } from './managerFixtures.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `omakase-test-${randomUUID()}`;
const stores: SessionStore[] = [];

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

afterAll(async () => {
  for (const store of stores) await store.close();
  // Only this suite's keys: the prefix is unique to this run.
  const admin = new Redis(url);
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

describe('two session managers sharing one Redis store (two nodes)', () => {
  it('a session streamed on A continues on B after A dies: no repeated seq or item, dislikes kept', async () => {
    const sid = await continuesOnAnotherNode(() => {
      const store = createRedisStore({ url, prefix });
      stores.push(store);
      return store;
    });
    // The snapshot and the log went to Redis, under the session's hash tag.
    const admin = new Redis(url);
    try {
      expect(await admin.exists(`${prefix}:{${sid}}:snap`, `${prefix}:{${sid}}:log`)).toBe(2);
      const nodes = (await admin.xrange(`${prefix}:{${sid}}:log`, '-', '+')).map(
        ([, fields]) => JSON.parse(fields[1]!).node,
      );
      expect(new Set(nodes)).toEqual(new Set(['A', 'B']));
    } finally {
      await admin.quit();
    }
  });
});
