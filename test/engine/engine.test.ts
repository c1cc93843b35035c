import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/engine.ts';
import type { Pick } from '../../engine/pick.ts';
import { radioViolations } from '../../engine/policy/radioRules.ts';
import type { SessionState } from '../../engine/session.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import type { Scorer } from '../../models/scorer.ts';
import { smallCatalog } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1, 20);
const catalog = smallCatalog();
const engine = createEngine({ catalog, scorer: createFallbackScorer() });

type Reaction = 'completed' | 'skip-early' | 'skip-late' | 'liked' | 'disliked';

/** Plays a session: pick `batch` at a time, react to each pick in order, advance the clock as a player would. */
async function play(e: Engine, state: SessionState, reactions: Reaction[], batch = 5) {
  let clock = T0;
  const played: Pick[] = [];
  let r = 0;
  while (r < reactions.length) {
    const out = await e.next(state, { n: batch, nowMs: clock });
    state = out.state;
    if (out.picks.length === 0) break;
    for (const pick of out.picks) {
      // A pick withdrawn by earlier feedback never plays.
      if (!state.history.some((h) => h.pos === pick.pos) || r >= reactions.length) continue;
      played.push(pick);
      const reaction = reactions[r++];
      const fb =
        reaction === 'skip-early'
          ? { type: 'skipped' as const, pos: pick.pos, atMs: 4_000 }
          : reaction === 'skip-late'
            ? { type: 'skipped' as const, pos: pick.pos, atMs: 60_000 }
            : reaction === 'liked'
              ? { type: 'liked' as const, pos: pick.pos }
              : reaction === 'disliked'
                ? { type: 'disliked' as const, pos: pick.pos }
                : { type: 'completed' as const, pos: pick.pos };
      clock += fb.type === 'skipped' ? fb.atMs : pick.durationMs;
      state = e.feedback(state, fb, clock).state;
    }
  }
  return { state, played };
}

const reactionArb = fc.array(
  fc.constantFrom<Reaction>('completed', 'completed', 'skip-early', 'skip-late', 'liked', 'disliked'),
  {
    minLength: 10,
    maxLength: 80,
  },
);

describe('engine', () => {
  it('is deterministic: the same seed and feedback give the same picks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), reactionArb, async (seed, reactions) => {
        const a = await play(engine, engine.start({ seed }), reactions);
        const b = await play(engine, engine.start({ seed }), reactions);
        expect(b.played.map((p) => p.id)).toEqual(a.played.map((p) => p.id));
        expect(b.state).toEqual(a.state);
      }),
      { numRuns: 15 },
    );
  });

  it('never repeats an item inside the freshness window, whatever the feedback', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), reactionArb, async (seed, reactions) => {
        const { played } = await play(engine, engine.start({ seed }), reactions);
        expect(new Set(played.map((p) => p.id)).size).toBe(played.length);
      }),
      { numRuns: 25 },
    );
  });

  it('never breaks the radio rules in the radio profile, skips included', async () => {
    const radio = createEngine({ catalog: smallCatalog({ artists: 30 }), scorer: createFallbackScorer() });
    await fc.assert(
      fc.asyncProperty(fc.integer(), reactionArb, async (seed, reactions) => {
        const { played } = await play(radio, radio.start({ seed, profile: 'radio' }), [
          ...reactions,
          ...reactions,
        ]);
        // Re-time the stream as it really played (skips shorten it) before checking every 3-hour window.
        const timeline = played.map((p) => ({ artist: p.artist, album: p.album, startMs: 0 }));
        let clock = T0;
        played.forEach((p, i) => {
          timeline[i].startMs = clock;
          const r = reactions.concat(reactions)[i];
          clock += r === 'skip-early' ? 4_000 : r === 'skip-late' ? 60_000 : p.durationMs;
        });
        expect(radioViolations(timeline)).toEqual([]);
      }),
      { numRuns: 20 },
    );
  });

  it('the radio check has teeth: the default profile on the same catalog does break the rules', async () => {
    const e = createEngine({ catalog: smallCatalog({ artists: 30 }), scorer: createFallbackScorer() });
    const { played } = await play(e, e.start({ seed: 1 }), Array(120).fill('skip-late'));
    const timeline = played.map((p, i) => ({ artist: p.artist, album: p.album, startMs: T0 + i * 60_000 }));
    expect(radioViolations(timeline).length).toBeGreaterThan(0);
  });

  it('fills the requested count while the catalog allows, and stops cleanly when it does not', async () => {
    const tiny = createEngine({
      catalog: smallCatalog({ items: 40, artists: 10 }),
      scorer: createFallbackScorer(),
    });
    let state = tiny.start({ seed: 3 });
    let total = 0;
    for (let k = 0; k < 6; k++) {
      const out = await tiny.next(state, { n: 10, nowMs: T0 });
      state = out.state;
      total += out.picks.length;
      if (total < 40) expect(out.picks.length).toBe(10);
    }
    expect(total).toBe(40);
  });

  it('keeps a disliked artist out of at least the next 10 picks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        let state = engine.start({ seed });
        const first = await engine.next(state, { n: 5, nowMs: T0 });
        const disliked = first.picks[0];
        const fb = engine.feedback(first.state, { type: 'disliked', pos: disliked.pos }, T0);
        state = fb.state;
        const after: Pick[] = first.picks.slice(1).filter((p) => !fb.withdrawn.includes(p.pos));
        while (after.length < 14) {
          const out = await engine.next(state, { n: 5, nowMs: T0 });
          state = out.state;
          after.push(...out.picks);
        }
        expect(after.slice(0, 10).map((p) => p.artist)).not.toContain(disliked.artist);
      }),
      { numRuns: 20 },
    );
  });

  it('withdraws queued picks by a disliked artist and reports them', async () => {
    const state = engine.start({ seed: 11 });
    const out = await engine.next(state, { n: 30, nowMs: T0 });
    const byArtist = new Map<string, Pick[]>();
    for (const p of out.picks) byArtist.set(p.artist, [...(byArtist.get(p.artist) ?? []), p]);
    const [, repeated] = [...byArtist].find(([, ps]) => ps.length > 1) ?? [];
    expect(repeated).toBeDefined();
    const fb = engine.feedback(out.state, { type: 'disliked', pos: repeated![0].pos }, T0);
    expect(fb.withdrawn).toEqual(repeated!.slice(1).map((p) => p.pos));
    expect(fb.state.history.some((h) => h.pos === repeated![1].pos)).toBe(false);
  });

  it('an early skip changes the very next pick', async () => {
    let changed = 0;
    for (let seed = 0; seed < 10; seed++) {
      const start = await engine.next(engine.start({ seed }), { n: 1, nowMs: T0 });
      const kept = engine.feedback(start.state, { type: 'completed', pos: 0 }, T0);
      const skipped = engine.feedback(start.state, { type: 'skipped', pos: 0, atMs: 3_000 }, T0);
      const a = await engine.next(kept.state, { n: 1, nowMs: T0 });
      const b = await engine.next(skipped.state, { n: 1, nowMs: T0 });
      if (a.picks[0].id !== b.picks[0].id) changed++;
    }
    expect(changed).toBeGreaterThanOrEqual(8);
  });

  it('"something calmer" turns the next picks calm and withdraws what was queued', async () => {
    const out = await engine.next(engine.start({ seed: 5, intent: { tag: 'energetic' } }), {
      n: 10,
      nowMs: T0,
    });
    const steered = engine.steer(out.state, { kind: 'mood', tag: 'calm' }, T0);
    expect(steered.withdrawn.length).toBe(10);
    const next = await engine.next(steered.state, { n: 10, nowMs: T0 });
    const calm = next.picks.filter((p) => catalog.get(p.id)!.tags.includes('calm')).length;
    expect(calm).toBeGreaterThanOrEqual(7);
  });

  it('records a propensity and reasons on every pick', async () => {
    const out = await engine.next(engine.start({ seed: 1 }), { n: 20, nowMs: T0 });
    for (const p of out.picks) {
      expect(p.propensity).toBeGreaterThan(0);
      expect(p.propensity).toBeLessThanOrEqual(1);
      expect(p.reasons.source.length).toBeGreaterThan(0);
      expect(p.reasons.rules).toContain('fresh');
    }
    expect(out.picks.some((p) => p.reasons.explored)).toBe(out.picks.some((p) => p.propensity < 0.5));
  });

  it('never explores on the first picks of a session: they set its tone', async () => {
    for (let seed = 0; seed < 40; seed++) {
      const out = await engine.next(engine.start({ seed }), { n: 3, nowMs: T0 });
      for (const p of out.picks) {
        expect(p.reasons.explored).toBe(false);
        expect(p.propensity).toBe(1);
      }
    }
  });

  it('falls back to the simple scorer, marked degraded, when the model throws', async () => {
    const broken: Scorer = {
      id: 'broken@1',
      degraded: false,
      score: async () => {
        throw new Error('model crashed');
      },
    };
    const e = createEngine({ catalog, scorer: broken });
    const out = await e.next(e.start({ seed: 2 }), { n: 10, nowMs: T0 });
    expect(out.picks).toHaveLength(10);
    expect(out.picks.every((p) => p.reasons.degraded && p.reasons.model === 'fallback')).toBe(true);
  });

  it('rejects feedback for a position never picked, with a stable code', async () => {
    const out = await engine.next(engine.start({ seed: 1 }), { n: 3, nowMs: T0 });
    let caught: unknown;
    try {
      engine.feedback(out.state, { type: 'liked', pos: 99 }, T0);
    } catch (err) {
      caught = err;
    }
    expect(isOmakaseError(caught, 'ENGINE_UNKNOWN_POSITION')).toBe(true);
  });

  it('rejects a request for zero picks or too many', async () => {
    const state = engine.start({ seed: 1 });
    await expect(engine.next(state, { n: 0, nowMs: T0 })).rejects.toMatchObject({
      code: 'ENGINE_INVALID_REQUEST',
    });
    await expect(engine.next(state, { n: 101, nowMs: T0 })).rejects.toMatchObject({
      code: 'ENGINE_INVALID_REQUEST',
    });
  });

  it('keeps artist spacing in the default profile', async () => {
    const { played } = await play(engine, engine.start({ seed: 9 }), Array(60).fill('completed'), 10);
    for (let i = 1; i < played.length; i++) {
      const window = played.slice(Math.max(0, i - 4), i).map((p) => p.artist);
      expect(window).not.toContain(played[i].artist);
    }
  });
});
