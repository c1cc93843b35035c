import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_SCHEMA } from '../../models/featureSchema.ts';
import {
  CARD_FILE,
  loadModel,
  MODEL_FILE,
  type ModelCardFields,
  writeModel,
} from '../../models/loadModel.ts';
import { initMlp, mlpForward } from '../../models/mlp.ts';
import { sha256Hex } from '../../models/modelCard.ts';
import { randomRows } from './syntheticData.ts';

const fields: ModelCardFields = {
  name: 'omakase-test',
  version: '3',
  createdAt: '2025-01-02T03:04:05.000Z',
  training: {
    data: 'synthetic',
    dataHash: 'abc123',
    sessions: 10,
    examples: 200,
    split: 'by session, 10% validation',
    seed: 7,
    epochs: 2,
    hyperparameters: { learningRate: 0.003, hidden: [32, 16] },
  },
  metrics: { valAuc: 0.9 },
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'omakase-models-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

describe('writeModel / loadModel', () => {
  const params = initMlp(21);

  it('round-trips: the loaded scorer matches mlpForward and the card is as written', async () => {
    const dir = join(root, 'ok');
    const written = await writeModel(dir, params, fields);
    const bytes = await readFile(join(dir, MODEL_FILE));
    expect(written.sha256).toBe(sha256Hex(bytes));
    expect(written.schemaVersion).toBe(FEATURE_SCHEMA.version);
    expect(written.runtime.intraOpThreads).toBe(1);
    const { scorer, card } = await loadModel(dir);
    try {
      expect(card).toEqual(written);
      expect(scorer.id).toBe('omakase-test@3');
      const X = randomRows(22, 50);
      const got = await scorer.score(X, 50);
      const want = mlpForward(params, X, 50);
      for (let i = 0; i < 50; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
    } finally {
      await scorer.release();
    }
  });

  it('overwrites an existing model and leaves no temporary files', async () => {
    const dir = join(root, 'twice');
    await writeModel(dir, params, fields);
    const second = await writeModel(dir, initMlp(23), { ...fields, version: '4' });
    const { scorer, card } = await loadModel(dir);
    await scorer.release();
    expect(card.version).toBe('4');
    expect(card.sha256).toBe(second.sha256);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual([CARD_FILE, MODEL_FILE].sort());
  });

  it('refuses a model whose bytes differ from the card hash with MODEL_HASH_MISMATCH', async () => {
    const dir = join(root, 'hash');
    await writeModel(dir, params, fields);
    // A model from another training run, dropped in without its card.
    const other = join(root, 'other');
    await writeModel(other, initMlp(24), fields);
    await writeFile(join(dir, MODEL_FILE), await readFile(join(other, MODEL_FILE)));
    expect(await codeOf(loadModel(dir))).toBe('MODEL_HASH_MISMATCH');
  });

  it('refuses a card for another feature schema with MODEL_SCHEMA_MISMATCH', async () => {
    const dir = join(root, 'schema');
    await writeModel(dir, params, fields);
    const card = JSON.parse(await readFile(join(dir, CARD_FILE), 'utf8'));
    await writeFile(join(dir, CARD_FILE), JSON.stringify({ ...card, schemaVersion: 'omakase-features/0' }));
    expect(await codeOf(loadModel(dir))).toBe('MODEL_SCHEMA_MISMATCH');
    await writeFile(join(dir, CARD_FILE), JSON.stringify({ ...card, features: card.features.slice(1) }));
    expect(await codeOf(loadModel(dir))).toBe('MODEL_SCHEMA_MISMATCH');
  });

  it('loads the shipped demo model, a schema-3 model, beside the current schema', async () => {
    const { scorer, card } = await loadModel('models/default');
    expect(card.schemaVersion).toBe('omakase-features/3');
    expect(card.features).toEqual(FEATURE_SCHEMA.features.slice(0, 29));
    const scores = await scorer.score(new Float32Array(2 * FEATURE_COUNT), 2);
    expect(scores.length).toBe(2);
    await scorer.release();
  });

  it('refuses a broken card with MODEL_CARD_INVALID', async () => {
    const dir = join(root, 'card');
    await writeModel(dir, params, fields);
    await writeFile(join(dir, CARD_FILE), '{"name": ');
    expect(await codeOf(loadModel(dir))).toBe('MODEL_CARD_INVALID');
  });

  it('reports a missing directory or a missing card as MODEL_NOT_FOUND', async () => {
    expect(await codeOf(loadModel(join(root, 'does-not-exist')))).toBe('MODEL_NOT_FOUND');
    const dir = join(root, 'nocard');
    await writeModel(dir, params, fields);
    await rm(join(dir, CARD_FILE));
    expect(await codeOf(loadModel(dir))).toBe('MODEL_NOT_FOUND');
  });

  it('refuses to write a card with an invalid field and leaves the directory untouched', async () => {
    const dir = join(root, 'badwrite');
    expect(await codeOf(writeModel(dir, params, { ...fields, createdAt: 'yesterday' }))).toBe(
      'MODEL_CARD_INVALID',
    );
    expect(await codeOf(loadModel(dir))).toBe('MODEL_NOT_FOUND');
  });
});
