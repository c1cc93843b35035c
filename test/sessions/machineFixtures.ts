import { expect } from 'vitest';
import { createActor, SimulatedClock, type SnapshotFrom, waitFor } from 'xstate';
import {
  createSessionMachine,
  type SessionEmitted,
  type SessionEvent,
  type SessionInput,
  type SessionMachine,
  type SessionReply,
} from '../../sessions/sessionMachine.ts';
import { fakeEngine } from './fakeEngine.ts';

/** Helpers for the session machine tests (sessionMachine*.test.ts): live actors on a simulated clock. */

export const T0 = Date.UTC(2026, 0, 1, 20);
export const settings = { historyWindow: 50, maxMore: 10, graceMs: 120_000, idleMs: 600_000 };
export const input: SessionInput = {
  sessionId: 's1',
  owner: 'c1',
  principal: null,
  tokenHash: 'h1',
  settings,
  nowMs: T0,
};
export type Snap = SnapshotFrom<SessionMachine>;
export type Command = Record<string, unknown> & { type: string };

let reqId = 0;
/** The next request id; a test that sends to `actor` directly takes one here, so it never repeats one. */
export const nextReqId = () => ++reqId;

/**
 * A live actor on a simulated clock over the real engine (see fakeEngine.ts). `send` sends a command and
 * returns its reply if it was given synchronously (undefined: it waits); `command` waits for the reply.
 */
export function live(
  options: { snapshot?: Snap; clock?: SimulatedClock; fake?: ReturnType<typeof fakeEngine> } = {},
) {
  const clock = options.clock ?? new SimulatedClock();
  if (!options.clock) clock.set(T0);
  const fake = options.fake ?? fakeEngine();
  const machine = createSessionMachine({ engine: fake.engine, now: () => clock.now() });
  const actor = createActor(machine, { input, clock, snapshot: options.snapshot });
  const emitted: SessionEmitted[] = [];
  const replies = new Map<number, SessionReply>();
  const waiting = new Map<number, (r: SessionReply) => void>();
  actor.on('*', (e) => {
    emitted.push(e);
    if (e.type !== 'session.reply') return;
    const w = waiting.get(e.reply.reqId);
    if (w) {
      waiting.delete(e.reply.reqId);
      w(e.reply);
    } else replies.set(e.reply.reqId, e.reply);
  });
  actor.start();
  const send = (event: Command): { id: number; reply: SessionReply | undefined } => {
    const id = nextReqId();
    actor.send({ ...event, reqId: id, nowMs: clock.now() } as SessionEvent);
    return { id, reply: replies.get(id) };
  };
  const answer = (id: number) =>
    new Promise<SessionReply>((resolve, reject) => {
      const now = replies.get(id);
      if (now) return resolve(now);
      const timer = setTimeout(() => reject(new Error(`no reply to ${id}`)), 2000);
      waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  const command = async (event: Command) => answer(send(event).id);
  const settled = () =>
    waitFor(actor, (s) => s.status !== 'active' || !s.matches({ active: { feed: 'scoring' } }), {
      timeout: 2000,
    });
  const items = (r: SessionReply | undefined) => {
    if (!r?.ok) throw new Error(r ? r.message : 'no reply');
    return r.seqs.map((seq) => actor.getSnapshot().context.delivered.find((d) => d.seq === seq)!);
  };
  const ctx = () => actor.getSnapshot().context;
  return { actor, clock, fake, emitted, send, answer, command, settled, items, ctx };
}
export type Live = ReturnType<typeof live>;

export async function started(s: Live, seed = 7) {
  expect(await s.command({ type: 'user.start', seed })).toMatchObject({ ok: true });
  await s.settled();
  return s;
}
