import { describe, expect, it } from 'vitest';
import {
  type AnyActorRef,
  createActor,
  initialTransition,
  SimulatedClock,
  type SnapshotFrom,
  transition,
  waitFor,
} from 'xstate';
import { upgradeContext } from '../../sessions/sessionContext.ts';
import {
  createSessionMachine,
  type RefillOutput,
  type SessionEmitted,
  type SessionEvent,
  type SessionInput,
  type SessionMachine,
  type SessionReply,
} from '../../sessions/sessionMachine.ts';
import { fakeEngine } from './fakeEngine.ts';

const T0 = Date.UTC(2026, 0, 1, 20);
const settings = { lookahead: 4, historyWindow: 50, maxMore: 10, graceMs: 120_000, idleMs: 600_000 };
const input: SessionInput = { sessionId: 's1', owner: 'c1', tokenHash: 'h1', settings, nowMs: T0 };
type Snap = SnapshotFrom<SessionMachine>;

/** Commands as the manager sends them: a fresh reqId and the clock reading. */
let reqId = 0;
const at = (nowMs: number) => ({ reqId: ++reqId, nowMs });

function setupPure() {
  const fake = fakeEngine();
  const machine = createSessionMachine({ engine: fake.engine, now: () => T0 });
  const step = (snapshot: Snap, event: SessionEvent) => transition(machine, snapshot, event)[0];
  /** What the invoked refill would resolve with, delivered as xstate's done event. */
  const refillDone = async (snapshot: Snap, version = snapshot.context.version) => {
    const n = Math.max(1, settings.lookahead - snapshot.context.buffer.length);
    const { state, picks } = await fake.engine.next(snapshot.context.engine!, { n, nowMs: T0 });
    const output: RefillOutput = { state, picks, version, requested: n, nowMs: T0 };
    return transition(machine, snapshot, { type: 'xstate.done.actor.refill', output } as never);
  };
  return { fake, machine, step, refillDone };
}

const reply = (snapshot: Snap) => snapshot.context.reply as SessionReply;

describe('session machine, pure transitions', () => {
  it('starts, asks for a refill, and answers feed.more from the buffer', async () => {
    const { machine, step, refillDone } = setupPure();
    const [initial] = initialTransition(machine, input);
    expect(initial.value).toBe('starting');
    const started = step(initial, { type: 'user.start', seed: 7, ...at(T0) });
    expect(started.value).toEqual({ active: { playback: 'streaming', feed: 'refilling' } });
    const [filled, actions] = await refillDone(started);
    expect(filled.context.buffer).toHaveLength(4);
    expect(actions.some((a) => (a.type as string) === 'xstate.emit')).toBe(true);
    const more = step(filled, { type: 'feed.more', n: 3, ...at(T0 + 1) });
    expect(reply(more)).toMatchObject({ ok: true, seqs: [1, 2, 3] });
    expect(more.context.lastSeq).toBe(3);
    expect(more.context.delivered.map((d) => d.id)).toEqual(
      filled.context.buffer.slice(0, 3).map((p) => p.id),
    );
    expect(more.context.buffer).toHaveLength(1);
    // The buffer fell under the lookahead: the feed refills on its own.
    expect(more.value).toEqual({ active: { playback: 'streaming', feed: 'refilling' } });
  });

  it('refuses events the current state does not take, with SESSION_INVALID_EVENT', async () => {
    const { machine, step, refillDone } = setupPure();
    const [initial] = initialTransition(machine, input);
    const early = step(initial, { type: 'feed.more', n: 1, ...at(T0) });
    expect(early.value).toBe('starting');
    expect(reply(early)).toMatchObject({ ok: false, code: 'SESSION_INVALID_EVENT' });

    const [active] = await refillDone(step(initial, { type: 'user.start', seed: 1, ...at(T0) }));
    const play = step(active, { type: 'user.play', ...at(T0) });
    expect(reply(play)).toMatchObject({ ok: false, code: 'SESSION_INVALID_EVENT' });
    expect(play.value).toEqual(active.value);
    const paused = step(active, { type: 'user.pause', ...at(T0) });
    expect(paused.value).toEqual({ active: { playback: 'paused', feed: 'idle' } });
    expect(reply(step(paused, { type: 'user.pause', ...at(T0) }))).toMatchObject({
      code: 'SESSION_INVALID_EVENT',
    });
    expect(reply(step(paused, { type: 'user.start', seed: 1, ...at(T0) }))).toMatchObject({
      code: 'SESSION_INVALID_EVENT',
    });

    const gone = step(active, { type: 'client.disconnected', ...at(T0) });
    expect(gone.value).toBe('disconnected');
    const blind = step(gone, { type: 'feed.more', n: 1, ...at(T0) });
    expect(reply(blind)).toMatchObject({ ok: false, code: 'SESSION_INVALID_EVENT' });
    expect(blind.context.lastSeq).toBe(0);
  });

  it('refuses a bad count and feedback for a seq never delivered, changing nothing else', async () => {
    const { machine, step, refillDone } = setupPure();
    const [active] = await refillDone(
      step(initialTransition(machine, input)[0], { type: 'user.start', seed: 1, ...at(T0) }),
    );
    for (const n of [0, -1, 1.5, settings.maxMore + 1]) {
      const next = step(active, { type: 'feed.more', n, ...at(T0) });
      expect(reply(next)).toMatchObject({ ok: false, code: 'SESSION_INVALID_REQUEST' });
      expect(next.context.buffer).toEqual(active.context.buffer);
    }
    const delivered = step(active, { type: 'feed.more', n: 2, ...at(T0) });
    const unknown = step(delivered, {
      type: 'user.feedback',
      feedback: { type: 'disliked', seq: 3 },
      ...at(T0),
    });
    expect(reply(unknown)).toMatchObject({ ok: false, code: 'SESSION_UNKNOWN_SEQ' });
    expect({ ...unknown.context, reply: null }).toEqual({ ...delivered.context, reply: null });
  });

  it('a dislike withdraws queued picks of that artist: buffered silently, delivered ones invalidated', async () => {
    const { machine, step, refillDone } = setupPure();
    // 6 artists, the fake walks items in order: seqs 1..4 are artists A1..A4; more picks follow on refill.
    let s = (
      await refillDone(step(initialTransition(machine, input)[0], { type: 'user.start', seed: 1, ...at(T0) }))
    )[0];
    s = step(s, { type: 'feed.more', n: 4, ...at(T0) });
    s = (await refillDone(s))[0];
    const artistOf = (seq: number) => s.context.delivered.find((d) => d.seq === seq)!.artist;
    expect(s.context.buffer.map((p) => p.artist)).toContain('A1');
    // Start seq 2 so it cannot be withdrawn; dislike seq 1 (artist A1).
    s = step(s, { type: 'user.feedback', feedback: { type: 'started', seq: 2 }, ...at(T0) });
    const version = s.context.version;
    const disliked = step(s, { type: 'user.feedback', feedback: { type: 'disliked', seq: 1 }, ...at(T0) });
    expect(artistOf(1)).toBe('A1');
    expect(reply(disliked)).toMatchObject({ ok: true, invalidated: [] });
    expect(disliked.context.buffer.map((p) => p.artist)).not.toContain('A1');
    expect(disliked.context.version).toBe(version + 1);

    // "Less of A3": seq 3 (A3, delivered, not started) is invalidated and leaves the window.
    const steered = step(disliked, {
      type: 'user.steer',
      steer: { kind: 'less-artist', artist: 'A3' },
      ...at(T0),
    });
    expect(reply(steered)).toMatchObject({ ok: true, invalidated: [3] });
    expect(steered.context.delivered.map((d) => d.seq)).not.toContain(3);
    const late = step(steered, { type: 'user.feedback', feedback: { type: 'liked', seq: 3 }, ...at(T0) });
    expect(reply(late)).toMatchObject({ ok: false, code: 'SESSION_UNKNOWN_SEQ' });
  });

  it('drops a refill begun before feedback changed the state, and asks again', async () => {
    const { machine, step, refillDone } = setupPure();
    let s = (
      await refillDone(step(initialTransition(machine, input)[0], { type: 'user.start', seed: 1, ...at(T0) }))
    )[0];
    s = step(s, { type: 'feed.more', n: 2, ...at(T0) });
    expect(s.value).toMatchObject({ active: { feed: 'refilling' } });
    const before = s.context;
    s = step(s, { type: 'user.feedback', feedback: { type: 'completed', seq: 1 }, ...at(T0) });
    const [after, actions] = await refillDone(s, before.version);
    expect(after.context.buffer).toEqual(s.context.buffer);
    expect(after.context.engine).toEqual(s.context.engine);
    expect(after.value).toMatchObject({ active: { feed: 'refilling' } });
    // Re-entering `refilling` starts a new refill on the current state.
    expect(actions.some((a) => a.type === 'xstate.spawnChild')).toBe(true);
  });

  it('resume after the grace window (decided on timestamps) ends the session with SESSION_EXPIRED', async () => {
    const { machine, step, refillDone } = setupPure();
    let s = (
      await refillDone(step(initialTransition(machine, input)[0], { type: 'user.start', seed: 1, ...at(T0) }))
    )[0];
    s = step(s, { type: 'client.disconnected', ...at(T0 + 1000) });
    const resume = { type: 'client.resumed', connectionId: 'c2', tokenHash: 'h2', lastSeq: 0 } as const;
    const inTime = step(s, { ...resume, ...at(T0 + 1000 + settings.graceMs - 1) });
    expect(inTime.value).toMatchObject({ active: { playback: 'streaming' } });
    expect(inTime.context.owner).toBe('c2');
    const late = step(s, { ...resume, ...at(T0 + 1000 + settings.graceMs) });
    expect(late.value).toBe('ended');
    expect(late.status).toBe('done');
    expect(late.context.endReason).toBe('grace-expired');
    expect(reply(late)).toMatchObject({ ok: false, code: 'SESSION_EXPIRED' });
  });
});

/** A live actor on a simulated clock; `command` sends and waits for the reply to that command. */
function live(
  options: { snapshot?: Snap; clock?: SimulatedClock; fake?: ReturnType<typeof fakeEngine> } = {},
) {
  const clock = options.clock ?? new SimulatedClock();
  if (!options.clock) clock.set(T0);
  const fake = options.fake ?? fakeEngine();
  const machine = createSessionMachine({ engine: fake.engine, now: () => clock.now() });
  const actor = createActor(machine, { input, clock, snapshot: options.snapshot });
  const emitted: SessionEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  const command = async (event: Record<string, unknown> & { type: string }) => {
    const id = ++reqId;
    actor.send({ ...event, reqId: id, nowMs: clock.now() } as SessionEvent);
    const snap = await waitFor(
      actor as AnyActorRef,
      (s: Snap) => s.context.reply?.reqId === id || s.status !== 'active',
      {
        timeout: 2000,
      },
    );
    return (snap as Snap).context.reply as SessionReply;
  };
  const settled = () =>
    waitFor(actor, (s) => s.status !== 'active' || !s.matches({ active: { feed: 'refilling' } }), {
      timeout: 2000,
    });
  const items = (r: SessionReply) => {
    if (!r.ok) throw new Error(r.message);
    return r.seqs.map((seq) => actor.getSnapshot().context.delivered.find((d) => d.seq === seq)!);
  };
  return { actor, clock, fake, emitted, command, settled, items };
}

describe('session machine, live actors on a simulated clock', () => {
  it('keeps about two requests worth ready: 4 before the first more and for one at a time, 20 for pages of 10', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const fake = fakeEngine({ items: 200, artists: 20 });
    const machine = createSessionMachine({ engine: fake.engine, now: () => clock.now() });
    const actor = createActor(machine, {
      input: { ...input, settings: { ...settings, lookahead: 20, maxMore: 10 } },
      clock,
    });
    actor.start();
    const ready = async (event?: Record<string, unknown> & { type: string }) => {
      if (event) actor.send({ ...event, reqId: ++reqId, nowMs: clock.now() } as SessionEvent);
      const snap = await waitFor(actor, (x) => !x.matches({ active: { feed: 'refilling' } }), {
        timeout: 2000,
      });
      return snap.context.buffer.length;
    };
    expect(await ready({ type: 'user.start', seed: 1 })).toBe(4);
    expect(await ready({ type: 'feed.more', n: 1 })).toBe(4);
    expect(await ready({ type: 'feed.more', n: 2 })).toBe(4);
    expect(await ready({ type: 'feed.more', n: 10 })).toBe(20);
    expect(await ready({ type: 'feed.more', n: 10 })).toBe(20);
    // Back to one at a time: no refill until fewer than 4 are left.
    expect(await ready({ type: 'feed.more', n: 1 })).toBe(19);
    actor.stop();
  });

  it('answers a feed.more larger than the buffer once the refill lands', async () => {
    const s = live();
    await s.command({ type: 'user.start', seed: 3 });
    const r = await s.command({ type: 'feed.more', n: 9 });
    expect(r).toMatchObject({ ok: true, seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    const ids = s.items(r).map((i) => i.id);
    expect(new Set(ids).size).toBe(9);
    expect(s.emitted.filter((e) => e.type === 'session.decision').length).toBeGreaterThanOrEqual(2);
    s.actor.stop();
  });

  it('ends after idleMs without an event; each command restarts the idle timer', async () => {
    const s = live();
    await s.command({ type: 'user.start', seed: 3 });
    await s.settled();
    s.clock.increment(settings.idleMs - 1);
    await s.command({ type: 'user.pause' });
    s.clock.increment(settings.idleMs - 1);
    expect(s.actor.getSnapshot().value).toMatchObject({ active: { playback: 'paused' } });
    s.clock.increment(1);
    expect(s.actor.getSnapshot().value).toBe('ended');
    expect(s.actor.getSnapshot().context.endReason).toBe('idle');
    expect(s.emitted).toContainEqual({ type: 'session.ended', reason: 'idle' });
  });

  it('waits out the grace window after a disconnect, and a resume inside it keeps the session paused', async () => {
    const s = live();
    await s.command({ type: 'user.start', seed: 3 });
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

  it('survives a failing refill: the feed stalls until the next request, which retries', async () => {
    const s = live();
    s.fake.failNextWith(new Error('boom'));
    await s.command({ type: 'user.start', seed: 3 });
    await s.settled();
    expect(s.actor.getSnapshot().context.halted).toBe('stalled');
    expect(s.emitted.some((e) => e.type === 'session.refillFailed')).toBe(true);
    const r = await s.command({ type: 'feed.more', n: 2 });
    expect(r).toMatchObject({ ok: true, seqs: [1, 2] });
  });

  it('answers a request waiting on a failed refill with SESSION_ENGINE_FAILED (retryable)', async () => {
    const s = live();
    await s.command({ type: 'user.start', seed: 3 });
    await s.settled();
    s.fake.failNextWith(new Error('boom'));
    const r = await s.command({ type: 'feed.more', n: 9 });
    expect(r).toMatchObject({ ok: false, code: 'SESSION_ENGINE_FAILED' });
    expect(s.actor.getSnapshot().context.lastSeq).toBe(0);
    expect(await s.command({ type: 'feed.more', n: 9 })).toMatchObject({ ok: true });
  });

  it('re-arms timers after a restore: an idle session restored too late ends at once', async () => {
    const a = live();
    await a.command({ type: 'user.start', seed: 3 });
    await a.settled();
    const persisted = JSON.parse(JSON.stringify(a.actor.getPersistedSnapshot()));
    a.actor.stop();
    const clock = new SimulatedClock();
    clock.set(T0 + settings.idleMs);
    const b = live({ snapshot: persisted, clock });
    await b.command({ type: 'session.restored' });
    expect(b.actor.getSnapshot().context.endReason).toBe('idle');
  });
});

describe('session machine, persist → JSON → restore', () => {
  it('continues identically after a round trip mid-session', async () => {
    const control = live();
    const traveller = live();
    const script = async (s: ReturnType<typeof live>) => {
      await s.command({ type: 'user.start', seed: 11 });
      const first = s.items(await s.command({ type: 'feed.more', n: 5 }));
      await s.command({ type: 'user.feedback', feedback: { type: 'disliked', seq: 2 } });
      await s.settled();
      return first.map((i) => i.id);
    };
    expect(await script(traveller)).toEqual(await script(control));

    const persisted = traveller.actor.getPersistedSnapshot();
    traveller.actor.stop();
    const json = JSON.stringify(persisted);
    const clock = new SimulatedClock();
    clock.set(control.clock.now());
    const restored = live({ snapshot: JSON.parse(json), clock });
    // Same session, apart from the id of the last reply (reqIds are global in this file).
    const { reply: _r1, ...restoredContext } = restored.actor.getSnapshot().context;
    const { reply: _r2, ...controlContext } = control.actor.getSnapshot().context;
    expect(restoredContext).toEqual(controlContext);

    const next = async (s: ReturnType<typeof live>) => {
      const out: string[] = [];
      for (let i = 0; i < 4; i++)
        out.push(...s.items(await s.command({ type: 'feed.more', n: 4 })).map((x) => x.id));
      return out;
    };
    const fromControl = await next(control);
    expect(await next(restored)).toEqual(fromControl);
    expect(fromControl).toHaveLength(16);
    control.actor.stop();
    restored.actor.stop();
  });
});

describe('session context', () => {
  it('stays under 20 keys through a whole session (V8 copies a larger one slowly on every assign)', async () => {
    const s = live();
    const widest = { keys: 0, at: '' };
    const check = (after: string) => {
      const keys = Object.keys(s.actor.getSnapshot().context).length;
      if (keys > widest.keys) Object.assign(widest, { keys, at: after });
    };
    check('input');
    const steps: (Record<string, unknown> & { type: string })[] = [
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
      check(step.type);
    }
    expect(widest.keys, `widest after ${widest.at}`).toBeLessThan(20);
  });

  it('reads a version 1 context: its refill flags become `halted`, its unread times go', () => {
    const v2 = live().actor.getSnapshot().context;
    const { v: _v, halted: _h, ...rest } = v2;
    const v1 = { ...rest, v: 1 as const, startedAt: T0, endedAt: null, exhausted: false, stalled: false };
    expect(upgradeContext(v1)).toEqual({ ...v2, halted: null });
    expect(upgradeContext({ ...v1, stalled: true }).halted).toBe('stalled');
    expect(upgradeContext({ ...v1, exhausted: true }).halted).toBe('exhausted');
    expect(Object.keys(upgradeContext(v1)).sort()).toEqual(Object.keys(v2).sort());
    expect(upgradeContext(v2)).toBe(v2);
  });
});
