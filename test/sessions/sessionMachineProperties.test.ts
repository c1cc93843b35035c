import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, waitFor } from 'xstate';
import { DEFAULT_CONFIG } from '../../engine/config.ts';
import { replaySession } from '../../sessions/replay.ts';
import { createSessionMachine, type SessionEvent, type SessionReply } from '../../sessions/sessionMachine.ts';
import { fakeEngine } from './fakeEngine.ts';
import { manager, openManagers } from './managerFixtures.ts';

const T0 = Date.UTC(2026, 0, 1, 20);
const settings = { historyWindow: 40, maxMore: 8, graceMs: 60_000, idleMs: 600_000 };
const fake = fakeEngine({ items: 240, artists: 24 });

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

type Step =
  | { kind: 'more'; n: number }
  | { kind: 'feedback'; back: number; type: 'started' | 'completed' | 'liked' | 'disliked' | 'skipped' }
  | { kind: 'less-artist'; back: number }
  | { kind: 'tag'; tag: string }
  | { kind: 'pause' }
  | { kind: 'play' }
  | { kind: 'reconnect' };

const more = fc.record({ kind: fc.constant('more' as const), n: fc.integer({ min: 1, max: 8 }) });
const feedback = (types: readonly ('started' | 'completed' | 'liked' | 'disliked' | 'skipped')[]) =>
  fc.record({ kind: fc.constant('feedback' as const), back: fc.nat(6), type: fc.constantFrom(...types) });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: more },
  { weight: 3, arbitrary: feedback(['started', 'completed', 'liked', 'disliked', 'skipped']) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('less-artist' as const), back: fc.nat(6) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('tag' as const), tag: fc.constantFrom('genre1', 'calm') }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'pause' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'play' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reconnect' as const }) },
);

/**
 * Drives one session machine through `steps` (each command's decision settled before the next), persisting
 * it through JSON and restoring it before step `restoreAt`.
 */
async function play(steps: Step[], seed: number, restoreAt: number) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const machine = createSessionMachine({ engine: fake.engine, now: () => clock.now() });
  const input = { sessionId: 's', owner: 'c', principal: null, tokenHash: 'h', settings, nowMs: T0 };
  let replies = new Map<number, SessionReply>();
  const open = (snapshot?: unknown) => {
    const a = createActor(machine, { input, clock, snapshot: snapshot as never });
    a.on('session.reply', ({ reply }) => replies.set(reply.reqId, reply));
    return a.start();
  };
  let actor = open();
  let reqId = 0;
  const send = async (event: Record<string, unknown> & { type: string }): Promise<SessionReply> => {
    const id = ++reqId;
    actor.send({ ...event, reqId: id, nowMs: clock.now() } as SessionEvent);
    await waitFor(actor, (x) => replies.has(id) && !x.matches({ active: { feed: 'scoring' } }), {
      timeout: 2000,
    });
    return replies.get(id)!;
  };
  const trace: unknown[] = [];
  const delivered: { seq: number; id: string; p: number }[] = [];
  await send({ type: 'user.start', seed });
  for (const [i, s] of steps.entries()) {
    if (i === restoreAt) {
      const json = JSON.stringify(actor.getPersistedSnapshot());
      actor.stop();
      replies = new Map();
      actor = open(JSON.parse(json));
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
      const artist = ctx.delivered.find((d) => d.seq === pickSeq(s.back))?.artist ?? 'Artist 0';
      r = await send({ type: 'user.steer', steer: { kind: 'less-artist', artist } });
    } else if (s.kind === 'tag') r = await send({ type: 'user.steer', steer: { kind: 'tag', tag: s.tag } });
    else if (s.kind === 'pause') r = await send({ type: 'user.pause' });
    else if (s.kind === 'play') r = await send({ type: 'user.play' });
    else {
      await send({ type: 'client.disconnected' });
      r = await send({ type: 'client.resumed', connectionId: 'c', tokenHash: 'h', lastSeq: ctx.lastSeq });
    }
    if (r.ok && s.kind === 'more') {
      for (const seq of r.seqs) {
        const d = actor.getSnapshot().context.delivered.find((x) => x.seq === seq)!;
        delivered.push({ seq, id: d.id, p: d.propensity });
      }
    }
    trace.push(r.ok ? { ok: true, seqs: r.seqs, invalidated: r.invalidated } : { ok: false, code: r.code });
  }
  const context = actor.getSnapshot().context;
  actor.stop();
  return { trace, delivered, context };
}

describe('session machine properties', () => {
  it('seqs rise by one, no item is delivered twice, and a persist/restore anywhere changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 20 }),
        fc.integer(),
        fc.nat(20),
        async (steps, seed, at) => {
          const straight = await play(steps, seed, -1);
          const restored = await play(steps, seed, at % steps.length);
          expect(restored).toEqual(straight);
          expect(straight.delivered.map((d) => d.seq)).toEqual(straight.delivered.map((_, i) => i + 1));
          // No item twice among those the listener keeps (a steer may withdraw one and offer it again).
          const invalidated = new Set(
            straight.trace.flatMap((t) => ((t as { invalidated?: number[] }).invalidated ?? []) as number[]),
          );
          const ids = straight.delivered.filter((d) => !invalidated.has(d.seq)).map((d) => d.id);
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('session manager properties', () => {
  const plain: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: more },
    { weight: 3, arbitrary: feedback(['started', 'completed', 'disliked', 'skipped']) },
  );

  /** A session through the real manager (memory store): what it delivered, and each dislike's block. */
  async function serve(steps: Step[], seed: number) {
    const { service, store, clock } = manager({ engine: fake.engine });
    const { sessionId: sid } = await service.start({ connectionId: 'c', seed });
    const delivered: { pos: number; artist: string; id: string }[] = [];
    const blocks: { artist: string; fromPos: number; untilPos: number }[] = [];
    for (const s of steps) {
      clock.increment(1_000);
      if (s.kind === 'more') {
        for (const d of await service.more(sid, 'c', s.n))
          delivered.push({ pos: d.pos, artist: d.artist, id: d.id });
      } else if (s.kind === 'feedback' && delivered.length > 0) {
        const target = delivered.at(-1 - (s.back % delivered.length))!;
        const seq = delivered.indexOf(target) + 1;
        const fb = s.type === 'skipped' ? { type: s.type, seq, atMs: 1_000 } : { type: s.type, seq };
        const accepted = await service.feedback(sid, 'c', fb as never).then(
          () => true,
          (err: { code?: string }) => {
            // Feedback on a pick a dislike or an early skip withdrew is refused; nothing else may fail.
            if (err.code !== 'SESSION_UNKNOWN_SEQ') throw err;
            return false;
          },
        );
        if (accepted && s.type === 'disliked') {
          // The engine's rule: the artist stays out for `blockAfterDislike` picks after the later of the
          // disliked pick and the next position (positions are consecutive: every pick is delivered).
          const nextPos = delivered.length;
          const untilPos = Math.max(nextPos, target.pos + 1) + DEFAULT_CONFIG.blockAfterDislike;
          blocks.push({ artist: target.artist, fromPos: nextPos, untilPos });
        }
      }
    }
    const events = (await store.readEvents(sid)).map((e) => e.event);
    return { delivered, blocks, events };
  }

  it('for any seed and feedback, no pick after a dislike is by that artist within the block window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(plain, { maxLength: 14 }),
        fc.nat(7),
        fc.integer(),
        async (middle, back, seed) => {
          // At least one dislike, with picks before it and after it.
          const steps: Step[] = [
            { kind: 'more', n: 8 },
            { kind: 'feedback', back, type: 'disliked' },
            ...middle,
            { kind: 'more', n: 8 },
          ];
          const { delivered, blocks } = await serve(steps, seed);
          expect(blocks.length).toBeGreaterThan(0);
          expect(delivered.filter((d) => d.pos >= blocks[0]!.fromPos).length).toBeGreaterThan(0);
          for (const b of blocks) {
            const inWindow = delivered.filter((d) => d.pos >= b.fromPos && d.pos < b.untilPos);
            expect(inWindow.map((d) => d.artist)).not.toContain(b.artist);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('replaying the log of any session reproduces every pick', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 16 }), fc.integer(), async (steps, seed) => {
        const { delivered, events } = await serve(
          steps.filter((s) => s.kind === 'more' || s.kind === 'feedback'),
          seed,
        );
        const report = await replaySession(events, fake.engine);
        expect(report).toMatchObject({ ok: true, diverged: 0, commandMismatches: [] });
        const deliveries = events.filter(
          (e) => (e.type === 'feed.more' && Array.isArray(e.ids)) || (e.type === 'engine.pool' && e.answered),
        );
        expect(report.exact).toBe(deliveries.length);
        const logged = deliveries.flatMap(
          (e) => (e.type === 'feed.more' ? e.ids : (e.answered as { ids: string[] }).ids) as string[],
        );
        expect(logged).toEqual(delivered.map((d) => d.id));
      }),
      { numRuns: 25 },
    );
  });
});
