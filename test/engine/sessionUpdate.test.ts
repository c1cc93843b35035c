import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendBounded } from '../../engine/sessionUpdate.ts';

describe('appendBounded', () => {
  it('is [...older, ...added].slice(-limit) in one copy, for any lengths and limits (0 and below keep all)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 3 }), { maxLength: 40 }),
        fc.array(fc.string({ maxLength: 3 }), { maxLength: 40 }),
        fc.integer({ min: -3, max: 90 }),
        (older, added, limit) => {
          const before = [...older];
          expect(appendBounded(older, added, limit)).toEqual([...older, ...added].slice(-Math.max(0, limit)));
          // The state it reads from is never changed.
          expect(older).toEqual(before);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
