import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_ERRORS, modelError } from '../../models/errors.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';

const modelsDir = join(import.meta.dirname, '../../models');

describe('MODEL_ERRORS', () => {
  it('has the codes the engine relies on, each MODEL_-prefixed and described', () => {
    for (const code of [
      'MODEL_NOT_FOUND',
      'MODEL_LOAD_FAILED',
      'MODEL_SCHEMA_MISMATCH',
      'MODEL_HASH_MISMATCH',
      'MODEL_CARD_INVALID',
      'MODEL_RUN_FAILED',
      'MODEL_TRAINING_FAILED',
    ]) {
      expect(MODEL_ERRORS).toHaveProperty(code);
    }
    for (const [code, text] of Object.entries(MODEL_ERRORS)) {
      expect(code).toMatch(/^MODEL_[A-Z_]+$/);
      expect(text.length).toBeGreaterThan(10);
    }
  });

  it('lists every code thrown in models/', async () => {
    const files = (await readdir(modelsDir)).filter((f) => f.endsWith('.ts'));
    const used = new Set<string>();
    for (const f of files) {
      const src = await readFile(join(modelsDir, f), 'utf8');
      for (const m of src.matchAll(/'(MODEL_[A-Z_]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(0);
    for (const code of used) expect(Object.keys(MODEL_ERRORS)).toContain(code);
  });

  it('modelError builds an OmakaseError that keeps its cause and details', () => {
    const cause = new Error('disk');
    const err = modelError('MODEL_LOAD_FAILED', 'cannot read', { cause, details: { path: 'x' } });
    expect(isOmakaseError(err, 'MODEL_LOAD_FAILED')).toBe(true);
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ path: 'x' });
  });
});
