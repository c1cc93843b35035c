/**
 * Where a served item's CPU goes below the socket, on the demo engine (`npm start`'s catalog and model):
 *   1. `engine.next` on sessions that give feedback between decisions (n = 10 and 20), one call at a time;
 *   2. the session machine alone: µs per `user.feedback` event sent to a live actor;
 *   3. the session manager with the memory store, no sockets: 200 sessions each asking for 10 items and
 *      sending feedback on every one; items per CPU-second, and per item the engine decisions, snapshot
 *      saves and log appends it cost.
 * Last line: one JSON object.
 *
 *   npm run bench:sessions     (BENCH_SESSIONS_ROUNDS overrides the rounds of part 3)
 */
import { createActor } from 'xstate';
import { loadRuntime } from '../adapters/runtime.ts';
import type { Engine } from '../engine/engine.ts';
import type { SessionState } from '../engine/session.ts';
import { createMemoryStore } from '../sessions/memoryStore.ts';
import { createSessionMachine, type SessionEvent } from '../sessions/sessionMachine.ts';
import { createSessionManager } from '../sessions/sessionManager.ts';

const ROUNDS = Number(process.env.BENCH_SESSIONS_ROUNDS ?? 10);
const SESSIONS = 200;
const T0 = Date.UTC(2026, 0, 1, 20);
const log = (m: string): void => void process.stdout.write(`${m}\n`);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

const { engine } = await loadRuntime();

/** Part 1: ms per `engine.next`, with completed/skipped feedback on each decision's picks before the next. */
async function engineCost(n: number): Promise<number> {
  const times: number[] = [];
  for (let s = 0; s < 40; s++) {
    let state: SessionState = engine.start({ seed: s });
    let now = T0;
    for (let d = 0; d < 12; d++) {
      const t = performance.now();
      const out = await engine.next(state, { n, nowMs: now });
      if (d > 1) times.push(performance.now() - t); // the first two have no feedback yet
      state = out.state;
      const withdrawn = new Set<number>();
      for (const [i, pick] of out.picks.entries()) {
        now += pick.durationMs;
        // An early skip withdraws the artist's other queued picks: those get no feedback.
        if (withdrawn.has(pick.pos)) continue;
        const feedback =
          i % 4 === 3
            ? { type: 'skipped' as const, pos: pick.pos, atMs: 20_000 }
            : { type: 'completed' as const, pos: pick.pos };
        const update = engine.feedback(state, feedback, now);
        state = update.state;
        for (const pos of update.withdrawn) withdrawn.add(pos);
      }
    }
  }
  return mean(times);
}

/** Part 2: µs per feedback event on the machine alone (no manager, no store). */
async function machineCost(): Promise<number> {
  const machine = createSessionMachine({ engine, now: () => T0 });
  const settings = { lookahead: 20, graceMs: 120_000, idleMs: 1_800_000, maxMore: 50, historyWindow: 100 };
  const times: number[] = [];
  let reqId = 0;
  for (let s = 0; s < 100; s++) {
    const actor = createActor(machine, {
      input: { sessionId: `s${s}`, owner: 'c', tokenHash: 'h', settings, nowMs: T0 },
    });
    actor.start();
    actor.send({ type: 'user.start', seed: s, reqId: ++reqId, nowMs: T0 });
    for (let r = 0; r < 4; r++) {
      // Take 10 (held until a refill covers them), then send feedback on each.
      const more = ++reqId;
      actor.send({ type: 'feed.more', n: 10, reqId: more, nowMs: T0 });
      while (actor.getSnapshot().context.reply?.reqId !== more)
        await new Promise((resolve) => setImmediate(resolve));
      const reply = actor.getSnapshot().context.reply;
      const seqs = reply?.ok ? reply.seqs : [];
      while (actor.getSnapshot().matches({ active: { feed: 'refilling' } }))
        await new Promise((resolve) => setImmediate(resolve));
      for (const seq of seqs) {
        const event: SessionEvent = {
          type: 'user.feedback',
          feedback: { type: 'completed', seq },
          reqId: ++reqId,
          nowMs: T0,
        };
        const t = performance.now();
        actor.send(event);
        times.push(performance.now() - t);
      }
    }
    actor.stop();
  }
  return mean(times) * 1000;
}

/** Part 3: the manager over the memory store, no sockets. */
async function managerCost() {
  const counts = { decisions: 0, saves: 0, appends: 0 };
  const counting: Engine = {
    ...engine,
    next: (state, options) => {
      counts.decisions++;
      return engine.next(state, options);
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

await engineCost(10); // warm-up: the first calls compile the hot paths
const next10 = await engineCost(10);
const next20 = await engineCost(20);
log(
  `engine.next with feedback between decisions: ${next10.toFixed(2)} ms for 10 picks, ${next20.toFixed(2)} ms for 20`,
);
const machineUs = await machineCost();
log(`session machine alone: ${machineUs.toFixed(1)} µs per feedback event`);
const manager = await managerCost();
log(
  `session manager + memory store, no sockets: ${manager.itemsPerCpuSecond} items per CPU-second (${manager.cpuUsPerItem} µs each); per item ${manager.decisionsPerItem.toFixed(3)} engine decisions, ${manager.snapshotsPerItem.toFixed(3)} snapshots, ${manager.appendsPerItem.toFixed(2)} log appends`,
);
log(
  JSON.stringify({
    bench: 'sessions',
    model: engine.modelId,
    catalog: engine.catalog.size,
    engineNextMs: { n10: next10, n20: next20 },
    machineUsPerFeedback: machineUs,
    manager,
  }),
);
process.exit(0);
