import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ModelCard, parseModelCard, sha256Hex } from '../../models/modelCard.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';

const card: ModelCard = {
  name: 'omakase-demo',
  version: '1',
  schemaVersion: 'omakase-features/1',
  features: ['sim_query'],
  sha256: 'a'.repeat(64),
  createdAt: '2025-01-02T03:04:05.000Z',
  training: {
    data: 'data/sessions.jsonl',
    dataHash: 'f00d',
    sessions: 3,
    examples: 30,
    split: 'by session',
    seed: 1,
    epochs: 2,
    hyperparameters: { lr: 0.01, hidden: [8], adam: true, loss: 'bce' },
  },
  metrics: { valAuc: 0.7, valLogLoss: 0.5 },
  runtime: { onnxruntimeNode: '1.30.0', intraOpThreads: 1 },
};

function fieldOf(value: unknown): string {
  try {
    parseModelCard(value);
  } catch (err) {
    if (isOmakaseError(err, 'MODEL_CARD_INVALID')) return String(err.details.field ?? 'json');
    throw err;
  }
  return 'valid';
}

describe('parseModelCard', () => {
  it('accepts a valid card as an object or as JSON text', () => {
    expect(parseModelCard(card)).toEqual(card);
    expect(parseModelCard(JSON.stringify(card))).toEqual(card);
  });

  it('names the first invalid field', () => {
    expect(fieldOf({ ...card, name: '' })).toBe('name');
    expect(fieldOf({ ...card, sha256: 'xyz' })).toBe('sha256');
    expect(fieldOf({ ...card, createdAt: 'Jan 2' })).toBe('createdAt');
    expect(fieldOf({ ...card, features: [1] })).toBe('features');
    expect(fieldOf({ ...card, metrics: { auc: 'high' } })).toBe('metrics.auc');
    expect(fieldOf({ ...card, training: { ...card.training, seed: 1.5 } })).toBe('training.seed');
    expect(fieldOf({ ...card, training: { ...card.training, hyperparameters: { x: null } } })).toBe(
      'training.hyperparameters.x',
    );
    expect(fieldOf({ ...card, runtime: undefined })).toBe('runtime');
    expect(fieldOf([])).toBe('card');
    expect(fieldOf('{')).toBe('json');
  });
});

describe('sha256Hex', () => {
  it('is the hex sha256 of the bytes', () => {
    const bytes = new TextEncoder().encode('omakase');
    expect(sha256Hex(bytes)).toBe(createHash('sha256').update('omakase').digest('hex'));
    expect(sha256Hex(bytes)).toMatch(/^[0-9a-f]{64}$/);
  });
});
