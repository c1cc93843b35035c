import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { modelError } from './errors.ts';
import { FEATURE_COUNT } from './featureSchema.ts';
import { initMlp, type MlpParams, mlpForward } from './mlp.ts';

/** Training rows: `X` row-major n × featureCount, labels in [0, 1], optional row weights and group ids (sessions). */
export interface TrainingData {
  X: Float32Array;
  y: Float32Array;
  n: number;
  weights?: Float32Array;
  /** Rows of one group (e.g. a session) stay on one side of a held-out validation split. */
  groups?: Int32Array;
}

/** Rows for validation, given as-is (`{X, y, n}`) or as a fraction of the training data held out. */
export type ValidationSpec = { X: Float32Array; y: Float32Array; n: number } | number;

export interface EpochInfo {
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
  valAuc: number | null;
  improved: boolean;
}

export interface TrainOptions {
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on weights (not biases), added to the gradient as l2 · w. */
  l2: number;
  /** Default 0.1 (held out by group when `groups` is given); 0 turns validation and early stopping off. */
  validation?: ValidationSpec;
  /** Hidden layer widths; default [32, 16]. */
  hidden?: number[];
  /** Epochs without a better validation loss before stopping; default 3. */
  patience?: number;
  /** Columns per row; default FEATURE_COUNT. */
  featureCount?: number;
  onEpoch?: (info: EpochInfo) => void;
}

export interface TrainMetrics {
  trainLogLoss: number;
  valLogLoss: number | null;
  valAuc: number | null;
  epochsRun: number;
  bestEpoch: number;
  positives: number;
  negatives: number;
  trainExamples: number;
  valExamples: number;
}

/** Suggested hyperparameters for the ranking MLP. */
export const DEFAULT_TRAIN_OPTIONS = {
  epochs: 10,
  batchSize: 256,
  learningRate: 3e-3,
  l2: 1e-5,
  hidden: [32, 16],
  patience: 3,
} as const;

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/**
 * Trains a binary ranker (logit output) with Adam on weighted cross-entropy; deterministic for a seed.
 * Labels are in [0, 1]; a row counts as positive when y ≥ 0.5. Returns the params of the best validation epoch.
 */
export function trainRanker(
  data: TrainingData,
  options: TrainOptions,
): { params: MlpParams; metrics: TrainMetrics } {
  const d = options.featureCount ?? FEATURE_COUNT;
  checkData(data, d);
  const { epochs, batchSize, learningRate, l2 } = options;
  if (!(epochs >= 1 && batchSize >= 1 && learningRate > 0 && l2 >= 0)) {
    throw modelError('MODEL_TRAINING_FAILED', 'epochs and batchSize must be ≥ 1, learningRate > 0, l2 ≥ 0.', {
      details: { epochs, batchSize, learningRate, l2 },
    });
  }
  const patience = options.patience ?? DEFAULT_TRAIN_OPTIONS.patience;
  const gen = xoroshiro128plus(options.seed | 0);
  const split = splitRows(data, options.validation ?? 0.1, d, gen);
  const train = split.train;
  const val = split.val;

  let positives = 0;
  let negatives = 0;
  for (let r = 0; r < train.n; r++) {
    if (train.y[r] >= 0.5) positives++;
    else negatives++;
  }
  if (positives === 0 || negatives === 0) {
    throw modelError(
      'MODEL_TRAINING_FAILED',
      `The training split has ${positives} positives and ${negatives} negatives; both are needed. Collect more sessions or lower the validation fraction.`,
      { details: { positives, negatives } },
    );
  }

  const hidden = options.hidden ?? DEFAULT_TRAIN_OPTIONS.hidden;
  if (hidden.some((h) => !Number.isInteger(h) || h < 1)) {
    throw modelError(
      'MODEL_TRAINING_FAILED',
      `hidden layer widths must be positive integers, got [${hidden}].`,
    );
  }
  const sizes = [d, ...hidden, 1];
  const { mean, std, constant } = standardisation(train.X, train.n, d);
  const init = initMlp(options.seed, sizes);
  const L = sizes.length - 1;
  const W = init.layers.map((l) => Float64Array.from(l.weights));
  // A feature that never varied in training (e.g. steering, absent from the logs) carries no information:
  // its input weights start at zero and, since its centred input is always zero, stay there. Random initial
  // weights would otherwise turn its first non-zero value at serving time into noise.
  for (let i = 0; i < d; i++) {
    if (!constant[i]) continue;
    for (let j = 0; j < sizes[1]; j++) W[0][j * d + i] = 0;
  }
  const B = init.layers.map((l) => Float64Array.from(l.bias));
  const gW = W.map((w) => new Float64Array(w.length));
  const gB = B.map((b) => new Float64Array(b.length));
  const mW = W.map((w) => new Float64Array(w.length));
  const vW = W.map((w) => new Float64Array(w.length));
  const mB = B.map((b) => new Float64Array(b.length));
  const vB = B.map((b) => new Float64Array(b.length));
  // act[l] holds layer l's output for the current row (act[0] = standardised input); delta[l] its gradient.
  const act = sizes.map((s) => new Float64Array(s));
  const delta = sizes.map((s) => new Float64Array(s));
  const meanF = Float64Array.from(mean);
  const invStd = Float64Array.from(std, (s) => 1 / s);

  const trainX = train.X;
  const trainY = train.y;
  const trainW = train.weights;
  const order = new Int32Array(train.n);
  for (let i = 0; i < train.n; i++) order[i] = i;
  const snapshot = (): MlpParams => ({
    sizes: [...sizes],
    mean,
    std,
    layers: W.map((w, l) => ({
      inSize: sizes[l],
      outSize: sizes[l + 1],
      weights: Array.from(Float32Array.from(w)),
      bias: Array.from(Float32Array.from(B[l])),
    })),
  });

  let best: MlpParams = snapshot();
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let epochsRun = 0;
  let step = 0;
  let stale = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffle(order, gen);
    let epochLoss = 0;
    let epochWeight = 0;
    for (let start = 0; start < train.n; start += batchSize) {
      const end = Math.min(train.n, start + batchSize);
      for (let l = 0; l < L; l++) {
        gW[l].fill(0);
        gB[l].fill(0);
      }
      let batchWeight = 0;
      for (let k = start; k < end; k++) {
        const r = order[k];
        const w = trainW ? trainW[r] : 1;
        if (w <= 0) continue;
        const x0 = act[0];
        const base = r * d;
        for (let i = 0; i < d; i++) x0[i] = (trainX[base + i] - meanF[i]) * invStd[i];
        for (let l = 0; l < L; l++) {
          const inSize = sizes[l];
          const outSize = sizes[l + 1];
          const wl = W[l];
          const bl = B[l];
          const a = act[l];
          const z = act[l + 1];
          const relu = l < L - 1;
          for (let j = 0; j < outSize; j++) {
            let s = bl[j];
            const off = j * inSize;
            for (let i = 0; i < inSize; i++) s += wl[off + i] * a[i];
            z[j] = relu && s < 0 ? 0 : s;
          }
        }
        const logit = act[L][0];
        const y = trainY[r];
        epochLoss += w * (Math.max(logit, 0) - logit * y + Math.log1p(Math.exp(-Math.abs(logit))));
        epochWeight += w;
        batchWeight += w;
        delta[L][0] = w * (1 / (1 + Math.exp(-logit)) - y);
        for (let l = L - 1; l >= 0; l--) {
          const inSize = sizes[l];
          const outSize = sizes[l + 1];
          const a = act[l];
          const dz = delta[l + 1];
          const gw = gW[l];
          const gb = gB[l];
          for (let j = 0; j < outSize; j++) {
            const g = dz[j];
            if (g === 0) continue;
            gb[j] += g;
            const off = j * inSize;
            for (let i = 0; i < inSize; i++) gw[off + i] += g * a[i];
          }
          if (l === 0) break;
          const wl = W[l];
          const da = delta[l];
          for (let i = 0; i < inSize; i++) {
            // ReLU derivative: no gradient through units that were off.
            if (a[i] <= 0) {
              da[i] = 0;
              continue;
            }
            let s = 0;
            for (let j = 0; j < outSize; j++) s += wl[j * inSize + i] * dz[j];
            da[i] = s;
          }
        }
      }
      if (batchWeight === 0) continue;
      step++;
      const c1 = 1 - BETA1 ** step;
      const c2 = 1 - BETA2 ** step;
      const inv = 1 / batchWeight;
      for (let l = 0; l < L; l++) {
        adam(W[l], gW[l], mW[l], vW[l], inv, l2, learningRate, c1, c2);
        adam(B[l], gB[l], mB[l], vB[l], inv, 0, learningRate, c1, c2);
      }
    }
    epochsRun = epoch;
    const trainLoss = epochLoss / epochWeight;
    if (!Number.isFinite(trainLoss)) {
      throw modelError(
        'MODEL_TRAINING_FAILED',
        `Training loss became ${trainLoss} in epoch ${epoch}. Lower the learning rate or check the features for NaN/Infinity.`,
        { details: { epoch, trainLoss } },
      );
    }
    const current = snapshot();
    let valLoss: number | null = null;
    let valAuc: number | null = null;
    let improved = true;
    if (val) {
      const scores = mlpForward(current, val.X, val.n);
      valLoss = logLoss(scores, val.y, val.n);
      valAuc = aucOrNull(scores, val.y, val.n);
      improved = valLoss < bestLoss - 1e-7;
    }
    if (improved) {
      best = current;
      bestLoss = valLoss ?? trainLoss;
      bestEpoch = epoch;
      stale = 0;
    } else {
      stale++;
    }
    options.onEpoch?.({ epoch, trainLoss, valLoss, valAuc, improved });
    if (val && stale >= patience) break;
  }

  // Final numbers come from the float32 params that will ship, not from the float64 training copy.
  const trainScores = mlpForward(best, train.X, train.n);
  const metrics: TrainMetrics = {
    trainLogLoss: logLoss(trainScores, train.y, train.n),
    valLogLoss: null,
    valAuc: null,
    epochsRun,
    bestEpoch,
    positives,
    negatives,
    trainExamples: train.n,
    valExamples: val ? val.n : 0,
  };
  if (val) {
    const scores = mlpForward(best, val.X, val.n);
    metrics.valLogLoss = logLoss(scores, val.y, val.n);
    metrics.valAuc = aucOrNull(scores, val.y, val.n);
  }
  return { params: best, metrics };
}

function aucOrNull(scores: Float32Array, y: Float32Array, n: number): number | null {
  const auc = binaryAuc(scores, y, n);
  return Number.isNaN(auc) ? null : auc;
}

function adam(
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  scale: number,
  l2: number,
  lr: number,
  c1: number,
  c2: number,
): void {
  for (let k = 0; k < p.length; k++) {
    const gk = g[k] * scale + l2 * p[k];
    m[k] = BETA1 * m[k] + (1 - BETA1) * gk;
    v[k] = BETA2 * v[k] + (1 - BETA2) * gk * gk;
    p[k] -= (lr * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + EPS);
  }
}

function shuffle(order: Int32Array, gen: Generator): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(uniformFloat64(gen) * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

/** Per-column mean and std as float32 values; a constant column gets std 1 so it passes through centred. */
function standardisation(
  X: Float32Array,
  n: number,
  d: number,
): { mean: number[]; std: number[]; constant: boolean[] } {
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const base = r * d;
    for (let i = 0; i < d; i++) sum[i] += X[base + i];
  }
  const mean = Array.from(sum, (s) => s / n);
  for (let r = 0; r < n; r++) {
    const base = r * d;
    for (let i = 0; i < d; i++) {
      const c = X[base + i] - mean[i];
      sq[i] += c * c;
    }
  }
  const constant = Array.from(sq, (s) => Math.sqrt(s / n) <= 1e-6);
  const std = Array.from(sq, (s, i) => (constant[i] ? 1 : Math.fround(Math.sqrt(s / n))));
  return { mean: mean.map(Math.fround), std, constant };
}

function checkData(data: TrainingData, d: number): void {
  const { X, y, n } = data;
  const problems: string[] = [];
  if (!Number.isInteger(n) || n < 1) problems.push(`n must be a positive integer, got ${n}`);
  else {
    if (X.length !== n * d) problems.push(`X has ${X.length} values, expected n × ${d} = ${n * d}`);
    if (y.length !== n) problems.push(`y has ${y.length} values, expected ${n}`);
    if (data.weights && data.weights.length !== n) problems.push(`weights has ${data.weights.length} values`);
    if (data.groups && data.groups.length !== n) problems.push(`groups has ${data.groups.length} values`);
  }
  if (problems.length === 0) {
    for (let r = 0; r < n; r++) {
      if (!(y[r] >= 0 && y[r] <= 1)) {
        problems.push(`y[${r}] = ${y[r]} is outside [0, 1]`);
        break;
      }
    }
    for (let k = 0; k < X.length; k++) {
      if (!Number.isFinite(X[k])) {
        problems.push(`X row ${Math.floor(k / d)} column ${k % d} is ${X[k]}`);
        break;
      }
    }
  }
  if (problems.length > 0) {
    throw modelError('MODEL_TRAINING_FAILED', `Training data is malformed: ${problems.join('; ')}.`, {
      details: { problems },
    });
  }
}

/** The metrics as a model card wants them: numbers only, missing validation figures left out. */
export function metricsForCard(metrics: TrainMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

type Generator = ReturnType<typeof xoroshiro128plus>;

/** Splits off validation rows: given rows as-is, or a seeded fraction (whole groups when groups exist). */
function splitRows(
  data: TrainingData,
  validation: ValidationSpec,
  d: number,
  gen: Generator,
): { train: TrainingData; val: TrainingData | null } {
  if (typeof validation !== 'number') {
    checkData(validation, d);
    return { train: data, val: validation };
  }
  if (!(validation >= 0 && validation < 1)) {
    throw modelError('MODEL_TRAINING_FAILED', `validation fraction must be in [0, 1), got ${validation}.`);
  }
  if (validation === 0) return { train: data, val: null };
  const isVal = new Uint8Array(data.n);
  if (data.groups) {
    const ids = Int32Array.from(new Set(data.groups)).sort();
    const order = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) order[i] = i;
    shuffle(order, gen);
    const held = new Set<number>();
    const take = Math.max(1, Math.round(ids.length * validation));
    for (let k = 0; k < take && k < ids.length - 1; k++) held.add(ids[order[k]]);
    for (let r = 0; r < data.n; r++) isVal[r] = held.has(data.groups[r]) ? 1 : 0;
  } else {
    for (let r = 0; r < data.n; r++) isVal[r] = uniformFloat64(gen) < validation ? 1 : 0;
  }
  const pick = (flag: number): TrainingData => {
    let m = 0;
    for (let r = 0; r < data.n; r++) if (isVal[r] === flag) m++;
    const X = new Float32Array(m * d);
    const y = new Float32Array(m);
    const weights = data.weights ? new Float32Array(m) : undefined;
    let k = 0;
    for (let r = 0; r < data.n; r++) {
      if (isVal[r] !== flag) continue;
      X.set(data.X.subarray(r * d, (r + 1) * d), k * d);
      y[k] = data.y[r];
      if (weights && data.weights) weights[k] = data.weights[r];
      k++;
    }
    return { X, y, n: m, weights };
  };
  const val = pick(1);
  if (val.n === 0) return { train: data, val: null };
  return { train: pick(0), val };
}

/** Mean binary cross-entropy of logits against labels in [0, 1]. */
export function logLoss(logits: Float32Array, y: Float32Array, n: number): number {
  let s = 0;
  for (let r = 0; r < n; r++) {
    const z = logits[r];
    s += Math.max(z, 0) - z * y[r] + Math.log1p(Math.exp(-Math.abs(z)));
  }
  return s / n;
}

/** ROC AUC with y ≥ 0.5 as positive (Mann–Whitney, ties counted half); NaN when one class is missing. */
export function binaryAuc(scores: Float32Array, y: Float32Array, n: number): number {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[idx[k]] >= 0.5) {
        pos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
