import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { type StoredContext, upgradeContext } from '../../sessions/sessionContext.ts';
import { createSessionMachine } from '../../sessions/sessionMachine.ts';
import { type Command, type Live, live, type Snap, started, T0 } from './machineFixtures.ts';

// The machine persisted, restored and upgraded, and the size of its context. Its other tests, by topic:
// sessionMachine.decisions and sessionMachine.commands (and sessionMachineProperties for the invariants).

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
