import { expect } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createEngine } from '../../engine/engine.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import { createSessionManager, type SessionManagerOptions } from '../../sessions/sessionManager.ts';
import type { DeliveredItem, SessionNotice, SessionService } from '../../sessions/sessionService.ts';
import type { SessionStore } from '../../sessions/sessionStore.ts';
import { smallCatalog } from '../engine/fixtures.ts';

/** Helpers for the session manager tests (memory and Redis). */

export const T0 = Date.UTC(2026, 0, 1, 20);
export const engine = createEngine({
  catalog: smallCatalog({ items: 400, artists: 40 }),
  scorer: createFallbackScorer(),
});
/** Every manager made by `manager()`; test files close them after each test. */
export const openManagers: SessionService[] = [];

/**
 * The service as a client over a socket sees it: each answer arrives after the event loop has turned, so the
 * work the manager leaves for after an answer (a refresh the call made due) has run, as it would have
 * between two requests from the network.
 */
export function overTheWire(service: SessionService): SessionService {
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const wrapped = { ...service };
  for (const name of ['start', 'resume', 'more', 'feedback', 'steer', 'pause', 'play', 'end'] as const) {
    const method = service[name] as (...args: unknown[]) => Promise<unknown>;
    (wrapped as Record<string, unknown>)[name] = (...args: unknown[]) => method(...args).finally(turn);
  }
  return wrapped;
}

/** A manager on its own simulated clock (memory store unless one is given), seen over the wire. */
export function manager(overrides: Partial<SessionManagerOptions> = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const store = overrides.store ?? createMemoryStore({ now: () => clock.now() });
  const service = overTheWire(
    createSessionManager({
      engine,
      store,
      clock,
      randomSeed: () => 42,
      ...overrides,
    }),
  );
  openManagers.push(service);
  return { service, store, clock };
}

/** Resolves with the first notice, or rejects after `ms` of real time. */
export function nextNotice(service: SessionService, sessionId: string, ms = 5_000): Promise<SessionNotice> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no notice')), ms);
    const off = service.subscribe(sessionId, (notice) => {
      clearTimeout(timer);
      off();
      resolve(notice);
    });
  });
}

export const seqs = (items: DeliveredItem[]) => items.map((i) => i.seq);
export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** The code a call rejects with, or 'resolved'. */
export const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: { code?: string }) => err.code,
  );

/**
 * Two nodes on one store: stream on A, A dies without cleanup, the client resumes on B. Returns the session id.
 */
export async function continuesOnAnotherNode(storeFor: () => SessionStore) {
  const a = manager({ store: storeFor(), nodeId: 'A' });
  const b = manager({ store: storeFor(), nodeId: 'B' });
  const opened = await a.service.start({ connectionId: 'c1', seed: 9 });
  const sid = opened.sessionId;
  const seenOnA = [...(await a.service.more(sid, 'c1', 10)), ...(await a.service.more(sid, 'c1', 5))];
  const disliked = seenOnA[3];
  // The last call on A: once acknowledged it must survive A.
  const { invalidated } = await a.service.feedback(sid, 'c1', { type: 'disliked', seq: disliked.seq });
  const kept = seenOnA.filter((d) => !invalidated.includes(d.seq));
  // Node A dies here: no disconnect, no close.
  const resumed = await b.service.resume({
    connectionId: 'c2',
    sessionId: sid,
    resumeToken: opened.resumeToken,
    lastSeq: 13,
  });
  expect(resumed.lastSeq).toBe(15);
  expect(resumed.missed).toEqual(kept.filter((d) => d.seq > 13));
  const onB = await b.service.more(sid, 'c2', 20);
  expect(seqs(onB)).toEqual(range(16, 35));
  const ids = [...kept, ...onB].map((d) => d.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(onB.map((d) => d.id)).not.toContain(disliked.id);
  // The acknowledged dislike is in the state B restored and saved.
  const stored = (await storeFor().load(sid))!.snapshot as { context: { engine: { dislikedIds: string[] } } };
  expect(stored.context.engine.dislikedIds).toContain(disliked.id);
  // A still holds its old copy: its old connection's next call finds the session taken over.
  expect(await code(a.service.more(sid, 'c1', 1))).toBe('SESSION_TAKEN_OVER');
  return sid;
}

/** Resolves once `store` has appended an event of `type` (wait on this instead of sleeping). */
export function appended(store: SessionStore, type: string): Promise<void> {
  const append = store.append.bind(store);
  return new Promise((resolve) => {
    store.append = async (sessionId, event, expected) => {
      const out = await append(sessionId, event, expected);
      if (event.type === type) {
        store.append = append;
        resolve();
      }
      return out;
    };
  });
}

/** Resolves once `store` has finished its next `save` (whether it succeeded or not). */
export function saved(store: SessionStore): Promise<void> {
  const save = store.save.bind(store);
  return new Promise((resolve) => {
    store.save = (sessionId, snapshot, expected) => {
      store.save = save;
      const out = save(sessionId, snapshot, expected);
      void out.then(
        () => resolve(),
        () => resolve(),
      );
      return out;
    };
  });
}
