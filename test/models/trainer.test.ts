import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../../models/featureSchema.ts';
import { mlpForward } from '../../models/mlp.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import { binaryAuc, type EpochInfo, metricsForCard, trainRanker } from '../../models/trainer.ts';
import { syntheticProblem } from './syntheticData.ts';

const options = { seed: 7, epochs: 8, batchSize: 128, learningRate: 3e-3, l2: 1e-5 };

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(isOmakaseError(err) ? err.code : err).toBe(code);
    return;
  }
  expect.unreachable(`expected ${code}`);
}

describe('trainRanker', () => {
  it('learns a nonlinear synthetic problem to validation AUC > 0.8', () => {
    const data = syntheticProblem(1, 12_000);
    const epochs: EpochInfo[] = [];
    const { params, metrics } = trainRanker(data, {
      ...options,
      validation: 0.2,
      onEpoch: (e) => epochs.push(e),
    });
    expect(metrics.valAuc).toBeGreaterThan(0.8);
    expect(metrics.valLogLoss).toBeLessThan(0.55);
    expect(metrics.trainExamples + metrics.valExamples).toBe(data.n);
    expect(metrics.positives).toBeGreaterThan(0);
    expect(metrics.negatives).toBeGreaterThan(0);
    expect(epochs.length).toBe(metrics.epochsRun);
    expect(epochs.filter((e) => e.improved).at(-1)?.epoch).toBe(metrics.bestEpoch);
    expect(params.sizes).toEqual([FEATURE_COUNT, 32, 16, 1]);
    expect(params.mean.length).toBe(FEATURE_COUNT);
  });

  it('gives a feature that never varied in training no say at scoring time', () => {
    const data = syntheticProblem(3, 4_000);
    const col = 5;
    for (let r = 0; r < data.n; r++) data.X[r * FEATURE_COUNT + col] = 0;
    const { params } = trainRanker(data, { ...options, validation: 0.2 });
    const first = params.layers[0];
    for (let j = 0; j < first.outSize; j++) expect(first.weights[j * first.inSize + col]).toBe(0);
    const rows = data.X.slice(0, 10 * FEATURE_COUNT);
    const moved = rows.slice();
    for (let r = 0; r < 10; r++) moved[r * FEATURE_COUNT + col] = 0.9;
    expect(Array.from(mlpForward(params, moved, 10))).toEqual(Array.from(mlpForward(params, rows, 10)));
  });

  it('uses an explicit validation set as given', () => {
    const train = syntheticProblem(2, 4_000);
    const val = syntheticProblem(3, 2_000);
    const { metrics } = trainRanker(train, { ...options, epochs: 6, learningRate: 1e-2, validation: val });
    expect(metrics.valExamples).toBe(2_000);
    expect(metrics.trainExamples).toBe(4_000);
    expect(metrics.valAuc).toBeGreaterThan(0.8);
  });

  it('gives exactly the same params for the same seed and different ones for another seed', () => {
    const data = syntheticProblem(4, 3_000);
    const a = trainRanker(data, { ...options, epochs: 2 });
    const b = trainRanker(data, { ...options, epochs: 2 });
    const c = trainRanker(data, { ...options, epochs: 2, seed: 8 });
    expect(JSON.stringify(a.params)).toBe(JSON.stringify(b.params));
    expect(a.metrics).toEqual(b.metrics);
    expect(JSON.stringify(c.params)).not.toBe(JSON.stringify(a.params));
  });

  it('stops early once validation loss stops improving and keeps the best epoch', () => {
    // Tiny data and a big learning rate overfit quickly.
    const data = syntheticProblem(5, 300);
    const { metrics } = trainRanker(data, {
      ...options,
      epochs: 200,
      learningRate: 3e-2,
      patience: 2,
      validation: 0.3,
    });
    expect(metrics.epochsRun).toBeLessThan(200);
    expect(metrics.epochsRun - metrics.bestEpoch).toBe(2);
  });

  it('fails with MODEL_TRAINING_FAILED without positives, without negatives, or with NaN features', () => {
    const data = syntheticProblem(6, 500);
    expectCode(() => trainRanker({ ...data, y: new Float32Array(data.n) }, options), 'MODEL_TRAINING_FAILED');
    expectCode(
      () => trainRanker({ ...data, y: new Float32Array(data.n).fill(1) }, options),
      'MODEL_TRAINING_FAILED',
    );
    const X = data.X.slice();
    X[17] = Number.NaN;
    expectCode(() => trainRanker({ ...data, X }, options), 'MODEL_TRAINING_FAILED');
    expectCode(() => trainRanker({ ...data, n: data.n + 1 }, options), 'MODEL_TRAINING_FAILED');
    expectCode(() => trainRanker(data, { ...options, hidden: [0] }), 'MODEL_TRAINING_FAILED');
  });

  it('fails with MODEL_TRAINING_FAILED when the loss diverges', () => {
    const data = syntheticProblem(7, 500);
    // Adam steps are about learningRate in size, so this one overflows float64 within a batch or two.
    expectCode(() => trainRanker(data, { ...options, learningRate: 1e300 }), 'MODEL_TRAINING_FAILED');
  });
});

describe('metricsForCard', () => {
  it('keeps finite numbers and drops missing validation figures', () => {
    const data = syntheticProblem(8, 400);
    const { metrics } = trainRanker(data, { ...options, epochs: 1, validation: 0 });
    expect(metrics.valAuc).toBeNull();
    const card = metricsForCard(metrics);
    expect(card).not.toHaveProperty('valAuc');
    expect(card.trainExamples).toBe(400);
    expect(card.trainLogLoss).toBe(metrics.trainLogLoss);
  });
});

describe('binaryAuc', () => {
  it('is 1 for a perfect ranking, 0.5 for all ties, and counts ties half', () => {
    const y = Float32Array.from([0, 0, 1, 1]);
    expect(binaryAuc(Float32Array.from([0.1, 0.2, 0.3, 0.4]), y, 4)).toBe(1);
    expect(binaryAuc(Float32Array.from([1, 1, 1, 1]), y, 4)).toBe(0.5);
    expect(binaryAuc(Float32Array.from([0.1, 0.3, 0.3, 0.4]), y, 4)).toBe(0.875);
  });
});
