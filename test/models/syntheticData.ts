import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { FEATURE_COUNT } from '../../models/featureSchema.ts';

/** Uniform [-1, 1) rows of `d` columns from a seeded generator. */
export function randomRows(seed: number, n: number, d: number = FEATURE_COUNT): Float32Array {
  const gen = xoroshiro128plus(seed);
  const X = new Float32Array(n * d);
  for (let k = 0; k < X.length; k++) X[k] = uniformFloat64(gen) * 2 - 1;
  return X;
}

/**
 * A ranking-like problem no linear model solves: the label is the sign of an interaction, a bump and a
 * threshold on a few columns, plus logistic noise; the other columns are distractors. Rows come in groups of 20.
 */
export function syntheticProblem(seed: number, n: number) {
  const X = randomRows(seed, n);
  const gen = xoroshiro128plus(seed + 1);
  const y = new Float32Array(n);
  const groups = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const x = X.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT);
    const signal = 4 * x[0] * x[1] + 3 * Math.cos(3 * x[2]) - 2 + 2 * (x[3] > 0.3 ? 1 : -1) * x[4];
    const u = Math.min(Math.max(uniformFloat64(gen), 1e-9), 1 - 1e-9);
    const noise = 0.5 * Math.log(u / (1 - u));
    y[r] = signal + noise > 0 ? 1 : 0;
    groups[r] = Math.floor(r / 20);
  }
  return { X, y, n, groups };
}
