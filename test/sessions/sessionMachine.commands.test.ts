import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { SessionEvent } from '../../sessions/sessionMachine.ts';
import { live, nextReqId, settings, started, T0 } from './machineFixtures.ts';

// Commands the machine refuses, and its grace and idle timers (re-armed after a restore).

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
    const id = nextReqId();
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
