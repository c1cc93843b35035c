import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { radioChecker, radioRuleBroken, type TimedPlay } from '../../../engine/policy/radioRules.ts';
import { kthSmallest } from '../../../engine/policy/slatePolicy.ts';

describe('kthSmallest', () => {
  it('gives what a full ascending sort gives at position k, ties and NaN included', () => {
    const value = fc.oneof(
      fc.float({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(0, -0, 1, 0.5, Number.NaN),
    );
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), fc.nat(), (values, at) => {
        const k = at % values.length;
        const sorted = Float32Array.from(values).sort();
        const got = kthSmallest(Float32Array.from(values), k);
        // -0 and 0 compare equal, which is all the slate's cut needs.
        if (Number.isNaN(sorted[k])) expect(got).toBeNaN();
        else expect(got === sorted[k]).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

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
