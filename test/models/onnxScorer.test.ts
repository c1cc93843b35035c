import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_SCHEMA } from '../../models/featureSchema.ts';
import { mlpForward } from '../../models/mlp.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import { mlpToOnnx } from '../../models/onnxExport.ts';
import { loadOnnxScorer, type OnnxScorer } from '../../models/onnxScorer.ts';
import { randomMlpParams, randomRows } from './syntheticData.ts';

const { onnx } = onnxProto;
const meta = { name: 'test-mlp', version: '1', schemaVersion: FEATURE_SCHEMA.version };

async function loadError(source: Uint8Array | string): Promise<{ code: string; message: string }> {
  try {
    const s = await loadOnnxScorer(source);
    await s.release();
  } catch (err) {
    if (isOmakaseError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected the model to be refused');
}

/** Re-encodes an exported model after renaming its input tensor everywhere it is used. */
function renameInput(bytes: Uint8Array, to: string): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph as onnxProto.onnx.GraphProto;
  const from = graph.input[0].name;
  graph.input[0].name = to;
  for (const node of graph.node) node.input = (node.input ?? []).map((n) => (n === from ? to : n));
  return onnx.ModelProto.encode(model).finish();
}

function withMetadata(bytes: Uint8Array, key: string, value: string): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  model.metadataProps = model.metadataProps.map((p) => (p.key === key ? { key, value } : p));
  return onnx.ModelProto.encode(model).finish();
}

describe('loadOnnxScorer', () => {
  const params = randomMlpParams(11);
  const bytes = mlpToOnnx(params, meta);
  const opened: OnnxScorer[] = [];
  afterAll(async () => {
    for (const s of opened) await s.release();
  });

  it('scores a batch of 500 like mlpForward, within 1e-5', async () => {
    const scorer = await loadOnnxScorer(bytes);
    opened.push(scorer);
    expect(scorer.id).toBe('test-mlp@1');
    expect(scorer.degraded).toBe(false);
    expect(scorer.metadata.schema_version).toBe(FEATURE_SCHEMA.version);
    const X = randomRows(12, 500).map((v) => v * 3);
    const expected = mlpForward(params, X, 500);
    const got = await scorer.score(X, 500);
    expect(got).toBeInstanceOf(Float32Array);
    expect(got.length).toBe(500);
    let maxDiff = 0;
    let spread = 0;
    for (let i = 0; i < 500; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
      spread = Math.max(spread, Math.abs(expected[i]));
    }
    expect(maxDiff).toBeLessThan(1e-5);
    // Guards against a trivially constant model passing the comparison.
    expect(spread).toBeGreaterThan(0.1);
  });

  it('scores only the first count rows of a larger buffer, and an empty batch', async () => {
    const scorer = await loadOnnxScorer(bytes, { id: 'custom' });
    opened.push(scorer);
    expect(scorer.id).toBe('custom');
    const X = randomRows(13, 40);
    const full = await scorer.score(X, 40);
    const head = await scorer.score(X, 7);
    expect(Array.from(head)).toEqual(Array.from(full.subarray(0, 7)));
    expect((await scorer.score(X, 0)).length).toBe(0);
  });

  it('refuses a batch shorter than count rows with MODEL_RUN_FAILED', async () => {
    const scorer = await loadOnnxScorer(bytes);
    opened.push(scorer);
    await expect(scorer.score(new Float32Array(FEATURE_COUNT * 3 - 1), 3)).rejects.toMatchObject({
      code: 'MODEL_RUN_FAILED',
    });
  });

  it('refuses a wrong input name with MODEL_SCHEMA_MISMATCH naming both names', async () => {
    const err = await loadError(renameInput(bytes, 'input'));
    expect(err.code).toBe('MODEL_SCHEMA_MISMATCH');
    expect(err.message).toContain(`expected '${FEATURE_SCHEMA.input.name}', found 'input'`);
  });

  it('refuses a model with another feature count', async () => {
    const err = await loadError(mlpToOnnx(randomMlpParams(14, [FEATURE_COUNT - 1, 8, 1]), meta));
    expect(err.code).toBe('MODEL_SCHEMA_MISMATCH');
    expect(err.message).toContain(`expected [batch, ${FEATURE_COUNT}], found [batch, ${FEATURE_COUNT - 1}]`);
  });

  it('serves a schema-3 model (29 columns, a prefix of the current schema) the first 29 columns of each row', async () => {
    const p3 = randomMlpParams(16, [29, 8, 1]);
    const scorer = await loadOnnxScorer(mlpToOnnx(p3, { ...meta, schemaVersion: 'omakase-features/3' }));
    opened.push(scorer);
    const X = randomRows(17, 40);
    const prefix = new Float32Array(40 * 29);
    for (let r = 0; r < 40; r++) prefix.set(X.subarray(r * FEATURE_COUNT, r * FEATURE_COUNT + 29), r * 29);
    const expected = mlpForward(p3, prefix, 40);
    const got = await scorer.score(X, 40);
    for (let r = 0; r < 40; r++) expect(got[r]).toBeCloseTo(expected[r], 5);
    // The same model labelled with the current schema is refused: its width is not the current one.
    const err = await loadError(mlpToOnnx(p3, meta));
    expect(err.code).toBe('MODEL_SCHEMA_MISMATCH');
  });

  it('refuses a model with two outputs per row', async () => {
    const err = await loadError(mlpToOnnx(randomMlpParams(15, [FEATURE_COUNT, 8, 2]), meta));
    expect(err.code).toBe('MODEL_SCHEMA_MISMATCH');
    expect(err.message).toContain('output shape: expected [batch, 1], found [batch, 2]');
  });

  it('refuses a model whose schema_version metadata differs', async () => {
    const err = await loadError(withMetadata(bytes, 'schema_version', 'omakase-features/0'));
    expect(err.code).toBe('MODEL_SCHEMA_MISMATCH');
    expect(err.message).toContain('found omakase-features/0');
  });

  it('refuses garbage bytes and a truncated model with MODEL_LOAD_FAILED', async () => {
    const garbage = Uint8Array.from({ length: 256 }, (_, i) => (i * 73 + 41) % 256);
    expect((await loadError(garbage)).code).toBe('MODEL_LOAD_FAILED');
    expect((await loadError(bytes.subarray(0, bytes.length >> 1))).code).toBe('MODEL_LOAD_FAILED');
  });

  it('reports a missing file as MODEL_NOT_FOUND', async () => {
    expect((await loadError('/nonexistent/omakase/model.onnx')).code).toBe('MODEL_NOT_FOUND');
  });
});
