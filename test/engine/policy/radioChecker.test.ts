import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { radioChecker, radioRuleBroken, type TimedPlay } from '../../../engine/policy/radioRules.ts';

describe('radioChecker', () => {
  const artists = ['a', 'b', 'c'];
  const play = fc.record({
    artist: fc.constantFrom(...artists),
    album: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
    gapMs: fc.integer({ min: 0, max: 40 * 60_000 }),
  });

  it('agrees with radioRuleBroken for every candidate', () => {
    fc.assert(
      fc.property(
        fc.array(play, { maxLength: 40 }),
        fc.integer({ min: 0, max: 60 * 60_000 }),
        (list, wait) => {
          const plays: TimedPlay[] = [];
          let clock = 0;
          for (const p of list) {
            clock += p.gapMs;
            plays.push({ artist: p.artist, album: p.album, startMs: clock });
          }
          const startMs = clock + wait;
          const check = radioChecker(plays, startMs);
          for (const artist of [...artists, 'd']) {
            for (const album of ['x', 'y', undefined]) {
              expect(check(artist, album)).toBe(radioRuleBroken(plays, { artist, album, startMs }));
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
