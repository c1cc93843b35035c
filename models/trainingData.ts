import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { modelError } from './errors.ts';
import type { TrainingData, ValidationSpec } from './trainer.ts';

// The trainer's data handling and scoring, apart from its optimisation loop: shuffling, standardisation,
// checks, the validation split, and the losses and AUC it reports.

export function shuffle(order: Int32Array, gen: Generator): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(uniformFloat64(gen) * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

/** Per-column mean and std as float32 values; a constant column gets std 1 so it passes through centred. */
export function standardisation(
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

export function checkData(data: TrainingData, d: number): void {
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

export type Generator = ReturnType<typeof xoroshiro128plus>;

/** Splits off validation rows: given rows as-is, or a seeded fraction (whole groups when groups exist). */
export function splitRows(
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
    const groups = data.groups ? new Int32Array(m) : undefined;
    let k = 0;
    for (let r = 0; r < data.n; r++) {
      if (isVal[r] !== flag) continue;
      X.set(data.X.subarray(r * d, (r + 1) * d), k * d);
      y[k] = data.y[r];
      if (weights && data.weights) weights[k] = data.weights[r];
      if (groups && data.groups) groups[k] = data.groups[r];
      k++;
    }
    return { X, y, n: m, weights, groups };
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
