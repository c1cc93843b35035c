/**
 * Where a served item's CPU goes below the socket, on the demo engine (`npm start`'s catalog and model):
 *   1. the engine: ms per decision (`engine.score`, with feedback between decisions) and µs per pick from
 *      its pool (`engine.pick`, n = 1 after a feedback);
 *   2. the session machine alone: µs per `user.feedback` event and per `feed.more` of 1 sent to a live actor;
 *   3. the session manager with the memory store, no sockets: 200 sessions each asking for 10 items and
 *      sending feedback on every one; items per CPU-second, and per item the engine decisions, snapshot
 *      saves and log appends it cost;
 *   4. long sessions through the manager: 20 sessions of 5,000 items each, one at a time with feedback on
 *      every one (a skip or a dislike now and then), CPU per item for each 1,000 items of the sessions' age.
 * Last line: one JSON object.
 *
 *   npm run bench:sessions     (BENCH_SESSIONS_ROUNDS overrides the rounds of part 3, BENCH_LONG_ITEMS
 *                               the length of part 4; BENCH_SESSIONS_REDIS_URL runs part 4 on Redis)
 */

import { createActor } from 'xstate';
import { loadRuntime } from '../adapters/runtime.ts';
import type { Engine } from '../engine/engine.ts';
import type { SessionState } from '../engine/session.ts';
import { createMemoryStore } from '../sessions/memoryStore.ts';
import { createRedisStore } from '../sessions/redisStore.ts';
import { createSessionMachine, type SessionEvent, type SessionReply } from '../sessions/sessionMachine.ts';
import { createSessionManager } from '../sessions/sessionManager.ts';

const ROUNDS = Number(process.env.BENCH_SESSIONS_ROUNDS ?? 10);
const SESSIONS = 200;
const T0 = Date.UTC(2026, 0, 1, 20);
const log = (m: string): void => void process.stdout.write(`${m}\n`);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const turn = () => new Promise((resolve) => setImmediate(resolve));

const { engine } = await loadRuntime();

/** Part 1: ms per decision and µs per pick, with completed/skipped feedback on every pick before the next. */
async function engineCost(): Promise<{ decisionMs: number; pickUs: number }> {
  const decisions: number[] = [];
  const picks: number[] = [];
  for (let s = 0; s < 40; s++) {
    let state: SessionState = engine.start({ seed: s });
    let now = T0;
    for (let d = 0; d < 12; d++) {
      const t = performance.now();
      const scored = await engine.score(state, { nowMs: now });
      if (d > 1) decisions.push(performance.now() - t); // the first two have no feedback yet
      state = scored.state;
      for (let i = 0; i < 10; i++) {
        const t1 = performance.now();
        const out = engine.pick(state, scored.pool, { n: 1, nowMs: now });
        if (d > 1) picks.push(performance.now() - t1);
        const pick = out.picks[0];
        if (!pick) break;
        now += pick.durationMs;
        const feedback =
          i % 4 === 3
            ? { type: 'skipped' as const, pos: pick.pos, atMs: 20_000 }
            : { type: 'completed' as const, pos: pick.pos };
        state = engine.feedback(out.state, feedback, now).state;
      }
    }
  }
  return { decisionMs: mean(decisions), pickUs: mean(picks) * 1000 };
}

/** Part 2: µs per feedback event and per `feed.more` of 1 on the machine alone (no manager, no store). */
async function machineCost(): Promise<{ feedbackUs: number; moreUs: number }> {
  const machine = createSessionMachine({ engine, now: () => T0 });
  const settings = { graceMs: 120_000, idleMs: 1_800_000, maxMore: 50, historyWindow: 100 };
  const feedbackTimes: number[] = [];
  const moreTimes: number[] = [];
  let reqId = 0;
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((resolve) => setImmediate(resolve));
  };
  for (let s = 0; s < 100; s++) {
    const actor = createActor(machine, {
      input: { sessionId: `s${s}`, owner: 'c', principal: null, tokenHash: 'h', settings, nowMs: T0 },
    });
    const replies = new Map<number, SessionReply>();
    actor.on('session.reply', ({ reply }) => replies.set(reply.reqId, reply));
    actor.start();
    actor.send({ type: 'user.start', seed: s, reqId: ++reqId, nowMs: T0 });
    for (let r = 0; r < 40; r++) {
      // One at a time, as a voice client asks; a decision runs now and then (waited for, not timed).
      await until(() => !actor.getSnapshot().matches({ active: { feed: 'scoring' } }));
      const more = ++reqId;
      const t = performance.now();
      actor.send({ type: 'feed.more', n: 1, reqId: more, nowMs: T0 });
      const elapsed = performance.now() - t;
      await until(() => replies.has(more));
      if (elapsed < 1 && r > 0) moreTimes.push(elapsed);
      const reply = replies.get(more)!;
      const seq = reply.ok ? reply.seqs[0] : undefined;
      if (seq === undefined) continue;
      const event: SessionEvent = {
        type: 'user.feedback',
        feedback: r % 5 === 4 ? { type: 'skipped', seq, atMs: 40_000 } : { type: 'completed', seq },
        reqId: ++reqId,
        nowMs: T0,
      };
      const t1 = performance.now();
      actor.send(event);
      feedbackTimes.push(performance.now() - t1);
    }
    actor.stop();
  }
  return { feedbackUs: mean(feedbackTimes) * 1000, moreUs: mean(moreTimes) * 1000 };
}

/** Part 3: the manager over the memory store, no sockets. */
async function managerCost() {
  const counts = { decisions: 0, saves: 0, appends: 0 };
  const counting: Engine = {
    ...engine,
    score: (state, options) => {
      counts.decisions++;
      return engine.score(state, options);
    },
  };
  const store = createMemoryStore();
  const { save, append } = store;
  store.save = (...args) => {
    counts.saves++;
    return save(...args);
  };
  store.append = (...args) => {
    counts.appends++;
    return append(...args);
  };
  const service = createSessionManager({ engine: counting, store });
  const ids: string[] = [];
  for (let s = 0; s < SESSIONS; s++)
    ids.push((await service.start({ connectionId: `c${s}`, seed: s })).sessionId);
  await new Promise((resolve) => setTimeout(resolve, 500));
  counts.decisions = counts.saves = counts.appends = 0;
  const cpu0 = process.cpuUsage();
  let items = 0;
  await Promise.all(
    ids.map(async (id, s) => {
      for (let r = 0; r < ROUNDS; r++) {
        // A client's next request arrives as I/O, after the event loop has turned: a decision that became
        // due lands in between, as it does over a socket (an in-process loop of awaits never lets it land).
        await turn();
        const got = await service.more(id, `c${s}`, 10);
        items += got.length;
        for (const item of got) await service.feedback(id, `c${s}`, { type: 'completed', seq: item.seq });
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  await service.close();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    items,
    itemsPerCpuSecond: Math.round(items / cpuSeconds),
    cpuUsPerItem: Math.round((cpuSeconds / items) * 1e6),
    decisionsPerItem: counts.decisions / items,
    snapshotsPerItem: counts.saves / items,
    appendsPerItem: counts.appends / items,
  };
}

/** Part 4: long sessions through the manager, CPU per item for each 1,000 items of the sessions' age. */
async function longSessions(items: number, sessions = 20) {
  const redisUrl = process.env.BENCH_SESSIONS_REDIS_URL;
  const store = redisUrl
    ? createRedisStore({ url: redisUrl, prefix: `omakase-bench-${process.pid}` })
    : createMemoryStore();
  const service = createSessionManager({ engine, store, idleMs: 24 * 3600_000 });
  const ids: string[] = [];
  for (let s = 0; s < sessions; s++)
    ids.push((await service.start({ connectionId: `c${s}`, seed: 1000 + s })).sessionId);
  const bucket = 1_000;
  const cpuPerItemUs: number[] = [];
  for (let done = 0; done < items; done += bucket) {
    const cpu0 = process.cpuUsage();
    await Promise.all(
      ids.map(async (id, s) => {
        for (let k = 0; k < bucket; k++) {
          await turn();
          const [item] = await service.more(id, `c${s}`, 1);
          if (!item) throw new Error(`session ${s} ran dry after ${done + k} items`);
          const r = (done + k + s * 7) % 20;
          const feedback =
            r === 0
              ? { type: 'disliked' as const, seq: item.seq }
              : r < 4
                ? { type: 'skipped' as const, seq: item.seq, atMs: r === 1 ? 4_000 : 70_000 }
                : { type: 'completed' as const, seq: item.seq };
          await service.feedback(id, `c${s}`, feedback);
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    cpuPerItemUs.push(Math.round((cpu.user + cpu.system) / (bucket * sessions)));
  }
  await service.close();
  for (const id of ids) await store.delete(id);
  await store.close();
  return {
    store: redisUrl ? 'redis' : 'memory',
    sessions,
    items,
    bucket,
    cpuPerItemUs,
    lastOverFirst: Number((cpuPerItemUs[cpuPerItemUs.length - 1]! / cpuPerItemUs[0]!).toFixed(3)),
  };
}

await engineCost(); // warm-up: the first calls compile the hot paths
const engineUs = await engineCost();
log(
  `engine, feedback on every pick: ${engineUs.decisionMs.toFixed(2)} ms per decision (a scored pool of 500), ${engineUs.pickUs.toFixed(1)} µs per pick from it`,
);
const machine = await machineCost();
log(
  `session machine alone: ${machine.feedbackUs.toFixed(1)} µs per feedback event, ${machine.moreUs.toFixed(1)} µs per more of 1 served from the pool`,
);
const manager = await managerCost();
log(
  `session manager + memory store, no sockets: ${manager.itemsPerCpuSecond} items per CPU-second (${manager.cpuUsPerItem} µs each); per item ${manager.decisionsPerItem.toFixed(3)} engine decisions, ${manager.snapshotsPerItem.toFixed(3)} snapshots, ${manager.appendsPerItem.toFixed(2)} log appends`,
);
const long = await longSessions(Number(process.env.BENCH_LONG_ITEMS ?? 5_000));
log(
  `${long.sessions} sessions of ${long.items} items on the ${long.store} store: ${long.cpuPerItemUs.map((us) => `${us} µs`).join(', ')} CPU per item for each ${long.bucket}; last / first ${long.lastOverFirst}`,
);
log(
  JSON.stringify({
    bench: 'sessions',
    model: engine.modelId,
    catalog: engine.catalog.size,
    engine: engineUs,
    machine,
    manager,
    long,
  }),
);
process.exit(0);
