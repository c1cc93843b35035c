import { FEATURE_COUNT, FEATURE_INDEX, type FeatureName } from '../../models/featureSchema.ts';
import type { RankerLoss } from '../../models/groupLoss.ts';
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
  /** The ranker's loss (`models/groupLoss.ts`); default logistic. */
  loss?: RankerLoss;
  /** Candidates retrieved per training step (default 1500; serving scores 500). */
  trainingCandidates?: number;
  /** Also build examples from the memory half against the other half's memory (twice the examples). */
  bothHalves?: boolean;
  /** Sampled retrieved candidates per step labelled 0 (see `TrainingSetOptions.negatives`). */
  negatives?: number;
  /** Negatives per step from the step's best-rated candidates (see `TrainingSetOptions.hardNegatives`). */
  hardNegatives?: number;
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
  const vectors = createVectorIndex(catalog);
  const stepsPerSession = options.stepsPerSession ?? DEFAULT_STEPS_PER_SESSION;
  const build = (memorySessions: readonly LoggedSequence[], examples: readonly LoggedSequence[]) =>
    buildTrainingSet(
      catalog,
      vectors,
      TransitionIndex.fromSessions(catalog, memorySessions),
      SessionKnnIndex.fromSessions(catalog, memorySessions),
      SequenceIndex.fromSessions(catalog, memorySessions),
      examples,
      {
        seed,
        maxStepsPerSession: stepsPerSession,
        likedWeight: options.likedWeight,
        hardNegatives: options.hardNegatives,
        negatives: options.negatives,
        candidates: options.trainingCandidates,
        onProgress: (done, total) => options.onProgress?.('examples', done, total),
      },
    );
  let set = build(memory, exampleSessions);
  // Both halves in turn: every session gives examples once, each against a memory it is not in.
  if (options.bothHalves) set = concatSets(set, build(exampleSessions, memory));
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
      loss: options.loss,
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
      split: options.bothHalves
        ? `by session (seed ${seed}): two halves of ${memory.length} and ${exampleSessions.length}, each giving examples against the other's transition memory, 10% held out for validation`
        : `by session (seed ${seed}): ${memory.length} build the transition memory, ${exampleSessions.length} give examples, 10% of those held out for validation`,
      seed,
      epochs: metrics.epochsRun,
      hyperparameters: {
        hidden: [...hyper.hidden],
        batchSize: hyper.batchSize,
        learningRate: hyper.learningRate,
        l2: hyper.l2,
        negativesPerStep: set.stats.negativesPerStep,
        negativeWeight: set.stats.negativeWeight,
        trainingCandidates: options.trainingCandidates ?? 1500,
        stepsPerSession,
        likedWeight: set.stats.likedWeight,
        ...(options.hardNegatives ? { hardNegatives: options.hardNegatives } : {}),
        ...(options.bothHalves ? { bothHalves: true } : {}),
        ...(options.loss && options.loss !== 'logistic' ? { loss: options.loss } : {}),
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

/** Two training sets as one, the second's decision groups numbered after the first's. */
function concatSets(a: TrainingSet, b: TrainingSet): TrainingSet {
  const X = new Float32Array(a.X.length + b.X.length);
  X.set(a.X);
  X.set(b.X, a.X.length);
  const y = new Float32Array(a.n + b.n);
  y.set(a.y);
  y.set(b.y, a.n);
  const weights = new Float32Array(a.n + b.n);
  weights.set(a.weights);
  weights.set(b.weights, a.n);
  let groupBase = 0;
  for (const g of a.groups) if (g + 1 > groupBase) groupBase = g + 1;
  const groups = new Int32Array(a.n + b.n);
  groups.set(a.groups);
  for (let r = 0; r < b.n; r++) groups[a.n + r] = b.groups[r] + groupBase;
  const steps = a.stats.steps + b.stats.steps;
  const stepsWithTarget = a.stats.stepsWithTarget + b.stats.stepsWithTarget;
  return {
    X,
    y,
    weights,
    groups,
    n: a.n + b.n,
    stats: {
      ...a.stats,
      sessions: a.stats.sessions + b.stats.sessions,
      steps,
      stepsWithTarget,
      targetRecall: steps > 0 ? stepsWithTarget / steps : 0,
      positives: a.stats.positives + b.stats.positives,
      liked: a.stats.liked + b.stats.liked,
    },
  };
}
