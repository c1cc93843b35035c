import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, type SnapshotFrom, waitFor } from 'xstate';
import { steerKey } from '../../engine/pool.ts';
import { type StoredContext, upgradeContext } from '../../sessions/sessionContext.ts';
import {
  createSessionMachine,
  type SessionEmitted,
  type SessionEvent,
  type SessionInput,
  type SessionMachine,
  type SessionReply,
} from '../../sessions/sessionMachine.ts';
import { fakeEngine } from './fakeEngine.ts';

const T0 = Date.UTC(2026, 0, 1, 20);
const settings = { historyWindow: 50, maxMore: 10, graceMs: 120_000, idleMs: 600_000 };
const input: SessionInput = {
  sessionId: 's1',
  owner: 'c1',
  principal: null,
  tokenHash: 'h1',
  settings,
  nowMs: T0,
};
type Snap = SnapshotFrom<SessionMachine>;
type Command = Record<string, unknown> & { type: string };

let reqId = 0;

/**
 * A live actor on a simulated clock over the real engine (see fakeEngine.ts). `send` sends a command and
 * returns its reply if it was given synchronously (undefined: it waits); `command` waits for the reply.
 */
function live(
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
    const id = ++reqId;
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
type Live = ReturnType<typeof live>;

async function started(s: Live, seed = 7) {
  expect(await s.command({ type: 'user.start', seed })).toMatchObject({ ok: true });
  await s.settled();
  return s;
}

describe('session machine: picks decided at delivery', () => {
  it('starts, scores one pool, and answers feed.more from it at once', async () => {
    const s = await started(live());
    expect(s.fake.calls.score).toBe(1);
    expect(s.ctx().pool).not.toBeNull();
    expect(s.ctx().engine!.decisions).toBe(1);
    expect(s.emitted.filter((e) => e.type === 'session.decision')).toHaveLength(1);
    const { reply } = s.send({ type: 'feed.more', n: 3 });
    // Answered synchronously: no decision was waited for.
    expect(reply).toMatchObject({ ok: true, seqs: [1, 2, 3] });
    const got = s.items(reply);
    expect(reply!.ok && reply!.ids).toEqual(got.map((d) => d.id));
    expect(reply!.ok && reply!.p).toEqual(got.map((d) => d.propensity));
    for (const d of got) expect(d.reasons.decision).toBe(0);
    expect(s.ctx().lastSeq).toBe(3);
    expect(s.fake.calls.score).toBe(1);
    s.actor.stop();
  });

  it('a feed.more after a dislike picks with it: no card of that artist, and not the picks of a twin without it', async () => {
    const a = await started(live(), 11);
    const b = await started(live(), 11);
    const firstA = a.items(await a.command({ type: 'feed.more', n: 5 }));
    const firstB = b.items(await b.command({ type: 'feed.more', n: 5 }));
    expect(firstA.map((d) => d.id)).toEqual(firstB.map((d) => d.id));
    const disliked = firstA[0]!;
    // The dislike makes the pool due; hold that refresh, so the next more must pick from the old pool.
    a.fake.hold();
    b.fake.hold();
    expect(a.send({ type: 'user.feedback', feedback: { type: 'disliked', seq: 1 } }).reply).toMatchObject({
      ok: true,
    });
    expect(b.send({ type: 'user.feedback', feedback: { type: 'completed', seq: 1 } }).reply).toMatchObject({
      ok: true,
    });
    expect(a.ctx().pool!.decision).toBe(0);
    const nextA = a.send({ type: 'feed.more', n: 10 }).reply;
    const nextB = b.send({ type: 'feed.more', n: 10 }).reply;
    expect(nextA).toMatchObject({ ok: true });
    expect(nextB).toMatchObject({ ok: true });
    const picksA = a.items(nextA);
    expect(picksA.map((d) => d.artist)).not.toContain(disliked.artist);
    expect(picksA.map((d) => d.id)).not.toEqual(b.items(nextB).map((d) => d.id));
    // Decided from the pool scored before the dislike, corrected for it.
    for (const d of picksA) expect(d.reasons.decision).toBe(0);
    expect(picksA.some((d) => d.reasons.correction !== undefined)).toBe(true);
    a.fake.release();
    b.fake.release();
    await a.settled();
    await b.settled();
    a.actor.stop();
    b.actor.stop();
  });

  it('a more waits only when there is no pool or after a steer; feedback never waits', async () => {
    const s = live();
    s.fake.hold();
    expect(await s.command({ type: 'user.start', seed: 3 })).toMatchObject({ ok: true });
    const first = s.send({ type: 'feed.more', n: 4 });
    expect(first.reply).toBeUndefined();
    expect(s.ctx().pendingMore).toMatchObject({ n: 4 });
    s.fake.release();
    const answered = await s.answer(first.id);
    expect(answered).toMatchObject({ ok: true, seqs: [1, 2, 3, 4] });
    const decision = s.emitted.find((e) => e.type === 'session.decision');
    expect(decision).toMatchObject({ answered: { reqId: first.id, ids: answered.ok && answered.ids } });
    await s.settled();

    // With a pool: at once, and feedback too, while a refresh is held.
    s.fake.hold();
    expect(
      s.send({ type: 'user.feedback', feedback: { type: 'skipped', seq: 1, atMs: 1_000 } }).reply,
    ).toMatchObject({
      ok: true,
    });
    expect(s.send({ type: 'feed.more', n: 2 }).reply).toMatchObject({ ok: true, seqs: [5, 6] });
    // A steer makes the pool stale: the next more waits for the decision scored for it.
    expect(s.send({ type: 'user.steer', steer: { kind: 'tag', tag: 'genre3' } }).reply).toMatchObject({
      ok: true,
    });
    expect(s.ctx().pool).toBeNull();
    const afterSteer = s.send({ type: 'feed.more', n: 3 });
    expect(afterSteer.reply).toBeUndefined();
    expect(s.send({ type: 'user.feedback', feedback: { type: 'liked', seq: 1 } }).reply).toMatchObject({
      ok: true,
    });
    s.fake.release();
    expect(await s.answer(afterSteer.id)).toMatchObject({ ok: true, seqs: [7, 8, 9] });
    expect(s.ctx().pool!.steer).toBe(steerKey(s.ctx().engine!.steers));
    expect(s.ctx().pool!.steer).toContain('genre3');
    s.actor.stop();
  });

  it('drops a decision begun before a steer, and scores again for the steer', async () => {
    const s = await started(live());
    s.items(await s.command({ type: 'feed.more', n: 3 }));
    s.fake.hold();
    // A strong signal makes the pool due: a refresh begins (held).
    await s.command({ type: 'user.feedback', feedback: { type: 'disliked', seq: 2 } });
    expect(s.actor.getSnapshot().matches({ active: { feed: 'scoring' } })).toBe(true);
    const before = s.fake.calls.score;
    await s.command({ type: 'user.steer', steer: { kind: 'mood', tag: 'calm' } });
    expect(s.ctx().pool).toBeNull();
    const decisionsBefore = s.emitted.filter((e) => e.type === 'session.decision').length;
    const more = s.send({ type: 'feed.more', n: 2 });
    expect(more.reply).toBeUndefined();
    s.fake.release();
    const r = await s.answer(more.id);
    expect(r).toMatchObject({ ok: true });
    await s.settled();
    // The held decision landed and was dropped; one more was scored, for the steer, and answered the more.
    expect(s.fake.calls.score).toBe(before + 1);
    const landed = s.emitted.filter((e) => e.type === 'session.decision').slice(decisionsBefore);
    expect(landed).toHaveLength(1);
    expect(landed[0]).toMatchObject({ answered: { reqId: more.id } });
    expect((landed[0] as { pool: { steer: string } }).pool.steer).toContain('calm');
    expect(s.ctx().engine!.decisions).toBe(2);
    s.actor.stop();
  });

  it('a failed decision stalls the feed until the next request, which retries', async () => {
    const s = live();
    s.fake.failNextWith(new Error('boom'));
    await started(s);
    expect(s.ctx().halted).toBe('stalled');
    expect(s.ctx().pool).toBeNull();
    expect(s.emitted.some((e) => e.type === 'session.refillFailed')).toBe(true);
    const calls = s.fake.calls.score;
    expect(await s.command({ type: 'feed.more', n: 2 })).toMatchObject({ ok: true, seqs: [1, 2] });
    expect(s.fake.calls.score).toBe(calls + 1);
    expect(s.ctx().halted).toBeNull();
    s.actor.stop();
  });

  it('a more waiting on a failed decision gets SESSION_ENGINE_FAILED, and the next one retries', async () => {
    const s = await started(live());
    await s.command({ type: 'feed.more', n: 2 });
    s.fake.hold();
    s.fake.failNextWith(new Error('boom'));
    await s.command({ type: 'user.steer', steer: { kind: 'tag', tag: 'genre1' } });
    const held = s.send({ type: 'feed.more', n: 3 });
    expect(held.reply).toBeUndefined();
    s.fake.release();
    expect(await s.answer(held.id)).toMatchObject({ ok: false, code: 'SESSION_ENGINE_FAILED' });
    expect(s.ctx().lastSeq).toBe(2);
    expect(s.ctx().halted).toBe('stalled');
    expect(s.ctx().pendingMore).toBeNull();
    expect(await s.command({ type: 'feed.more', n: 3 })).toMatchObject({ ok: true, seqs: [3, 4, 5] });
    s.actor.stop();
  });
});

describe('session machine: commands and refusals', () => {
  it('refuses events the current state does not take, with SESSION_INVALID_EVENT', async () => {
    const s = live();
    expect(await s.command({ type: 'feed.more', n: 1 })).toMatchObject({
      ok: false,
      code: 'SESSION_INVALID_EVENT',
    });
    expect(s.actor.getSnapshot().value).toBe('starting');
    await started(s);
    expect(await s.command({ type: 'user.play' })).toMatchObject({
      ok: false,
      code: 'SESSION_INVALID_EVENT',
    });
    await s.command({ type: 'user.pause' });
    expect(s.actor.getSnapshot().value).toMatchObject({ active: { playback: 'paused', feed: 'idle' } });
    expect(await s.command({ type: 'user.pause' })).toMatchObject({ code: 'SESSION_INVALID_EVENT' });
    expect(await s.command({ type: 'user.start', seed: 1 })).toMatchObject({ code: 'SESSION_INVALID_EVENT' });
    await s.command({ type: 'client.disconnected' });
    expect(s.actor.getSnapshot().value).toBe('disconnected');
    expect(await s.command({ type: 'feed.more', n: 1 })).toMatchObject({
      ok: false,
      code: 'SESSION_INVALID_EVENT',
    });
    expect(s.ctx().lastSeq).toBe(0);
    s.actor.stop();
  });

  it('refuses a bad count and feedback for a seq never delivered, changing nothing else', async () => {
    const s = await started(live(), 1);
    await s.command({ type: 'feed.more', n: 2 });
    const before = s.ctx();
    for (const n of [0, -1, 1.5, settings.maxMore + 1]) {
      expect(await s.command({ type: 'feed.more', n })).toMatchObject({
        ok: false,
        code: 'SESSION_INVALID_REQUEST',
      });
    }
    expect(await s.command({ type: 'user.feedback', feedback: { type: 'disliked', seq: 3 } })).toMatchObject({
      ok: false,
      code: 'SESSION_UNKNOWN_SEQ',
    });
    expect(s.ctx()).toEqual(before);
    s.actor.stop();
  });

  it('a "less of" steer invalidates delivered unstarted picks of that artist; feedback on them is refused', async () => {
    const s = await started(live(), 5);
    const got = s.items(await s.command({ type: 'feed.more', n: 6 }));
    await s.command({ type: 'user.feedback', feedback: { type: 'started', seq: 1 } });
    const target = got[2]!;
    const r = await s.command({ type: 'user.steer', steer: { kind: 'less-artist', artist: target.artist } });
    // Steering withdraws every delivered pick not yet started (they were chosen for the old steering).
    expect(r).toMatchObject({ ok: true, invalidated: [2, 3, 4, 5, 6] });
    expect(s.ctx().delivered.map((d) => d.seq)).toEqual([1]);
    expect(
      await s.command({ type: 'user.feedback', feedback: { type: 'liked', seq: target.seq } }),
    ).toMatchObject({
      ok: false,
      code: 'SESSION_UNKNOWN_SEQ',
    });
    const after = s.items(await s.command({ type: 'feed.more', n: 8 }));
    expect(after.map((d) => d.artist)).not.toContain(target.artist);
    s.actor.stop();
  });
});

describe('session machine: timers', () => {
  it('resume after the grace window (decided on timestamps) ends the session with SESSION_EXPIRED', async () => {
    const s = await started(live(), 1);
    await s.command({ type: 'client.disconnected' });
    const t = s.clock.now();
    const late = s.send({ type: 'client.resumed', connectionId: 'c2', tokenHash: 'h2', lastSeq: 0 });
    expect(late.reply ?? (await s.answer(late.id))).toMatchObject({ ok: true });
    // Another disconnect; a resume stamped past the window ends it even though no timer fired.
    await s.command({ type: 'client.disconnected' });
    const id = ++reqId;
    s.actor.send({
      type: 'client.resumed',
      connectionId: 'c3',
      tokenHash: 'h3',
      lastSeq: 0,
      reqId: id,
      nowMs: t + settings.graceMs,
    } as SessionEvent);
    expect(await s.answer(id)).toMatchObject({ ok: false, code: 'SESSION_EXPIRED' });
    expect(s.actor.getSnapshot().status).toBe('done');
    expect(s.ctx().endReason).toBe('grace-expired');
  });

  it('ends after idleMs without an event; each command restarts the idle timer', async () => {
    const s = await started(live(), 3);
    s.clock.increment(settings.idleMs - 1);
    await s.command({ type: 'user.pause' });
    s.clock.increment(settings.idleMs - 1);
    expect(s.actor.getSnapshot().value).toMatchObject({ active: { playback: 'paused' } });
    s.clock.increment(1);
    expect(s.actor.getSnapshot().value).toBe('ended');
    expect(s.ctx().endReason).toBe('idle');
    expect(s.emitted).toContainEqual({ type: 'session.ended', reason: 'idle' });
  });

  it('waits out the grace window after a disconnect, and a resume inside it keeps the session paused', async () => {
    const s = await started(live(), 3);
    await s.command({ type: 'feed.more', n: 3 });
    await s.command({ type: 'user.pause' });
    await s.command({ type: 'client.disconnected' });
    s.clock.increment(settings.graceMs - 1);
    const r = await s.command({ type: 'client.resumed', connectionId: 'c2', tokenHash: 'h2', lastSeq: 1 });
    expect(r).toMatchObject({ ok: true, seqs: [2, 3] });
    expect(s.actor.getSnapshot().value).toMatchObject({ active: { playback: 'paused' } });
    await s.command({ type: 'client.disconnected' });
    s.clock.increment(settings.graceMs);
    expect(s.actor.getSnapshot().value).toBe('ended');
    expect(s.emitted).toContainEqual({ type: 'session.ended', reason: 'grace-expired' });
  });

  it('re-arms timers after a restore: an idle session restored too late ends at once', async () => {
    const a = await started(live(), 3);
    const persisted = JSON.parse(JSON.stringify(a.actor.getPersistedSnapshot()));
    a.actor.stop();
    const clock = new SimulatedClock();
    clock.set(T0 + settings.idleMs);
    const b = live({ snapshot: persisted, clock });
    await b.command({ type: 'session.restored' });
    expect(b.ctx().endReason).toBe('idle');
  });
});

describe('session machine, persist → JSON → restore', () => {
  it('continues identically after a round trip mid-session (pool, feedback and steering included)', async () => {
    const control = live();
    const traveller = live();
    const script = async (s: Live) => {
      await started(s, 11);
      const first = s.items(await s.command({ type: 'feed.more', n: 5 }));
      await s.command({ type: 'user.feedback', feedback: { type: 'disliked', seq: 2 } });
      await s.settled();
      await s.command({ type: 'user.feedback', feedback: { type: 'skipped', seq: 1, atMs: 2_000 } });
      await s.settled();
      await s.command({ type: 'user.feedback', feedback: { type: 'completed', seq: 3 } });
      return first.map((i) => i.id);
    };
    expect(await script(traveller)).toEqual(await script(control));
    // Mid-session: a pool, and a signal since it was scored.
    expect(traveller.ctx().pool).not.toBeNull();
    expect(traveller.ctx().engine!.signals).toBeGreaterThan(traveller.ctx().pool!.signal);
    const json = JSON.stringify(traveller.actor.getPersistedSnapshot());
    traveller.actor.stop();
    const clock = new SimulatedClock();
    clock.set(control.clock.now());
    const restored = live({ snapshot: JSON.parse(json), clock });
    expect(restored.ctx()).toEqual(control.ctx());

    const next = async (s: Live) => {
      const out: string[] = [];
      for (let i = 0; i < 4; i++) {
        s.clock.increment(1_000);
        out.push(
          ...s
            .items(await s.command({ type: 'feed.more', n: 4 }))
            .map((d) => `${d.seq}:${d.id}:${d.propensity}`),
        );
        if (i === 1) await s.command({ type: 'user.steer', steer: { kind: 'tag', tag: 'genre4' } });
        await s.settled();
      }
      return out;
    };
    const fromRestored = await next(restored);
    const fromControl = await next(control);
    expect(fromRestored).toEqual(fromControl);
    expect(fromControl).toHaveLength(16);
    expect(restored.ctx()).toEqual(control.ctx());
    control.actor.stop();
    restored.actor.stop();
  });
});

describe('session machine, persisted while a decision runs', () => {
  it('a snapshot taken mid-decision, with a more waiting on it, scores again on restore and answers alike', async () => {
    const control = live();
    const traveller = live();
    const script = async (s: Live) => {
      await started(s, 21);
      s.items(await s.command({ type: 'feed.more', n: 4 }));
      s.fake.hold();
      await s.command({ type: 'user.steer', steer: { kind: 'tag', tag: 'genre6' } });
      const held = s.send({ type: 'feed.more', n: 5 });
      expect(held.reply).toBeUndefined();
      return held.id;
    };
    const controlId = await script(control);
    const travellerId = await script(traveller);
    const json = JSON.stringify(traveller.actor.getPersistedSnapshot());
    traveller.actor.stop();
    traveller.fake.release();
    const clock = new SimulatedClock();
    clock.set(control.clock.now());
    const restored = live({ snapshot: JSON.parse(json), clock, fake: fakeEngine() });
    const fromRestored = restored.items(await restored.answer(travellerId));
    control.fake.release();
    const fromControl = control.items(await control.answer(controlId));
    expect(fromRestored.map((d) => `${d.seq}:${d.id}`)).toEqual(fromControl.map((d) => `${d.seq}:${d.id}`));
    await restored.settled();
    await control.settled();
    expect(restored.ctx()).toEqual(control.ctx());
    control.actor.stop();
    restored.actor.stop();
  });
});

describe('session context', () => {
  it('stays under 20 keys through a whole session (V8 copies a larger one slowly on every assign)', async () => {
    const s = live();
    const widest = { keys: 0, at: '' };
    const check = (after: string) => {
      const keys = Object.keys(s.ctx()).length;
      if (keys > widest.keys) Object.assign(widest, { keys, at: after });
    };
    check('input');
    const steps: Command[] = [
      { type: 'user.start', seed: 5 },
      { type: 'feed.more', n: 3 },
      { type: 'user.feedback', feedback: { type: 'skipped', seq: 1, atMs: 5_000 } },
      { type: 'user.steer', steer: { kind: 'tag', tag: 'calm' } },
      { type: 'user.pause' },
      { type: 'user.play' },
      { type: 'client.disconnected' },
      { type: 'client.resumed', connectionId: 'c2', tokenHash: 'h2', lastSeq: 3 },
      { type: 'feed.more', n: 10 },
      { type: 'user.end' },
    ];
    for (const step of steps) {
      await s.command(step);
      await s.settled();
      check(step.type);
    }
    expect(widest.keys, `widest after ${widest.at}`).toBeLessThan(20);
  });

  /** A version 2 context as the lookahead machine kept it: picks decided ahead in `buffer`, queued in history. */
  async function v2Context() {
    const s = await started(live(), 9);
    s.items(await s.command({ type: 'feed.more', n: 3 }));
    const v3 = s.ctx();
    const engine = s.fake.engine;
    // Three more picks decided ahead, as the old buffer held them (queued in the engine's history).
    const ahead = engine.pick(v3.engine!, v3.pool!, { n: 3, nowMs: T0 });
    const { v: _v, pool: _p, principal: _pr, recent: _r, ...rest } = v3;
    const v2 = {
      ...rest,
      v: 2 as const,
      version: 3,
      engine: ahead.state,
      settings: { ...v3.settings, lookahead: 4 },
      buffer: ahead.picks,
      reply: { reqId: 1, ok: true, seqs: [], invalidated: [] },
      ask: 4,
    };
    s.actor.stop();
    return { v3, v2, machine: createSessionMachine({ engine, now: () => T0 }), fake: s.fake };
  }

  it('upgrades a version 2 context: the undelivered buffer leaves the engine history, a new pool is scored', async () => {
    const { v3, v2, fake } = await v2Context();
    const up = upgradeContext(v2 as StoredContext);
    const { engine: upEngine, ...upRest } = up;
    const { engine: v3Engine, ...v3Rest } = v3;
    expect(upRest).toEqual({ ...v3Rest, pool: null, principal: null, recent: [] });
    expect(upEngine!.history).toEqual(v3Engine!.history);
    // Positions are never reused: the buffered ones stay taken.
    expect(upEngine!.nextPos).toBe(6);
    expect(Object.keys(up).sort()).toEqual(Object.keys(v3).sort());
    expect(upgradeContext(up)).toBe(up);
    // The upgraded session serves on: positions continue after the delivered ones, the buffer is not resent.
    const clock = new SimulatedClock();
    clock.set(T0);
    const s = live({
      fake,
      clock,
      snapshot: {
        status: 'active',
        value: { active: { playback: 'streaming', feed: 'idle' } },
        context: up,
        children: {},
        historyValue: {},
      } as unknown as Snap,
    });
    await s.command({ type: 'session.restored' });
    const next = s.items(await s.command({ type: 'feed.more', n: 3 }));
    expect(next.map((d) => d.seq)).toEqual([4, 5, 6]);
    expect(next.map((d) => d.pos)).toEqual([6, 7, 8]);
    const ids = s.ctx().delivered.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    s.actor.stop();
  });

  it('upgrades a version 1 context: its refill flags become `halted`, its unread times go', async () => {
    const { v3, v2 } = await v2Context();
    const { v: _v, halted: _h, ...rest } = v2;
    const v1 = { ...rest, v: 1 as const, startedAt: T0, endedAt: null, exhausted: false, stalled: false };
    expect(upgradeContext(v1 as StoredContext)).toEqual(upgradeContext(v2 as StoredContext));
    expect(upgradeContext(v1 as StoredContext).engine!.history).toEqual(v3.engine!.history);
    expect(upgradeContext({ ...v1, stalled: true } as StoredContext).halted).toBe('stalled');
    expect(upgradeContext({ ...v1, exhausted: true } as StoredContext).halted).toBe('exhausted');
  });
});
