import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { modelError } from './errors.ts';
import { FEATURE_COUNT, FEATURE_SCHEMA, PREFIX_SCHEMAS } from './featureSchema.ts';
import { isOmakaseError } from './omakaseError.ts';
import type { Scorer } from './scorer.ts';

const { onnx } = onnxProto;

/** Session options every omakase model runs with; recorded in model cards for replay. */
export const ORT_SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
} as const satisfies InferenceSession.SessionOptions;

/** An ONNX-backed scorer, with the model's own metadata_props for logs. */
export interface OnnxScorer extends Scorer {
  readonly metadata: Readonly<Record<string, string>>;
  /** Frees the native session; score() fails afterwards. */
  release(): Promise<void>;
}

/**
 * Loads an ONNX ranking model from a path or bytes and checks it against FEATURE_SCHEMA: input/output names,
 * dtypes, shapes [batch, width] → [batch, 1], and metadata schema_version when present. A model of an earlier
 * schema whose columns are a prefix of the current one (`PREFIX_SCHEMAS`) has that width and gets the first
 * `width` columns of each row; callers always pass rows of FEATURE_COUNT.
 * Throws MODEL_NOT_FOUND, MODEL_LOAD_FAILED or MODEL_SCHEMA_MISMATCH.
 */
export async function loadOnnxScorer(
  source: string | Uint8Array,
  options: { id?: string } = {},
): Promise<OnnxScorer> {
  const bytes = typeof source === 'string' ? await readModelFile(source) : source;
  const where = typeof source === 'string' ? source : `${bytes.byteLength} bytes`;
  const metadata = readMetadata(bytes, where);
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, { ...ORT_SESSION_OPTIONS });
  } catch (cause) {
    throw modelError(
      'MODEL_LOAD_FAILED',
      `ONNX Runtime cannot load the model (${where}): ${(cause as Error).message}. Re-export or retrain it.`,
      { cause, details: { source: where } },
    );
  }
  const width = PREFIX_SCHEMAS[metadata.schema_version ?? FEATURE_SCHEMA.version] ?? FEATURE_COUNT;
  try {
    checkSchema(session, metadata, where, width);
  } catch (err) {
    await session.release();
    throw err;
  }
  const inputName = FEATURE_SCHEMA.input.name;
  const outputName = FEATURE_SCHEMA.output.name;
  const id = options.id ?? (metadata.name ? `${metadata.name}@${metadata.version ?? '?'}` : 'onnx');
  return {
    id,
    degraded: false,
    columns: width,
    metadata,
    release: () => session.release(),
    async score(features: Float32Array, count: number): Promise<Float32Array> {
      const len = count * FEATURE_COUNT;
      if (!Number.isInteger(count) || count < 0 || features.length < len) {
        throw modelError(
          'MODEL_RUN_FAILED',
          `score() got ${features.length} values for ${count} rows of ${FEATURE_COUNT} features; pass count × ${FEATURE_COUNT} values.`,
          { details: { count, length: features.length } },
        );
      }
      if (count === 0) return new Float32Array(0);
      // subarray shares memory, so an exactly sized batch and a larger reusable buffer both go in without a copy.
      const data =
        width < FEATURE_COUNT
          ? firstColumns(features, count, width)
          : features.length === len
            ? features
            : features.subarray(0, len);
      try {
        const out = await session.run({ [inputName]: new Tensor('float32', data, [count, width]) });
        return out[outputName].data as Float32Array;
      } catch (cause) {
        throw modelError(
          'MODEL_RUN_FAILED',
          `Model ${id} failed on a batch of ${count}: ${(cause as Error).message}`,
          {
            cause,
            details: { id, count },
          },
        );
      }
    },
  };
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw modelError(
      missing ? 'MODEL_NOT_FOUND' : 'MODEL_LOAD_FAILED',
      missing ? `No model file at ${path}. Train one or point to an existing model.` : `Cannot read ${path}.`,
      { cause, details: { path } },
    );
  }
}

/** metadata_props of the model; ORT's Node binding does not expose them, so decode the protobuf ourselves. */
function readMetadata(bytes: Uint8Array, where: string): Record<string, string> {
  try {
    const model = onnx.ModelProto.decode(bytes);
    if (!model.graph) throw new Error('the file has no graph');
    return Object.fromEntries(model.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
  } catch (cause) {
    if (isOmakaseError(cause)) throw cause;
    throw modelError('MODEL_LOAD_FAILED', `${where} is not an ONNX model: ${(cause as Error).message}.`, {
      cause,
      details: { source: where },
    });
  }
}

/** The first `width` of each row's FEATURE_COUNT columns, packed: a model of an earlier (prefix) schema. */
function firstColumns(features: Float32Array, count: number, width: number): Float32Array {
  // A plain copy loop: a `subarray` view per row was an object per candidate per decision.
  const out = new Float32Array(count * width);
  for (let r = 0, o = 0; r < count; r++) {
    const from = r * FEATURE_COUNT;
    for (let c = 0; c < width; c++) out[o++] = features[from + c];
  }
  return out;
}

function checkSchema(
  session: InferenceSession,
  metadata: Record<string, string>,
  where: string,
  width: number,
): void {
  const problems: string[] = [];
  const version = metadata.schema_version;
  if (version !== undefined && PREFIX_SCHEMAS[version] === undefined) {
    problems.push(`schema_version: expected ${FEATURE_SCHEMA.version}, found ${version}`);
  }
  checkValues('input', session.inputMetadata, FEATURE_SCHEMA.input, width, problems);
  checkValues('output', session.outputMetadata, FEATURE_SCHEMA.output, 1, problems);
  if (problems.length > 0) {
    throw modelError(
      'MODEL_SCHEMA_MISMATCH',
      `Model ${where} does not match feature schema ${FEATURE_SCHEMA.version}: ${problems.join('; ')}. Retrain it with the current schema.`,
      { details: { problems, source: where } },
    );
  }
}

function checkValues(
  kind: 'input' | 'output',
  found: readonly InferenceSession.ValueMetadata[],
  expected: { readonly name: string; readonly dtype: string },
  width: number,
  problems: string[],
): void {
  const want = `one ${expected.dtype} tensor '${expected.name}' of shape [batch, ${width}]`;
  if (found.length !== 1) {
    problems.push(
      `${kind}s: expected ${want}, found ${found.length} (${found.map((m) => m.name).join(', ')})`,
    );
    return;
  }
  const m = found[0];
  if (m.name !== expected.name) problems.push(`${kind} name: expected '${expected.name}', found '${m.name}'`);
  if (!m.isTensor) {
    problems.push(`${kind} '${m.name}': expected a tensor, found a non-tensor value`);
    return;
  }
  if (m.type !== expected.dtype) problems.push(`${kind} dtype: expected ${expected.dtype}, found ${m.type}`);
  const shape = m.shape;
  // The batch dimension must be symbolic (a string): the engine sends 500–2000 rows, never a fixed count.
  if (shape.length !== 2 || typeof shape[0] !== 'string' || shape[1] !== width) {
    problems.push(`${kind} shape: expected [batch, ${width}], found [${shape.join(', ')}]`);
  }
}
