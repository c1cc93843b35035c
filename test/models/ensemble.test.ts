import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoSessions } from '../../engine/demo/demoSessions.ts';
import { trainModel } from '../../engine/training/trainModel.ts';
import { FEATURE_COUNT, FEATURE_SCHEMA } from '../../models/featureSchema.ts';
import { loadModel, MODEL_FILE } from '../../models/loadModel.ts';
import { ensembleForward, initMlp, type MlpParams, mlpForward } from '../../models/mlp.ts';
import { sha256Hex } from '../../models/modelCard.ts';
import { ensembleToOnnx, mlpToOnnx } from '../../models/onnxExport.ts';
import { loadOnnxScorer } from '../../models/onnxScorer.ts';
import { smallCatalog } from '../engine/fixtures.ts';
import { randomMlpParams, randomRows } from './syntheticData.ts';

const { onnx } = onnxProto;
const meta = { name: 'test-mlp', version: '1', schemaVersion: FEATURE_SCHEMA.version };

/** Params with their own standardisation and biases, so members differ in every part of the graph. */
const member = (seed: number, hidden = [32, 16]): MlpParams =>
  randomMlpParams(seed, [FEATURE_COUNT, ...hidden, 1]);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('ensembleToOnnx', () => {
  it('one member is the single-model export, byte for byte, and those bytes are the ones before ensembles', () => {
    const p = initMlp(7);
    const single = mlpToOnnx(p, meta);
    expect(sha256Hex(ensembleToOnnx([p], meta))).toBe(sha256Hex(single));
    // Pinned from the exporter as it was before ensembles existed (commit 4dc338e), on schema 3's 29 columns
    // (schema 4 added one; the exporter itself did not change).
    const schema3 = { ...meta, schemaVersion: 'omakase-features/3' };
    const p3 = initMlp(7, [29, 32, 16, 1]);
    expect(sha256Hex(ensembleToOnnx([p3], schema3))).toBe(
      '8407e3a12dc39185617de92319b0761e71e844c1dcfd19ec04c4dd685ca0a241',
    );
  });

  it("scores the mean of its members' mlpForward in a real ONNX Runtime session, within 1e-5", async () => {
    const members = [member(31), member(32), member(33, [16, 8])];
    const scorer = await loadOnnxScorer(ensembleToOnnx(members, meta));
    try {
      const X = randomRows(34, 500).map((v) => v * 3);
      const got = await scorer.score(X, 500);
      const each = members.map((m) => mlpForward(m, X, 500));
      const mean = Float64Array.from({ length: 500 }, (_, i) => (each[0][i] + each[1][i] + each[2][i]) / 3);
      expect(maxAbsDiff(got, mean)).toBeLessThan(1e-5);
      expect(maxAbsDiff(got, ensembleForward(members, X, 500))).toBeLessThan(1e-5);
      // Not trivially one member's scores: the members disagree by far more than the tolerance.
      expect(maxAbsDiff(each[0], each[1])).toBeGreaterThan(0.1);
    } finally {
      await scorer.release();
    }
  });

  it('keeps each branch apart: K standardisations, one Mean node writing the output', () => {
    const bytes = ensembleToOnnx([member(41), member(42)], meta);
    const graph = onnx.ModelProto.decode(bytes).graph as onnxProto.onnx.GraphProto;
    expect(graph.node.filter((n) => n.opType === 'Sub')).toHaveLength(2);
    const mean = graph.node.filter((n) => n.opType === 'Mean');
    expect(mean).toHaveLength(1);
    expect(mean[0].input).toEqual(['m0_score', 'm1_score']);
    expect(mean[0].output).toEqual([FEATURE_SCHEMA.output.name]);
  });

  it('refuses no members and members of different input widths', () => {
    expect(() => ensembleToOnnx([], meta)).toThrow(RangeError);
    expect(() => ensembleToOnnx([member(1), initMlp(2, [FEATURE_COUNT - 1, 4, 1])], meta)).toThrow(
      RangeError,
    );
  });
});

describe('trainModel --ensemble', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'omakase-ensemble-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('trains K rankers on the same examples, exports their mean and says so on the card', async () => {
    const catalog = smallCatalog({ items: 600, artists: 60 });
    const sessions = generateDemoSessions(catalog, { seed: 5, sessions: 60, minLength: 12, maxLength: 24 });
    const common = {
      catalog,
      sessions,
      name: 'ens',
      version: '1',
      seed: 9,
      data: 'small',
      dataHash: 'h',
      createdAt: '2026-12-03T00:00:00.000Z',
      epochs: 3,
    };
    const one = await trainModel({ ...common, outDir: join(root, 'k1') });
    const three = await trainModel({ ...common, outDir: join(root, 'k3'), ensemble: 3 });
    expect(one.members).toHaveLength(1);
    expect(three.members).toHaveLength(3);
    // Member 0 has the single model's seed and examples, so it is that model.
    expect(three.members[0]).toEqual(one.members[0]);
    expect(three.members[1]).not.toEqual(three.members[0]);
    expect(one.card.training.hyperparameters.ensemble).toBeUndefined();
    expect(three.card.training.hyperparameters.ensemble).toBe(3);
    expect(three.card.training.hyperparameters.ensembleSeeds).toEqual([9, 10, 11]);
    expect(three.card.training.split).toContain('an ensemble of 3 rankers (trainer seeds 9, 10, 11)');
    expect(three.card.metrics.member2ValAuc).toBeTypeOf('number');
    expect(three.card.training.examples).toBe(one.card.training.examples);

    const { scorer, card } = await loadModel(join(root, 'k3'));
    try {
      expect(card.sha256).toBe(sha256Hex(await readFile(join(root, 'k3', MODEL_FILE))));
      const X = randomRows(8, 300);
      expect(maxAbsDiff(await scorer.score(X, 300), ensembleForward(three.members, X, 300))).toBeLessThan(
        1e-5,
      );
    } finally {
      await scorer.release();
    }
  }, 60_000);

  it('with ensembleData, member k builds its own examples: member 0 is still the single model', async () => {
    const catalog = smallCatalog({ items: 600, artists: 60 });
    const sessions = generateDemoSessions(catalog, { seed: 6, sessions: 60, minLength: 12, maxLength: 24 });
    const common = {
      catalog,
      sessions,
      name: 'ens',
      version: '1',
      seed: 4,
      data: 'small',
      dataHash: 'h',
      createdAt: '2026-12-03T00:00:00.000Z',
      epochs: 2,
    };
    const one = await trainModel({ ...common, outDir: join(root, 'd1') });
    const shared = await trainModel({ ...common, outDir: join(root, 'd2s'), ensemble: 2 });
    const own = await trainModel({ ...common, outDir: join(root, 'd2'), ensemble: 2, ensembleData: true });
    expect(own.members[0]).toEqual(one.members[0]);
    // Member 1 saw other examples, so it is not the shared-examples member 1.
    expect(own.members[1]).not.toEqual(shared.members[1]);
    expect(own.card.training.hyperparameters.ensembleData).toBe(true);
    expect(shared.card.training.hyperparameters.ensembleData).toBeUndefined();
    expect(own.card.training.examples).toBeGreaterThan(one.card.training.examples);
    expect(shared.card.training.examples).toBe(one.card.training.examples);
  }, 60_000);
});
