import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kthSmallest } from '../../engine/selection.ts';

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

  it('works on float64 values too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.nat(),
        (values, at) => {
          const k = at % values.length;
          expect(kthSmallest(Float64Array.from(values), k) === Float64Array.from(values).sort()[k]).toBe(
            true,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
