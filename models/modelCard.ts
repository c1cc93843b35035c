import { createHash } from 'node:crypto';
import { modelError } from './errors.ts';

export type Hyperparameter = number | string | boolean | number[];

/** Where a model came from and how good it was: stored next to model.onnx as model-card.json. */
export interface ModelCard {
  name: string;
  version: string;
  /** FEATURE_SCHEMA.version the model was trained for. */
  schemaVersion: string;
  /** Feature names in column order, as trained. */
  features: string[];
  /** sha256 (hex) of the model.onnx bytes. */
  sha256: string;
  /** ISO 8601 time, supplied by the caller (models/ never reads the clock). */
  createdAt: string;
  training: {
    /** Which data, e.g. a dataset path or name. */
    data: string;
    dataHash: string;
    sessions: number;
    examples: number;
    /** How train/validation were split, e.g. `by session, 10% validation`. */
    split: string;
    seed: number;
    epochs: number;
    hyperparameters: Record<string, Hyperparameter>;
  };
  metrics: Record<string, number>;
  runtime: { onnxruntimeNode: string; intraOpThreads: number };
}

/** Lowercase hex sha256 of some bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Validates a parsed (or raw JSON text) model card; MODEL_CARD_INVALID names the first bad field. */
export function parseModelCard(json: unknown): ModelCard {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (cause) {
      throw modelError('MODEL_CARD_INVALID', `The model card is not JSON: ${(cause as Error).message}.`, {
        cause,
      });
    }
  }
  const card = object(value, 'card');
  const training = object(card.training, 'training');
  const runtime = object(card.runtime, 'runtime');
  const hyper = object(training.hyperparameters, 'training.hyperparameters');
  for (const [k, v] of Object.entries(hyper)) {
    const ok =
      (typeof v === 'number' && Number.isFinite(v)) ||
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)));
    if (!ok) invalid(`training.hyperparameters.${k}`, 'a number, string, boolean or number array');
  }
  const metrics = object(card.metrics, 'metrics');
  for (const [k, v] of Object.entries(metrics)) number(v, `metrics.${k}`);
  const sha = string(card.sha256, 'sha256');
  if (!/^[0-9a-f]{64}$/.test(sha)) invalid('sha256', '64 lowercase hex characters');
  const createdAt = string(card.createdAt, 'createdAt');
  if (!/^\d{4}-\d{2}-\d{2}T/.test(createdAt) || Number.isNaN(Date.parse(createdAt))) {
    invalid('createdAt', 'an ISO 8601 date-time');
  }
  if (!Array.isArray(card.features) || card.features.some((f) => typeof f !== 'string')) {
    invalid('features', 'an array of feature names');
  }
  return {
    name: string(card.name, 'name'),
    version: string(card.version, 'version'),
    schemaVersion: string(card.schemaVersion, 'schemaVersion'),
    features: [...(card.features as string[])],
    sha256: sha,
    createdAt,
    training: {
      data: string(training.data, 'training.data'),
      dataHash: string(training.dataHash, 'training.dataHash'),
      sessions: count(training.sessions, 'training.sessions'),
      examples: count(training.examples, 'training.examples'),
      split: string(training.split, 'training.split'),
      seed: integer(training.seed, 'training.seed'),
      epochs: count(training.epochs, 'training.epochs'),
      hyperparameters: hyper as Record<string, Hyperparameter>,
    },
    metrics: metrics as Record<string, number>,
    runtime: {
      onnxruntimeNode: string(runtime.onnxruntimeNode, 'runtime.onnxruntimeNode'),
      intraOpThreads: count(runtime.intraOpThreads, 'runtime.intraOpThreads'),
    },
  };
}

function invalid(field: string, expected: string): never {
  throw modelError(
    'MODEL_CARD_INVALID',
    `Model card field '${field}' must be ${expected}. Fix or regenerate the card.`,
    {
      details: { field },
    },
  );
}

function object(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(field, 'an object');
  return v as Record<string, unknown>;
}

function string(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) invalid(field, 'a non-empty string');
  return v as string;
}

function number(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) invalid(field, 'a finite number');
  return v as number;
}

function integer(v: unknown, field: string): number {
  if (!Number.isInteger(v)) invalid(field, 'an integer');
  return v as number;
}

function count(v: unknown, field: string): number {
  if (!Number.isInteger(v) || (v as number) < 0) invalid(field, 'a non-negative integer');
  return v as number;
}
