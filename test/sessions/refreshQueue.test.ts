import { describe, expect, it } from 'vitest';
import { RefreshQueue } from '../../sessions/refreshQueue.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RefreshQueue', () => {
  it('grants at most `concurrency` at once, one a turn of the event loop, in arrival order', async () => {
    const queue = new RefreshQueue({ concurrency: 2 });
    const granted: number[] = [];
    const releases: (() => void)[] = [];
    for (let i = 0; i < 4; i++)
      void queue.acquire().then((release) => {
        granted.push(i);
        releases.push(release!);
      });
    expect(granted).toEqual([]);
    expect(queue.length).toBe(4);
    await turn();
    expect(granted).toEqual([0]);
    await turn();
    expect(granted).toEqual([0, 1]);
    // Both running: the third waits for a release, however many turns pass.
    await turn();
    await turn();
    expect(granted).toEqual([0, 1]);
    expect(queue.length).toBe(2);
    releases[0]();
    releases[0](); // twice is once
    await turn();
    expect(granted).toEqual([0, 1, 2]);
    await turn();
    expect(granted).toEqual([0, 1, 2]);
    releases[1]();
    await turn();
    expect(granted).toEqual([0, 1, 2, 3]);
  });

  it('an aborted wait leaves the line with undefined and is never granted', async () => {
    const queue = new RefreshQueue({ concurrency: 1 });
    const first = await queue.acquire();
    const controller = new AbortController();
    const second = queue.acquire(controller.signal);
    const third = queue.acquire();
    controller.abort();
    expect(await second).toBeUndefined();
    expect(queue.length).toBe(1);
    first!();
    expect(typeof (await third)).toBe('function');
    expect(await queue.acquire(AbortSignal.abort())).toBeUndefined();
  });

  it('says how long the first in line has waited, and how long each granted one did', async () => {
    let now = 1_000;
    const waited: number[] = [];
    const queue = new RefreshQueue({ concurrency: 1, now: () => now, onGrant: (ms) => waited.push(ms) });
    expect(queue.oldestWaitMs()).toBe(0);
    const held = await queue.acquire();
    const next = queue.acquire();
    now = 1_250;
    expect(queue.oldestWaitMs()).toBe(250);
    held!();
    await next;
    expect(waited).toEqual([0, 250]);
  });
});
