import { FEATURE_COUNT, FEATURE_INDEX, type FeatureName } from '../../models/featureSchema.ts';
import { writeModel } from '../../models/loadModel.ts';
import type { ModelCard } from '../../models/modelCard.ts';
import { DEFAULT_TRAIN_OPTIONS, type EpochInfo, trainRanker } from '../../models/trainer.ts';
import type { Catalog } from '../catalog.ts';
import { SessionKnnIndex } from '../retrieval/sessionKnnIndex.ts';
import { TransitionIndex } from '../retrieval/transitionIndex.ts';
import { createVectorIndex } from '../retrieval/vectorIndex.ts';
import { hashString } from '../rng.ts';
import { SequenceIndex } from '../sequenceIndex.ts';
import {
  buildTrainingSet,
  DEFAULT_STEPS_PER_SESSION,
  type LoggedSequence,
  type TrainingSet,
} from './trainingSet.ts';

export interface TrainModelOptions {
  catalog: Catalog;
  sessions: readonly LoggedSequence[];
  outDir: string;
  name: string;
  version: string;
  seed: number;
  /** Where the sessions came from, and the hash of that data, for the model card. */
  data: string;
  dataHash: string;
  /** ISO time for the card (the caller reads the clock). */
  createdAt: string;
  epochs?: number;
  /**
   * Columns set to 0 in every example before training, so the model learns nothing from them (an
   * ablation: what a feature buys is the difference on validation with and without it).
   */
  dropFeatures?: readonly FeatureName[];
  /** Steps per example session that yield examples (a seeded sample); 0 = every step. */
  stepsPerSession?: number;
  /** Weight of a logged like against a completion (see `TrainingSetOptions.likedWeight`); default 1. */
  likedWeight?: number;
  onProgress?: (stage: 'examples' | 'training', done: number, total: number) => void;
  onEpoch?: (info: EpochInfo) => void;
}

/**
 * The ranker's training pipeline: split the sessions (by session, seeded) into a half that builds the
 * transition memory and a half that yields examples, build examples through the engine's own retrieval
 * and features, train the MLP (10% of example sessions held out for validation and early stopping), and
 * write model.onnx with its card.
 */
export async function trainModel(
  options: TrainModelOptions,
): Promise<{ card: ModelCard; examples: TrainingSet['stats'] }> {
  const { catalog, seed } = options;
  const order = options.sessions
    .map((s) => ({ s, key: hashString(`${seed}:${s.id}`) }))
    .sort((a, b) => a.key - b.key || (a.s.id < b.s.id ? -1 : 1))
    .map((x) => x.s);
  const half = Math.floor(order.length / 2);
  // Transitions (and neighbour sessions) seen in the example sessions would leak the answer into the
  // `transition` and `sknn` features.
  const memory = order.slice(0, half);
  const exampleSessions = order.slice(half);
  const transitions = TransitionIndex.fromSessions(catalog, memory);
  const neighbours = SessionKnnIndex.fromSessions(catalog, memory);
  const sequences = SequenceIndex.fromSessions(catalog, memory);
  const vectors = createVectorIndex(catalog);
  const stepsPerSession = options.stepsPerSession ?? DEFAULT_STEPS_PER_SESSION;
  const set = buildTrainingSet(catalog, vectors, transitions, neighbours, sequences, exampleSessions, {
    seed,
    maxStepsPerSession: stepsPerSession,
    likedWeight: options.likedWeight,
    onProgress: (done, total) => options.onProgress?.('examples', done, total),
  });
  for (const name of options.dropFeatures ?? []) {
    const col = FEATURE_INDEX[name];
    for (let r = 0; r < set.n; r++) set.X[r * FEATURE_COUNT + col] = 0;
  }
  const epochs = options.epochs ?? DEFAULT_TRAIN_OPTIONS.epochs;
  const hyper = { ...DEFAULT_TRAIN_OPTIONS, epochs, validation: 0.1 };
  const { params, metrics } = trainRanker(
    { X: set.X, y: set.y, n: set.n, weights: set.weights, groups: set.groups },
    {
      seed,
      epochs,
      batchSize: hyper.batchSize,
      learningRate: hyper.learningRate,
      l2: hyper.l2,
      hidden: [...hyper.hidden],
      patience: hyper.patience,
      validation: hyper.validation,
      onEpoch: (info) => {
        options.onEpoch?.(info);
        options.onProgress?.('training', info.epoch + 1, epochs);
      },
    },
  );
  const card = await writeModel(options.outDir, params, {
    name: options.name,
    version: options.version,
    createdAt: options.createdAt,
    training: {
      data: options.data,
      dataHash: options.dataHash,
      sessions: options.sessions.length,
      examples: set.n,
      split: `by session (seed ${seed}): ${memory.length} build the transition memory, ${exampleSessions.length} give examples, 10% of those held out for validation`,
      seed,
      epochs: metrics.epochsRun,
      hyperparameters: {
        hidden: [...hyper.hidden],
        batchSize: hyper.batchSize,
        learningRate: hyper.learningRate,
        l2: hyper.l2,
        negativesPerStep: set.stats.negativesPerStep,
        negativeWeight: set.stats.negativeWeight,
        trainingCandidates: 1500,
        stepsPerSession,
        likedWeight: set.stats.likedWeight,
        ...(options.dropFeatures?.length ? { droppedFeatures: options.dropFeatures.join(',') } : {}),
      },
    },
    metrics: {
      trainLogLoss: metrics.trainLogLoss,
      valLogLoss: metrics.valLogLoss ?? Number.NaN,
      valAuc: metrics.valAuc ?? Number.NaN,
      bestEpoch: metrics.bestEpoch,
      positives: metrics.positives,
      negatives: metrics.negatives,
      targetRecall: set.stats.targetRecall,
    },
  });
  return { card, examples: set.stats };
}
