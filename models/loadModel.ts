import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { env } from 'onnxruntime-node';
import { modelError } from './errors.ts';
import { FEATURE_SCHEMA, schemaFeatures } from './featureSchema.ts';
import type { MlpParams } from './mlp.ts';
import { type ModelCard, parseModelCard, sha256Hex } from './modelCard.ts';
import { ensembleToOnnx } from './onnxExport.ts';
import { loadOnnxScorer, type OnnxScorer, ORT_SESSION_OPTIONS } from './onnxScorer.ts';

export const MODEL_FILE = 'model.onnx';
export const CARD_FILE = 'model-card.json';

/** What the caller says about a model; the writer adds the schema, hash and runtime. */
export type ModelCardFields = Omit<ModelCard, 'schemaVersion' | 'features' | 'sha256' | 'runtime'>;

/**
 * Loads `dir/model.onnx` after checking it against `dir/model-card.json` (hash and schema version).
 * Throws MODEL_NOT_FOUND, MODEL_CARD_INVALID, MODEL_HASH_MISMATCH, MODEL_SCHEMA_MISMATCH or MODEL_LOAD_FAILED.
 */
export async function loadModel(dir: string): Promise<{ scorer: OnnxScorer; card: ModelCard }> {
  const [bytes, cardText] = await Promise.all([
    readOrMissing(join(dir, MODEL_FILE)),
    readOrMissing(join(dir, CARD_FILE)),
  ]);
  const card = parseModelCard(cardText.toString('utf8'));
  const actual = sha256Hex(bytes);
  if (actual !== card.sha256) {
    throw modelError(
      'MODEL_HASH_MISMATCH',
      `${join(dir, MODEL_FILE)} has sha256 ${actual} but its card says ${card.sha256}: the files are from different models. Rewrite them together.`,
      { details: { dir, expected: card.sha256, found: actual } },
    );
  }
  // The current schema, or an earlier one whose columns are its prefix (the scorer passes those columns).
  const expectedFeatures = schemaFeatures(card.schemaVersion)?.join(',');
  if (expectedFeatures === undefined || card.features.join(',') !== expectedFeatures) {
    throw modelError(
      'MODEL_SCHEMA_MISMATCH',
      `Model in ${dir} was trained for ${card.schemaVersion} [${card.features.join(', ')}]; the engine writes ${FEATURE_SCHEMA.version} [${FEATURE_SCHEMA.features.join(', ')}]. Retrain it.`,
      { details: { dir, expected: FEATURE_SCHEMA.version, found: card.schemaVersion } },
    );
  }
  const scorer = await loadOnnxScorer(bytes, { id: `${card.name}@${card.version}` });
  return { scorer, card };
}

/**
 * Exports `params` (one MLP, or an ensemble's members: the output is their mean) to `dir/model.onnx` and
 * writes its card; each file is written under a temporary name and renamed, so a reader never sees half a
 * file. Returns the card as written.
 */
export async function writeModel(
  dir: string,
  params: MlpParams | readonly MlpParams[],
  fields: ModelCardFields,
): Promise<ModelCard> {
  const members = Array.isArray(params) ? params : [params as MlpParams];
  const bytes = ensembleToOnnx(members, {
    name: fields.name,
    version: fields.version,
    schemaVersion: FEATURE_SCHEMA.version,
  });
  const card: ModelCard = {
    name: fields.name,
    version: fields.version,
    schemaVersion: FEATURE_SCHEMA.version,
    features: [...FEATURE_SCHEMA.features],
    sha256: sha256Hex(bytes),
    createdAt: fields.createdAt,
    training: fields.training,
    metrics: fields.metrics,
    runtime: {
      onnxruntimeNode: env.versions.node ?? 'unknown',
      intraOpThreads: ORT_SESSION_OPTIONS.intraOpNumThreads,
    },
  };
  // Validate before touching the directory, so a bad card never replaces a good model.
  parseModelCard(JSON.parse(JSON.stringify(card)));
  await mkdir(dir, { recursive: true });
  const suffix = `.tmp-${process.pid}`;
  const modelPath = join(dir, MODEL_FILE);
  const cardPath = join(dir, CARD_FILE);
  try {
    await writeFile(modelPath + suffix, bytes);
    await writeFile(cardPath + suffix, `${JSON.stringify(card, null, 2)}\n`);
    await rename(modelPath + suffix, modelPath);
    await rename(cardPath + suffix, cardPath);
  } catch (err) {
    await Promise.all([rm(modelPath + suffix, { force: true }), rm(cardPath + suffix, { force: true })]);
    throw err;
  }
  return card;
}

async function readOrMissing(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw modelError('MODEL_NOT_FOUND', `No ${path}. Train a model into that directory or fix the path.`, {
        cause,
        details: { path },
      });
    }
    throw modelError('MODEL_LOAD_FAILED', `Cannot read ${path}.`, { cause, details: { path } });
  }
}
