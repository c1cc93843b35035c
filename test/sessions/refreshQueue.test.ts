import { describe, expect, it } from 'vitest';
import { RefreshQueue, type RefreshRun } from '../../sessions/refreshQueue.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock the test moves, and work that "takes" `ms` of it synchronously. */
function clock() {
  let t = 1_000;
  return {
    now: () => t,
    pass: (ms: number) => {
      t += ms;
    },
  };
}

describe('RefreshQueue', () => {
  it('grants in arrival order, in a later turn than asked, and a refresh runs once', async () => {
    const queue = new RefreshQueue();
    const order: number[] = [];
    const runs: RefreshRun[] = [];
    for (let i = 0; i < 3; i++)
      void queue.acquire().then((run) => {
        order.push(i);
        runs.push(run!);
      });
    expect(order).toEqual([]);
    await turn();
    await turn();
    expect(order).toEqual([0, 1, 2]);
    expect(await runs[0](async () => 'done')).toBe('done');
    await expect(runs[0](async () => 'again')).rejects.toThrow(/once/);
  });

  it('a turn grants about as much refresh work as the rest of the node did since the last grant', async () => {
    const c = clock();
    const queue = new RefreshQueue({ now: c.now, minTurnMs: 4, maxTurnMs: 100 });
    const granted: RefreshRun[] = [];
    const ask = (n: number) => {
      for (let i = 0; i < n; i++) void queue.acquire().then((run) => granted.push(run!));
    };
    ask(40);
    await turn();
    // The first turn has nothing to measure: the smallest budget, 4 ms at the assumed 2 ms a refresh.
    expect(granted).toHaveLength(2);
    // Each granted refresh takes 2 ms of synchronous work; the rest of the node then takes 20 ms.
    for (const run of granted.splice(0)) void run(async () => c.pass(2));
    c.pass(20);
    await turn();
    expect(granted).toHaveLength(10);
    for (const run of granted.splice(0)) void run(async () => c.pass(2));
    // A loop turn of 1 s of other work still grants at most 100 ms of refreshes.
    c.pass(1_000);
    await turn();
    expect(granted).toHaveLength(28);
  });

  it('keeps at most `concurrency` in flight, and grants the next when one settles', async () => {
    const queue = new RefreshQueue({ concurrency: 2 });
    const granted: RefreshRun[] = [];
    for (let i = 0; i < 3; i++) void queue.acquire().then((run) => granted.push(run!));
    await turn();
    await turn();
    expect(granted).toHaveLength(2);
    let finish!: () => void;
    const held = granted[0](() => new Promise<void>((resolve) => (finish = resolve)));
    await turn();
    await turn();
    expect(granted).toHaveLength(2);
    finish();
    await held;
    await turn();
    expect(granted).toHaveLength(3);
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
    await first!(async () => {});
    expect(typeof (await third)).toBe('function');
    expect(await queue.acquire(AbortSignal.abort())).toBeUndefined();
  });

  it('says how long the first in line has waited, and how long each granted one did', async () => {
    const c = clock();
    const waited: number[] = [];
    const queue = new RefreshQueue({ concurrency: 1, now: c.now, onGrant: (ms) => waited.push(ms) });
    expect(queue.oldestWaitMs()).toBe(0);
    const held = await queue.acquire();
    const next = queue.acquire();
    c.pass(250);
    expect(queue.oldestWaitMs()).toBe(250);
    await held!(async () => {});
    await next;
    expect(waited).toEqual([0, 250]);
  });
});
