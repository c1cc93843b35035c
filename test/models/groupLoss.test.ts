import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../../models/featureSchema.ts';
import { groupRanges, groupSoftmaxLoss, unitLoss } from '../../models/groupLoss.ts';
import { mlpForward } from '../../models/mlp.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import { trainRanker } from '../../models/trainer.ts';
import { syntheticProblem } from './syntheticData.ts';

describe('groupRanges', () => {
  it('gives the start and end row of each run of one group', () => {
    expect(Array.from(groupRanges(Int32Array.from([0, 0, 0, 1, 2, 2]), 6))).toEqual([0, 3, 3, 4, 4, 6]);
  });
});

describe('unitLoss', () => {
  it('is the softmax cross-entropy of the positive, with its gradient', () => {
    const logits = Float64Array.from([1, -0.5, 2]);
    const y = Float32Array.from([1, 0, 0]);
    const d = new Float64Array(3);
    const { loss, weight } = unitLoss(logits, y, undefined, 0, 3, true, d);
    const sum = Math.exp(1) + Math.exp(-0.5) + Math.exp(2);
    expect(weight).toBe(1);
    expect(loss).toBeCloseTo(-(1 - Math.log(sum)), 12);
    // Finite differences of the loss against each logit.
    for (let k = 0; k < 3; k++) {
      const up = Float64Array.from(logits);
      up[k] += 1e-6;
      const moved = unitLoss(up, y, undefined, 0, 3, true, new Float64Array(3)).loss;
      expect(d[k]).toBeCloseTo((moved - loss) / 1e-6, 5);
    }
  });

  it('falls back to the logistic loss for a group without a positive (a logged skip)', () => {
    const d = new Float64Array(2);
    const { loss, weight } = unitLoss(
      Float64Array.from([0, 0]),
      Float32Array.from([0, 0]),
      undefined,
      0,
      2,
      true,
      d,
    );
    expect(weight).toBe(2);
    expect(loss).toBeCloseTo(2 * Math.log(2), 12);
    expect(Array.from(d)).toEqual([0.5, 0.5]);
  });
});

describe('trainRanker with the softmax loss', () => {
  // Groups of 8 rows, one positive each: the synthetic problem's first positive row of the group.
  function grouped(seed: number, groups: number) {
    const data = syntheticProblem(seed, groups * 8);
    const g = new Int32Array(data.n);
    for (let r = 0; r < data.n; r++) g[r] = Math.floor(r / 8);
    const y = new Float32Array(data.n);
    for (let q = 0; q < groups; q++) {
      // The first positive row of the group (or its first row) is the logged item.
      let pos = q * 8;
      for (let r = q * 8 + 7; r >= q * 8; r--) if (data.y[r] >= 0.5) pos = r;
      y[pos] = 1;
    }
    return { ...data, y, groups: g };
  }

  it('ranks the positive first in most held-out groups and early-stops on the softmax loss', () => {
    const data = grouped(11, 1_500);
    const { params, metrics } = trainRanker(data, {
      seed: 3,
      epochs: 6,
      batchSize: 128,
      learningRate: 3e-3,
      l2: 1e-5,
      validation: 0.2,
      loss: 'softmax',
    });
    expect(metrics.valAuc).toBeGreaterThan(0.7);
    const test = grouped(12, 300);
    const scores = mlpForward(params, test.X, test.n);
    let first = 0;
    for (let q = 0; q < 300; q++) {
      let top = q * 8;
      for (let r = q * 8; r < q * 8 + 8; r++) if (scores[r] > scores[top]) top = r;
      if (test.y[top] === 1) first++;
    }
    // Chance is 1 in 8.
    expect(first / 300).toBeGreaterThan(0.3);
    expect(groupSoftmaxLoss(scores, test)).toBeLessThan(Math.log(8));
    expect(params.sizes).toEqual([FEATURE_COUNT, 32, 16, 1]);
  });

  it('refuses rows without groups', () => {
    const { groups: _, ...data } = syntheticProblem(1, 200);
    try {
      trainRanker(data, { seed: 1, epochs: 1, batchSize: 64, learningRate: 1e-3, l2: 0, loss: 'softmax' });
    } catch (err) {
      expect(isOmakaseError(err) ? err.code : err).toBe('MODEL_TRAINING_FAILED');
      return;
    }
    expect.unreachable('expected MODEL_TRAINING_FAILED');
  });
});
