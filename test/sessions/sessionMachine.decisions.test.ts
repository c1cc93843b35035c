import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { steerKey } from '../../engine/pool.ts';
import { fakeEngine } from './fakeEngine.ts';
import { type Live, live, started } from './machineFixtures.ts';

// Picks decided at delivery from the scored pool: what waits for a decision, a dropped or failed one, and a
// snapshot taken while one runs.

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
