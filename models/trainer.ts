import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { modelError } from './errors.ts';
import { FEATURE_COUNT } from './featureSchema.ts';
import { groupRanges, groupSoftmaxLoss, type RankerLoss, unitLoss } from './groupLoss.ts';
import { initMlp, type MlpParams, mlpForward } from './mlp.ts';
import { binaryAuc, checkData, logLoss, shuffle, splitRows, standardisation } from './trainingData.ts';

export { binaryAuc, logLoss } from './trainingData.ts';

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
  /**
   * `logistic` (default): each row against its label. `softmax`: each group's positive against the group's
   * other rows (needs `groups`, rows of a group contiguous); validation and early stopping use the same loss.
   */
  loss?: RankerLoss;
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
  const softmax = options.loss === 'softmax';
  if (softmax && !data.groups)
    throw modelError('MODEL_TRAINING_FAILED', 'The softmax loss needs groups: give each row its decision.');
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
  // delta[l]: the gradient of layer l's output for the row being back-propagated.
  const delta = sizes.map((s) => new Float64Array(s));
  const meanF = Float64Array.from(mean);
  const invStd = Float64Array.from(std, (s) => 1 / s);

  const trainX = train.X;
  const trainY = train.y;
  const trainW = train.weights;
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
  // Units of one gradient contribution: a row (logistic) or a decision's rows (softmax over the decision).
  const units = softmax ? groupRanges(train.groups as Int32Array, train.n) : null;
  const unitCount = units ? units.length / 2 : train.n;
  const unitOrder = new Int32Array(unitCount);
  for (let i = 0; i < unitCount; i++) unitOrder[i] = i;
  let maxUnit = 1;
  for (let u = 0; units && u < unitCount; u++) maxUnit = Math.max(maxUnit, units[2 * u + 1] - units[2 * u]);
  // slotAct[k][l]: layer l's output for the k-th row of the current unit; dLogit[k] its output gradient.
  const slotAct = Array.from({ length: maxUnit }, () => sizes.map((n) => new Float64Array(n)));
  const logits = new Float64Array(maxUnit);
  const dLogit = new Float64Array(maxUnit);
  const forward = (r: number, a: Float64Array[]): number => {
    const x0 = a[0];
    const base = r * d;
    for (let i = 0; i < d; i++) x0[i] = (trainX[base + i] - meanF[i]) * invStd[i];
    for (let l = 0; l < L; l++) {
      const inSize = sizes[l];
      const outSize = sizes[l + 1];
      const wl = W[l];
      const bl = B[l];
      const x = a[l];
      const z = a[l + 1];
      const relu = l < L - 1;
      for (let j = 0; j < outSize; j++) {
        let s = bl[j];
        const off = j * inSize;
        for (let i = 0; i < inSize; i++) s += wl[off + i] * x[i];
        z[j] = relu && s < 0 ? 0 : s;
      }
    }
    return a[L][0];
  };
  const backward = (a: Float64Array[], g0: number): void => {
    delta[L][0] = g0;
    for (let l = L - 1; l >= 0; l--) {
      const inSize = sizes[l];
      const outSize = sizes[l + 1];
      const x = a[l];
      const dz = delta[l + 1];
      const gw = gW[l];
      const gb = gB[l];
      for (let j = 0; j < outSize; j++) {
        const g = dz[j];
        if (g === 0) continue;
        gb[j] += g;
        const off = j * inSize;
        for (let i = 0; i < inSize; i++) gw[off + i] += g * x[i];
      }
      if (l === 0) break;
      const wl = W[l];
      const da = delta[l];
      for (let i = 0; i < inSize; i++) {
        // ReLU derivative: no gradient through units that were off.
        if (x[i] <= 0) {
          da[i] = 0;
          continue;
        }
        let s = 0;
        for (let j = 0; j < outSize; j++) s += wl[j * inSize + i] * dz[j];
        da[i] = s;
      }
    }
  };
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffle(unitOrder, gen);
    let epochLoss = 0;
    let epochWeight = 0;
    let next = 0;
    while (next < unitCount) {
      for (let l = 0; l < L; l++) {
        gW[l].fill(0);
        gB[l].fill(0);
      }
      let batchWeight = 0;
      // A batch is about `batchSize` rows: whole decisions under the softmax loss.
      for (let rows = 0; rows < batchSize && next < unitCount; ) {
        const u = unitOrder[next++];
        const from = units ? units[2 * u] : u;
        const to = units ? units[2 * u + 1] : u + 1;
        rows += to - from;
        for (let k = 0; k < to - from; k++) logits[k] = forward(from + k, slotAct[k]);
        const loss = unitLoss(logits, trainY, trainW, from, to - from, softmax, dLogit);
        epochLoss += loss.loss;
        epochWeight += loss.weight;
        batchWeight += loss.weight;
        for (let k = 0; k < to - from; k++) if (dLogit[k] !== 0) backward(slotAct[k], dLogit[k]);
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
      valLoss = softmax ? groupSoftmaxLoss(scores, val) : logLoss(scores, val.y, val.n);
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

/** The metrics as a model card wants them: numbers only, missing validation figures left out. */
export function metricsForCard(metrics: TrainMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}
