import { afterEach, describe, expect, it } from 'vitest';
import { fromLoggedPool, type LoggedPool, loggedPoolReader } from '../../sessions/sessionLog.ts';
import { openManagers } from './managerFixtures.ts';
import { catalog, livedSession } from './replayFixtures.ts';

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

const poolsOf = async () =>
  (await livedSession()).events.filter((e) => e.type === 'engine.pool').map((e) => e.pool as LoggedPool);

describe('loggedPoolReader', () => {
  it('reads every pool as fromLoggedPool does, whether its ids were looked up up front or not', async () => {
    const pools = await poolsOf();
    expect(pools.length).toBeGreaterThan(2);
    const upFront = loggedPoolReader(catalog, pools);
    const asRead = loggedPoolReader(catalog);
    for (const pool of pools) {
      const want = fromLoggedPool(pool, catalog);
      expect(upFront(pool)).toEqual(want);
      expect(asRead(pool)).toEqual(want);
    }
    // A pool read again gets an array of its own.
    expect(upFront(pools[0]).items).not.toBe(upFront(pools[0]).items);
  });

  it('fails on an id the catalog lacks when that pool is read, not when the reader is made', async () => {
    const pools = structuredClone(await poolsOf());
    pools[1].ids[3] = 'not-in-the-catalog';
    const read = loggedPoolReader(catalog, pools);
    expect(read(pools[0]).items.length).toBe(pools[0].ids.length);
    expect(() => read(pools[1])).toThrowError(
      expect.objectContaining({
        code: 'SESSION_INVALID_REQUEST',
        message: expect.stringContaining('not-in-the-catalog'),
      }),
    );
    expect(read(pools[2]).items.length).toBe(pools[2].ids.length);
  });
});
