import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { radioRuleBroken, type TimedPlay } from '../../../engine/policy/radioRules.ts';
import { RadioWindow, radioReach, TimelineRules } from '../../../engine/policy/radioWindow.ts';
import type { HistoryEntry } from '../../../engine/session.ts';

describe('RadioWindow', () => {
  const artists = ['a', 'b', 'c', 'd'];
  const albums = ['x', 'y', undefined] as const;
  const artistNumber = (artist: string) => artists.indexOf(artist);
  /** Albums are per artist: (a, x) and (b, x) are two albums. */
  const albumNumber = (artist: string, album: string | undefined) =>
    album === undefined ? -1 : 2 * artistNumber(artist) + (album === 'x' ? 0 : 1);
  const step = fc.record({
    artist: fc.constantFrom('a', 'b', 'c'),
    album: fc.constantFrom(...albums),
    // Mostly forward in time; now and then a play that starts before the one before it, which ends the
    // window as `radioRuleBroken` reads it.
    // Whole half hours too, so that plays fall exactly on the window's edge.
    gapMs: fc.oneof(
      fc.integer({ min: 0, max: 40 * 60_000 }),
      fc.constantFrom(0, 30 * 60_000, 60 * 60_000),
      fc.integer({ min: -4 * 3_600_000, max: 0 }),
    ),
    waitMs: fc.oneof(fc.integer({ min: 0, max: 60 * 60_000 }), fc.constantFrom(0, 30 * 60_000)),
  });

  it('gives the answer of radioRuleBroken for every candidate, slot after slot', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const window = new RadioWindow(artists.length, 2 * artists.length, steps.length);
        const plays: TimedPlay[] = [];
        let clock = 0;
        let at = 0;
        for (const s of steps) {
          // The next slot's start: never before the last one asked about.
          at = Math.max(at, clock + s.waitMs);
          window.moveTo(at);
          for (const artist of artists) {
            for (const album of albums) {
              expect(window.broken(artistNumber(artist), albumNumber(artist, album))).toBe(
                radioRuleBroken(plays, { artist, album, startMs: at }),
              );
            }
          }
          clock += s.gapMs;
          plays.push({ artist: s.artist, album: s.album, startMs: clock });
          window.append(artistNumber(s.artist), albumNumber(s.artist, s.album), clock);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads only the history the rules can still see (radioReach), with the same answers as the whole', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.array(step, { maxLength: 6 }),
        // Up to five hours of silence before the slate: a window that holds fewer plays than a run.
        fc.integer({ min: 0, max: 5 * 3_600_000 }),
        (past, picks, silenceMs) => {
          let clock = 0;
          const plays = past.map((s) => {
            clock += Math.max(0, s.gapMs);
            return { artist: s.artist, album: s.album, startMs: clock };
          });
          const start = clock + silenceMs;
          const reach = radioReach(plays as unknown as HistoryEntry[], start);
          const whole = new RadioWindow(artists.length, 2 * artists.length, plays.length + picks.length);
          const part = new RadioWindow(artists.length, 2 * artists.length, reach + picks.length);
          plays.forEach((p, i) => {
            const args = [artistNumber(p.artist), albumNumber(p.artist, p.album), p.startMs] as const;
            whole.append(...args);
            if (i >= plays.length - reach) part.append(...args);
          });
          let at = start;
          for (const pick of [undefined, ...picks]) {
            if (pick) {
              whole.append(artistNumber(pick.artist), albumNumber(pick.artist, pick.album), at);
              part.append(artistNumber(pick.artist), albumNumber(pick.artist, pick.album), at);
              at += pick.waitMs;
            }
            whole.moveTo(at);
            part.moveTo(at);
            for (const artist of artists)
              for (const album of albums)
                expect(part.broken(artistNumber(artist), albumNumber(artist, album))).toBe(
                  whole.broken(artistNumber(artist), albumNumber(artist, album)),
                );
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('counts in the arrays a released window gave back as in new ones, and gives them back zeroed', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.array(step, { maxLength: 30 }), (first, second) => {
        const playAll = (window: RadioWindow, steps: typeof first) => {
          let clock = 0;
          const answers: unknown[] = [];
          for (const s of steps) {
            window.moveTo(clock + s.waitMs);
            for (const artist of artists)
              for (const album of albums)
                answers.push(window.broken(artistNumber(artist), albumNumber(artist, album)));
            clock += Math.max(0, s.gapMs);
            window.append(artistNumber(s.artist), albumNumber(s.artist, s.album), clock);
          }
          return answers;
        };
        const used = new RadioWindow(artists.length, 2 * artists.length, first.length);
        playAll(used, first);
        const counts = used.release();
        expect([...counts.artists, ...counts.albums].every((n) => n === 0)).toBe(true);
        const reused = new RadioWindow(artists.length, 2 * artists.length, second.length, counts);
        const fresh = new RadioWindow(artists.length, 2 * artists.length, second.length);
        expect(playAll(reused, second)).toEqual(playAll(fresh, second));
      }),
      { numRuns: 300 },
    );
  });

  it('TimelineRules gives the answer of radioRuleBroken as the plays grow, candidates early or late', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const rules = new TimelineRules(steps.length);
        const plays: TimedPlay[] = [];
        let clock = 0;
        for (const s of steps) {
          // The candidate: before or after the last play (a retimed queue asks in time order, nearly always).
          const candidate = { artist: s.artist, album: s.album, startMs: clock + s.waitMs - 30 * 60_000 };
          expect(rules.broken(plays, candidate)).toBe(radioRuleBroken(plays, candidate));
          clock += s.gapMs;
          const play = { artist: s.artist, album: s.album, startMs: clock };
          plays.push(play);
          rules.append(play);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('TimelineRules answers a candidate earlier than one before it over the whole window again', () => {
    const hour = 3_600_000;
    const rules = new TimelineRules(6);
    const plays: TimedPlay[] = [];
    for (const [artist, album, startMs] of [
      ['a', 'x', 0],
      ['b', undefined, 0.5 * hour],
      ['a', 'x', hour],
      ['b', undefined, 1.5 * hour],
      ['a', 'x', 2 * hour],
      ['b', undefined, 2.5 * hour],
    ] as const) {
      plays.push({ artist, album, startMs });
      rules.append({ artist, album, startMs });
    }
    expect(rules.broken(plays, { artist: 'a', album: 'x', startMs: 6 * hour })).toBeUndefined();
    // Three hours back from here, all three plays of album x count.
    expect(rules.broken(plays, { artist: 'a', album: 'x', startMs: 2.6 * hour })).toBe('radio-album-window');
  });
});
