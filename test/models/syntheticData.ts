import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { FEATURE_COUNT } from '../../models/featureSchema.ts';
import { initMlp, type MlpParams } from '../../models/mlp.ts';

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

/**
 * Random non-trivial MLP params: nonzero biases and standardisation, so every part of an exported graph is
 * exercised.
 */
export function randomMlpParams(
  seed: number,
  sizes: readonly number[] = [FEATURE_COUNT, 32, 16, 1],
): MlpParams {
  const p = initMlp(seed, sizes);
  const noise = randomRows(seed + 100, 1, 1000);
  return {
    ...p,
    mean: p.mean.map((_, i) => Math.fround(noise[i] * 0.5)),
    std: p.std.map((_, i) => Math.fround(0.5 + Math.abs(noise[100 + i]))),
    layers: p.layers.map((l, k) => ({
      ...l,
      bias: l.bias.map((_, j) => Math.fround(noise[200 + k * 50 + j] * 0.3)),
    })),
  };
}
