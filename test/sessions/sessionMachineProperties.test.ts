import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, type SnapshotFrom, waitFor } from 'xstate';
import {
  createSessionMachine,
  type SessionEvent,
  type SessionMachine,
  type SessionReply,
} from '../../sessions/sessionMachine.ts';
import { fakeEngine } from './fakeEngine.ts';

const T0 = Date.UTC(2026, 0, 1, 20);
const settings = { lookahead: 5, historyWindow: 40, maxMore: 8, graceMs: 60_000, idleMs: 600_000 };

type Step =
  | { kind: 'more'; n: number }
  | { kind: 'feedback'; back: number; type: 'started' | 'completed' | 'liked' | 'disliked' | 'skipped' }
  | { kind: 'less-artist'; back: number }
  | { kind: 'pause' }
  | { kind: 'play' }
  | { kind: 'reconnect' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('more' as const), n: fc.integer({ min: 1, max: 8 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('feedback' as const),
      back: fc.nat(6),
      type: fc.constantFrom('started', 'completed', 'liked', 'disliked', 'skipped'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('less-artist' as const), back: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pause' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'play' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reconnect' as const }) },
);

/** Drives one session through `steps`, persisting it through JSON and restoring it before step `restoreAt`. */
async function play(steps: Step[], seed: number, restoreAt: number) {
  const fake = fakeEngine({ items: 200, artists: 12 });
  const clock = new SimulatedClock();
  clock.set(T0);
  const machine = createSessionMachine({ engine: fake.engine, now: () => clock.now() });
  const input = { sessionId: 's', owner: 'c', tokenHash: 'h', settings, nowMs: T0 };
  let actor = createActor(machine, { input, clock }).start();
  let reqId = 0;
  const send = async (event: Record<string, unknown> & { type: string }): Promise<SessionReply> => {
    const id = ++reqId;
    actor.send({ ...event, reqId: id, nowMs: clock.now() } as SessionEvent);
    const s = await waitFor(actor, (x) => x.context.reply?.reqId === id, { timeout: 2000 });
    await waitFor(actor, (x) => !x.matches({ active: { feed: 'refilling' } }), { timeout: 2000 });
    return (s as SnapshotFrom<SessionMachine>).context.reply!;
  };
  const trace: unknown[] = [];
  const delivered: { seq: number; id: string }[] = [];
  await send({ type: 'user.start', seed });
  for (const [i, s] of steps.entries()) {
    if (i === restoreAt) {
      const json = JSON.stringify(actor.getPersistedSnapshot());
      actor.stop();
      actor = createActor(machine, { snapshot: JSON.parse(json), clock, input }).start();
    }
    clock.increment(1_000);
    const ctx = actor.getSnapshot().context;
    const pickSeq = (back: number) =>
      ctx.delivered.at(-1 - (back % Math.max(1, ctx.delivered.length)))?.seq ?? 1;
    let r: SessionReply;
    if (s.kind === 'more') r = await send({ type: 'feed.more', n: s.n });
    else if (s.kind === 'feedback') {
      const seq = pickSeq(s.back);
      r = await send({
        type: 'user.feedback',
        feedback: s.type === 'skipped' ? { type: s.type, seq, atMs: 1_000 } : { type: s.type, seq },
      });
    } else if (s.kind === 'less-artist') {
      const artist = ctx.delivered.find((d) => d.seq === pickSeq(s.back))?.artist ?? 'A0';
      r = await send({ type: 'user.steer', steer: { kind: 'less-artist', artist } });
    } else if (s.kind === 'pause') r = await send({ type: 'user.pause' });
    else if (s.kind === 'play') r = await send({ type: 'user.play' });
    else {
      await send({ type: 'client.disconnected' });
      r = await send({ type: 'client.resumed', connectionId: 'c', tokenHash: 'h', lastSeq: ctx.lastSeq });
    }
    if (r.ok && s.kind === 'more') {
      for (const seq of r.seqs)
        delivered.push({ seq, id: actor.getSnapshot().context.delivered.find((d) => d.seq === seq)!.id });
    }
    trace.push(r.ok ? { ok: true, seqs: r.seqs, invalidated: r.invalidated } : { ok: false, code: r.code });
  }
  actor.stop();
  return { trace, delivered };
}

describe('session machine properties', () => {
  it('seqs rise by one, no item is delivered twice, and a persist/restore anywhere changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.integer(),
        fc.nat(25),
        async (steps, seed, at) => {
          const straight = await play(steps, seed, -1);
          const restored = await play(steps, seed, at % steps.length);
          expect(restored).toEqual(straight);
          expect(straight.delivered.map((d) => d.seq)).toEqual(straight.delivered.map((_, i) => i + 1));
          const ids = straight.delivered.map((d) => d.id);
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
      { numRuns: 60 },
    );
  });
});
