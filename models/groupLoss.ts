import type { TrainingData } from './trainer.ts';

/**
 * The ranker's losses per unit of gradient: a row under the logistic loss, or the rows of one decision
 * under the softmax loss (the logged item against the decision's other candidates, as the served ranking
 * has to put it above them). Rows of a group must be contiguous, as the training set writes them.
 */
export type RankerLoss = 'logistic' | 'softmax';

/** Start and end row of each group, flat: [start0, end0, start1, end1, …], in row order. */
export function groupRanges(groups: Int32Array, n: number): Int32Array {
  const out: number[] = [];
  let start = 0;
  for (let r = 1; r <= n; r++) {
    if (r === n || groups[r] !== groups[start]) {
      out.push(start, r);
      start = r;
    }
  }
  return Int32Array.from(out);
}

/**
 * Loss and output gradient (into `dLogit[0..count)`) of rows `from..from+count` with logits `logits[0..count)`.
 * Softmax: the positives' weights form the target distribution over the group, and the group weighs their
 * sum; a group without a positive (a logged skip) falls back to the logistic loss of its rows.
 */
export function unitLoss(
  logits: Float64Array,
  y: Float32Array,
  weights: Float32Array | undefined,
  from: number,
  count: number,
  softmax: boolean,
  dLogit: Float64Array,
): { loss: number; weight: number } {
  let target = 0;
  if (softmax)
    for (let k = 0; k < count; k++) if (y[from + k] >= 0.5) target += weights ? weights[from + k] : 1;
  if (target <= 0) {
    let loss = 0;
    let weight = 0;
    for (let k = 0; k < count; k++) {
      const w = weights ? weights[from + k] : 1;
      const z = logits[k];
      const t = y[from + k];
      if (w <= 0) {
        dLogit[k] = 0;
        continue;
      }
      loss += w * (Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z))));
      weight += w;
      dLogit[k] = w * (1 / (1 + Math.exp(-z)) - t);
    }
    return { loss, weight };
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < count; k++) if (logits[k] > max) max = logits[k];
  let sum = 0;
  for (let k = 0; k < count; k++) sum += Math.exp(logits[k] - max);
  const lse = max + Math.log(sum);
  let loss = target * lse;
  for (let k = 0; k < count; k++) {
    const t = y[from + k] >= 0.5 ? (weights ? weights[from + k] : 1) : 0;
    loss -= t * logits[k];
    dLogit[k] = target * Math.exp(logits[k] - lse) - t;
  }
  return { loss, weight: target };
}

/** Mean softmax loss per unit of positive weight over the groups of `data` (validation under the softmax loss). */
export function groupSoftmaxLoss(scores: Float32Array, data: TrainingData): number {
  if (!data.groups) throw new RangeError('the softmax loss needs groups');
  const ranges = groupRanges(data.groups, data.n);
  let max = 1;
  for (let u = 0; u < ranges.length; u += 2) max = Math.max(max, ranges[u + 1] - ranges[u]);
  const logits = new Float64Array(max);
  const scratch = new Float64Array(max);
  let loss = 0;
  let weight = 0;
  for (let u = 0; u < ranges.length; u += 2) {
    const from = ranges[u];
    const count = ranges[u + 1] - from;
    for (let k = 0; k < count; k++) logits[k] = scores[from + k];
    const part = unitLoss(logits, data.y, data.weights, from, count, true, scratch);
    loss += part.loss;
    weight += part.weight;
  }
  return weight > 0 ? loss / weight : 0;
}
