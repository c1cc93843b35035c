import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { FEATURE_COUNT } from './featureSchema.ts';

/** One dense layer: `weights` is row-major [outSize][inSize] (ONNX Gemm with transB = 1). */
export interface MlpLayer {
  readonly inSize: number;
  readonly outSize: number;
  readonly weights: number[];
  readonly bias: number[];
}

/**
 * A multilayer perceptron as plain JSON: inputs are standardised as (x - mean) / std, then dense layers with
 * ReLU between them and a linear last layer whose single output is a logit. All numbers are float32 values.
 */
export interface MlpParams {
  /** Layer widths, input first, e.g. [FEATURE_COUNT, 32, 16, 1]. */
  readonly sizes: number[];
  readonly mean: number[];
  readonly std: number[];
  readonly layers: MlpLayer[];
}

/** The default architecture: FEATURE_COUNT → 32 → 16 → 1. */
export const DEFAULT_MLP_SIZES: readonly number[] = [FEATURE_COUNT, 32, 16, 1];

/** A seeded standard normal source (Box–Muller over xoroshiro128+). */
export function normalSource(seed: number): () => number {
  const gen = xoroshiro128plus(seed | 0);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    // 1 - u keeps the log argument in (0, 1].
    const u = 1 - uniformFloat64(gen);
    const v = uniformFloat64(gen);
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** He-initialised weights (suits ReLU), zero biases, identity standardisation; the same seed gives the same params. */
export function initMlp(seed: number, sizes: readonly number[] = DEFAULT_MLP_SIZES): MlpParams {
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new RangeError(`MLP sizes must be at least two positive integers, got [${sizes.join(', ')}]`);
  }
  const normal = normalSource(seed);
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inSize = sizes[l];
    const outSize = sizes[l + 1];
    const scale = Math.sqrt(2 / inSize);
    const weights = new Array<number>(inSize * outSize);
    for (let k = 0; k < weights.length; k++) weights[k] = Math.fround(normal() * scale);
    layers.push({ inSize, outSize, weights, bias: new Array<number>(outSize).fill(0) });
  }
  const d = sizes[0];
  return { sizes: [...sizes], mean: new Array<number>(d).fill(0), std: new Array<number>(d).fill(1), layers };
}

/**
 * Logits for `n` rows of `X` (row-major, sizes[0] columns), computed with float32 intermediates like the
 * exported ONNX graph so the two agree to ~1e-6. Returns n × outSize values (one logit per row by default).
 */
export function mlpForward(params: MlpParams, X: Float32Array, n: number): Float32Array {
  const d = params.sizes[0];
  if (X.length < n * d)
    throw new RangeError(`mlpForward needs ${n * d} values for ${n} rows, got ${X.length}`);
  const mean = Float32Array.from(params.mean);
  const std = Float32Array.from(params.std);
  // Weights as float32 so products use exactly the numbers stored in the ONNX initializers.
  const ws = params.layers.map((l) => Float32Array.from(l.weights));
  const bs = params.layers.map((l) => Float32Array.from(l.bias));
  const widest = Math.max(...params.sizes);
  let cur = new Float32Array(widest);
  let next = new Float32Array(widest);
  const outSize = params.sizes[params.sizes.length - 1];
  const out = new Float32Array(n * outSize);
  const last = params.layers.length - 1;
  for (let r = 0; r < n; r++) {
    const base = r * d;
    // Sub then Div, each rounded to float32, as the graph does.
    for (let i = 0; i < d; i++) cur[i] = Math.fround(X[base + i] - mean[i]) / std[i];
    for (let l = 0; l <= last; l++) {
      const { inSize, outSize: o } = params.layers[l];
      const w = ws[l];
      const b = bs[l];
      for (let j = 0; j < o; j++) {
        let s = 0;
        const off = j * inSize;
        for (let i = 0; i < inSize; i++) s += w[off + i] * cur[i];
        s += b[j];
        next[j] = l < last && s < 0 ? 0 : s;
      }
      const t = cur;
      cur = next;
      next = t;
    }
    for (let j = 0; j < outSize; j++) out[r * outSize + j] = cur[j];
  }
  return out;
}

/**
 * An ensemble's logits: the mean of its members' `mlpForward`, summed in member order in float32 and divided
 * by the count, as the exported graph's `Mean` node does. One member is exactly `mlpForward`.
 */
export function ensembleForward(members: readonly MlpParams[], X: Float32Array, n: number): Float32Array {
  if (members.length === 0) throw new RangeError('an ensemble needs at least one member');
  if (members.length === 1) return mlpForward(members[0], X, n);
  const out = mlpForward(members[0], X, n);
  for (let k = 1; k < members.length; k++) {
    const s = mlpForward(members[k], X, n);
    for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i] + s[i]);
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i] / members.length);
  return out;
}
