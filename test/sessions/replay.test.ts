import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../engine/engine.ts';
import type { Pick } from '../../engine/pick.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import { replaySession } from '../../sessions/replay.ts';
import type { SessionLogEvent } from '../../sessions/sessionStore.ts';
import { continuesOnAnotherNode, engine as fixtureEngine, openManagers } from './managerFixtures.ts';
import { catalog, engine, livedSession as lived } from './replayFixtures.ts';

const livedSession = async () => (await lived()).events;

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

const decisionsOf = (events: SessionLogEvent[]) => events.filter((e) => e.type === 'engine.decision');

describe('replaySession', () => {
  it('replays a session lived through the real manager exactly', async () => {
    const events = await livedSession();
    // The session did what the test is about: invalidations and a resume are in its log.
    expect(events.filter((e) => Array.isArray(e.withdrawn)).length).toBeGreaterThanOrEqual(3);
    expect(events.map((e) => e.type)).toContain('client.resumed');
    const logged = decisionsOf(events);
    const report = await replaySession(events, engine);
    expect(report).toMatchObject({
      decisions: logged.length,
      exact: logged.length,
      diverged: 0,
      firstDivergence: null,
      maxScoreDelta: 0,
      commandMismatches: [],
      notes: [],
      ok: true,
    });
    expect(report.changes).toBe(events.filter((e) => /^user\.(feedback|steer)$/.test(e.type)).length);
    // Scores agree exactly too, so a rescore replay of the same engine is exact as well.
    expect(await replaySession(events, engine, { mode: 'rescore' })).toMatchObject({ exact: logged.length });
  });

  it('reports a tampered pick as a divergence at that decision, and only there', async () => {
    const events = structuredClone(await livedSession());
    const logged = decisionsOf(events);
    // A decision after the first few that picked at least two items (how many each picks depends on timing).
    const target = logged.slice(3).find((d) => (d.picks as Pick[]).length >= 2)!;
    const picks = target.picks as Pick[];
    const original = picks[1]!.id;
    picks[1]!.id = original === 't0' ? 't1' : 't0';
    const report = await replaySession(events, engine);
    expect(report.ok).toBe(false);
    expect(report.diverged).toBe(1);
    expect(report.exact).toBe(logged.length - 1);
    expect(report.firstDivergence).toMatchObject({
      decision: target.decision,
      logIndex: events.indexOf(target),
      status: 'diverged',
    });
    expect(report.firstDivergence!.expected[1]).toBe(picks[1]!.id);
    expect(report.firstDivergence!.got[1]).toBe(original);
  });

  it('a replay on an engine with another config diverges and says where', async () => {
    const events = await livedSession();
    const other = createEngine({
      catalog,
      scorer: createFallbackScorer(),
      config: { mmrLambda: 0.3, exploration: 0.3 },
    });
    const report = await replaySession(events, other);
    expect(report.ok).toBe(false);
    expect(report.diverged).toBeGreaterThan(0);
    expect(report.firstDivergence).not.toBeNull();
    expect(report.firstDivergence!.got).not.toEqual(report.firstDivergence!.expected);
    expect(report.divergences[0]).toEqual(report.firstDivergence);
  });

  it('rescore: score drift within the tolerance passes, beyond it diverges; a swap is a tolerated rank flip', async () => {
    const events = await livedSession();
    const drift = (delta: number) => {
      const copy = structuredClone(events);
      for (const pick of decisionsOf(copy).flatMap((d) => d.picks as Pick[])) pick.score += delta;
      return copy;
    };
    const small = await replaySession(drift(2e-5), engine, { mode: 'rescore', tolerance: 1e-4 });
    expect(small).toMatchObject({ ok: true, diverged: 0 });
    expect(small.maxScoreDelta).toBeGreaterThan(1e-5);
    expect(small.maxScoreDelta).toBeLessThan(3e-5);
    const large = await replaySession(drift(1e-2), engine, { mode: 'rescore', tolerance: 1e-4 });
    expect(large.ok).toBe(false);
    expect(large.firstDivergence!.decision).toBe(0);
    // Exact mode judges ids only: the same drift is exact there.
    expect(await replaySession(drift(1e-2), engine)).toMatchObject({ ok: true });

    const swapped = structuredClone(events);
    const decision = decisionsOf(swapped)[2]!;
    const picks = decision.picks as Pick[];
    [picks[0], picks[1]] = [picks[1]!, picks[0]!];
    const exact = await replaySession(swapped, engine);
    expect(exact.firstDivergence).toMatchObject({ decision: decision.decision, rankFlips: 1 });
    const rescored = await replaySession(swapped, engine, { mode: 'rescore' });
    expect(rescored).toMatchObject({ ok: true, tolerated: 1, rankFlips: 1 });
  });

  it('a feedback whose logged withdrawal differs from the engine is a command mismatch', async () => {
    const events = structuredClone(await livedSession());
    const change = events.find((e) => e.type === 'user.feedback' && Array.isArray(e.withdrawn))!;
    (change.withdrawn as number[]).pop();
    const report = await replaySession(events, engine);
    expect(report.ok).toBe(false);
    expect(report.commandMismatches).toEqual([
      expect.objectContaining({ logIndex: events.indexOf(change), type: 'user.feedback' }),
    ]);
  });

  it('replays a session that moved to another node (copies per node, compare-and-swap saves)', async () => {
    const shared = createMemoryStore();
    const sid = await continuesOnAnotherNode(() => shared);
    const events = (await shared.readEvents(sid)).map((e) => e.event);
    expect(new Set(events.map((e) => e.node))).toEqual(new Set(['A', 'B']));
    const report = await replaySession(events, fixtureEngine);
    expect(report).toMatchObject({ ok: true, diverged: 0, commandMismatches: [], notes: [] });
    expect(report.decisions).toBe(decisionsOf(events).length);
  });

  it('replays a log written before commands carried their outcome, and says so', async () => {
    const events = (await livedSession()).map((e) => {
      if (e.type === 'engine.decision' || e.type === 'user.start') return e;
      const { nowMs: _n, ok: _o, withdrawn: _w, reqId: _r, ...old } = e;
      return old as SessionLogEvent;
    });
    const report = await replaySession(events, engine);
    expect(report).toMatchObject({ ok: true, diverged: 0 });
    expect(report.exact).toBe(decisionsOf(events).length);
    expect(report.notes).toEqual([expect.stringContaining('every command is taken as accepted')]);
  });

  it('refuses a log that does not begin with the start (trimmed), and an empty one', async () => {
    const events = await livedSession();
    await expect(replaySession(events.slice(1), engine)).rejects.toMatchObject({
      code: 'SESSION_INVALID_REQUEST',
    });
    await expect(replaySession([], engine)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
  });
});
