import { FEATURE_COUNT, FEATURE_INDEX, type FeatureName } from '../../models/featureSchema.ts';
import type { RankerLoss } from '../../models/groupLoss.ts';
import { writeModel } from '../../models/loadModel.ts';
import type { MlpParams } from '../../models/mlp.ts';
import type { ModelCard } from '../../models/modelCard.ts';
import {
  DEFAULT_TRAIN_OPTIONS,
  type EpochInfo,
  type TrainMetrics,
  trainRanker,
} from '../../models/trainer.ts';
import type { Catalog } from '../catalog.ts';
import { DEFAULT_CONFIG } from '../config.ts';
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
  /** Share of the training candidates from the artist source (`EngineConfig.quotas.artist`); default 0. */
  artistQuota?: number;
  /** Also build examples from the memory half against the other half's memory (twice the examples). */
  bothHalves?: boolean;
  /** Sampled retrieved candidates per step labelled 0 (see `TrainingSetOptions.negatives`). */
  negatives?: number;
  /** Negatives per step from the step's best-rated candidates (see `TrainingSetOptions.hardNegatives`). */
  hardNegatives?: number;
  /** Weight of a logged like against a completion (see `TrainingSetOptions.likedWeight`); default 1. */
  likedWeight?: number;
  /**
   * Rankers trained on the same examples with trainer seeds seed, seed+1, …, seed+K−1 (each its own
   * validation split, shuffling and initialisation); the exported model scores their mean. Default 1.
   */
  ensemble?: number;
  /**
   * With `ensemble`: member k also builds its own examples with seed + k (its own memory / example halves
   * and sampled steps; K example builds instead of one), as `--seed` seed + k would (the catalog's
   * embeddings stay the ones given).
   */
  ensembleData?: boolean;
  onProgress?: (stage: 'examples' | 'training', done: number, total: number) => void;
  onEpoch?: (info: EpochInfo) => void;
}

/**
 * The ranker's training pipeline: split the sessions (by session, seeded) into a half that builds the
 * transition memory and a half that yields examples, build examples through the engine's own retrieval
 * and features, train the MLP (10% of example sessions held out for validation and early stopping), and
 * write model.onnx with its card. Returns the card, the examples' statistics and the ranker(s) exported.
 */
export async function trainModel(
  options: TrainModelOptions,
): Promise<{ card: ModelCard; examples: TrainingSet['stats']; members: MlpParams[] }> {
  const { catalog, seed } = options;
  const vectors = createVectorIndex(catalog);
  const stepsPerSession = options.stepsPerSession ?? DEFAULT_STEPS_PER_SESSION;
  // The halves and the sampled steps for one seed; an ensemble with ensembleData builds one per member.
  const examplesFor = (dataSeed: number) => {
    const order = options.sessions
      .map((s) => ({ s, key: hashString(`${dataSeed}:${s.id}`) }))
      .sort((a, b) => a.key - b.key || (a.s.id < b.s.id ? -1 : 1))
      .map((x) => x.s);
    const half = Math.floor(order.length / 2);
    // Transitions (and neighbour sessions) seen in the example sessions would leak the answer into the
    // `transition` and `sknn` features.
    const memory = order.slice(0, half);
    const exampleSessions = order.slice(half);
    const build = (memorySessions: readonly LoggedSequence[], examples: readonly LoggedSequence[]) =>
      buildTrainingSet(
        catalog,
        vectors,
        TransitionIndex.fromSessions(catalog, memorySessions),
        SessionKnnIndex.fromSessions(catalog, memorySessions),
        SequenceIndex.fromSessions(catalog, memorySessions),
        examples,
        {
          seed: dataSeed,
          maxStepsPerSession: stepsPerSession,
          likedWeight: options.likedWeight,
          hardNegatives: options.hardNegatives,
          negatives: options.negatives,
          candidates: options.trainingCandidates,
          ...(options.artistQuota
            ? { config: { quotas: { ...DEFAULT_CONFIG.quotas, artist: options.artistQuota } } }
            : {}),
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
    return { set, memory, exampleSessions };
  };
  const { set, memory, exampleSessions } = examplesFor(seed);
  const epochs = options.epochs ?? DEFAULT_TRAIN_OPTIONS.epochs;
  const hyper = { ...DEFAULT_TRAIN_OPTIONS, epochs, validation: 0.1 };
  const size = options.ensemble ?? 1;
  if (!(Number.isInteger(size) && size >= 1))
    throw new RangeError(`ensemble must be a positive integer, got ${size}`);
  let exampleRows = set.n;
  const trained = Array.from({ length: size }, (_, k) => {
    const own = k > 0 && options.ensembleData ? examplesFor(seed + k).set : set;
    if (own !== set) exampleRows += own.n;
    return trainRanker(
      { X: own.X, y: own.y, n: own.n, weights: own.weights, groups: own.groups },
      {
        seed: seed + k,
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
          options.onProgress?.('training', k * epochs + info.epoch + 1, size * epochs);
        },
      },
    );
  });
  const metrics = size === 1 ? trained[0].metrics : ensembleMetrics(trained.map((t) => t.metrics));
  const seeds = trained.map((_, k) => seed + k);
  const ensembleNote =
    size === 1
      ? ''
      : `; an ensemble of ${size} rankers (trainer seeds ${seeds.join(', ')}), each holding out its own 10%${options.ensembleData ? ', each with its own halves and steps (seeded by its seed)' : ''}, scoring their mean`;
  const card = await writeModel(
    options.outDir,
    trained.map((t) => t.params),
    {
      name: options.name,
      version: options.version,
      createdAt: options.createdAt,
      training: {
        data: options.data,
        dataHash: options.dataHash,
        sessions: options.sessions.length,
        examples: exampleRows,
        split: options.bothHalves
          ? `by session (seed ${seed}): two halves of ${memory.length} and ${exampleSessions.length}, each giving examples against the other's transition memory, 10% held out for validation${ensembleNote}`
          : `by session (seed ${seed}): ${memory.length} build the transition memory, ${exampleSessions.length} give examples, 10% of those held out for validation${ensembleNote}`,
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
          ...(options.artistQuota ? { artistQuota: options.artistQuota } : {}),
          ...(options.bothHalves ? { bothHalves: true } : {}),
          ...(options.loss && options.loss !== 'logistic' ? { loss: options.loss } : {}),
          ...(options.dropFeatures?.length ? { droppedFeatures: options.dropFeatures.join(',') } : {}),
          ...(size > 1 ? { ensemble: size, ensembleSeeds: seeds } : {}),
          ...(size > 1 && options.ensembleData ? { ensembleData: true } : {}),
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
        ...(size > 1 ? memberMetrics(trained.map((t) => t.metrics)) : {}),
      },
    },
  );
  return { card, examples: set.stats, members: trained.map((t) => t.params) };
}

/**
 * An ensemble's figures for its card: each member is validated on its own held-out rows (the others trained
 * on some of them), so the validation figures are the members' means, and epochs the most any member ran.
 */
function ensembleMetrics(members: readonly TrainMetrics[]): TrainMetrics {
  const mean = (f: (m: TrainMetrics) => number | null): number | null => {
    const v = members.map(f);
    return v.some((x) => x === null) ? null : (v as number[]).reduce((a, b) => a + b, 0) / v.length;
  };
  return {
    ...members[0],
    trainLogLoss: mean((m) => m.trainLogLoss) as number,
    valLogLoss: mean((m) => m.valLogLoss),
    valAuc: mean((m) => m.valAuc),
    epochsRun: Math.max(...members.map((m) => m.epochsRun)),
  };
}

/** Each member's validation AUC and best epoch, named by member (`member0ValAuc`, …). */
function memberMetrics(members: readonly TrainMetrics[]): Record<string, number> {
  const out: Record<string, number> = {};
  members.forEach((m, k) => {
    if (m.valAuc !== null) out[`member${k}ValAuc`] = m.valAuc;
    out[`member${k}BestEpoch`] = m.bestEpoch;
  });
  return out;
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
