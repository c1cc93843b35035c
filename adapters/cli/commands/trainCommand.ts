import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Catalog } from '../../../engine/catalog.ts';
import { readCatalogFile, writeCatalogFile } from '../../../engine/catalogFile.ts';
import { generateDemoCatalog } from '../../../engine/demo/demoCatalog.ts';
import { generateDemoSessions } from '../../../engine/demo/demoSessions.ts';
import { DEFAULT_SPLIT, DEFAULT_TIME_SPLIT, splitByMode } from '../../../engine/eval/sessionSplit.ts';
import { datasetHash, readSessionsFile } from '../../../engine/sessionsFile.ts';
import { learnEmbeddings } from '../../../engine/training/learnEmbeddings.ts';
import { DEFAULT_STEPS_PER_SESSION, type LoggedSequence } from '../../../engine/training/trainingSet.ts';
import { trainModel } from '../../../engine/training/trainModel.ts';
import { FEATURE_SCHEMA, type FeatureName } from '../../../models/featureSchema.ts';
import { sha256Hex } from '../../../models/modelCard.ts';
import { DEMO_SEED, DEMO_SESSIONS } from '../../runtime.ts';
import { createProgressReporter } from '../progressReporter.ts';

/**
 * `omakase train`: trains the ranker (and, for catalogs without embeddings, item embeddings) from logged
 * sessions and writes a model directory. `--demo` rebuilds the shipped default model from the built-in demo.
 */
export function trainCommand(): Command {
  return new Command('train')
    .description('train the ranking model from logged sessions and write model.onnx + model-card.json')
    .option('--demo', 'train on the built-in demo catalog and its generated sessions')
    .option('--catalog <file>', 'a JSONL catalog (docs/data-format.md)')
    .option('--sessions <file>', 'logged sessions, JSONL')
    .requiredOption('--out <dir>', 'output directory')
    .option('--seed <n>', 'seed for splits, sampling and initialisation', (v) => int(v), 1)
    .option(
      '--split-seed <n>',
      'seed of the train/validation/test split (eval uses the same)',
      (v) => int(v),
      DEFAULT_SPLIT.seed,
    )
    .option('--split <kind>', 'session (seeded, by --split-seed) | time (the last days held out)', 'session')
    .option(
      '--test-days <n>',
      'with --split time: days at the end held out for test',
      (v) => int(v),
      DEFAULT_TIME_SPLIT.testDays,
    )
    .option(
      '--validation-days <n>',
      'with --split time: days before the test days held out for validation',
      (v) => int(v),
      DEFAULT_TIME_SPLIT.validationDays,
    )
    .option('--embeddings <mode>', 'auto (learn when the catalog has none) | learn | keep', 'auto')
    .option('--epochs <n>', 'ranker epochs', (v) => int(v), 10)
    .option(
      '--drop-features <names>',
      'comma-separated feature columns zeroed before training (an ablation; see models/featureSchema.ts)',
      featureList,
    )
    .option(
      '--steps-per-session <n>',
      'steps of each example session that yield examples, a seeded sample (0 = every step)',
      (v) => int(v),
      DEFAULT_STEPS_PER_SESSION,
    )
    .option(
      '--liked-weight <x>',
      'weight of a logged like against a plain completion (both positives)',
      (v) => positive(v),
      1,
    )
    .option(
      '--negatives <n>',
      'sampled retrieved candidates per step labelled 0 (default: 16 for logs of plain plays, 0 with outcomes)',
      (v) => int(v),
    )
    .option(
      '--hard-negatives <n>',
      "extra negatives per step from the step's best-rated candidates (session-kNN vote + transition)",
      (v) => int(v),
      0,
    )
    .option(
      '--training-candidates <n>',
      'candidates retrieved per training step (serving scores 500)',
      (v) => int(v),
      1500,
    )
    .option(
      '--artist-quota <share>',
      "share of the training candidates from the session's last artists (serve with quotas.artist alike)",
      (v) => Number(v),
      0,
    )
    .option(
      '--loss <kind>',
      "logistic (each row) | softmax (the logged item against its decision's candidates)",
      'logistic',
    )
    .option(
      '--ensemble <k>',
      'train k rankers on the same examples (trainer seeds seed … seed+k−1) and export their mean as one model',
      (v) => int(v),
      1,
    )
    .option(
      '--ensemble-data',
      'with --ensemble: each member also builds its own examples with its seed (its own halves and steps)',
    )
    .option('--both-halves', "examples from both halves of the sessions, each against the other's memory")
    .option('--name <name>', 'model name', 'omakase-ranker')
    .option('--model-version <v>', 'model version', '1')
    .option('--quiet', 'no progress bars')
    .action(async (opts) => {
      if (opts.loss !== 'logistic' && opts.loss !== 'softmax')
        throw new InvalidArgumentError('--loss must be logistic or softmax');
      if (opts.ensemble < 1) throw new InvalidArgumentError('--ensemble must be at least 1');
      if (!(opts.artistQuota >= 0 && opts.artistQuota <= 1))
        throw new InvalidArgumentError('--artist-quota must be a share between 0 and 1');
      const progress = createProgressReporter({ quiet: opts.quiet });
      await mkdir(opts.out, { recursive: true });
      const log = (m: string) => process.stderr.write(`${m}\n`);
      const started = performance.now();
      const startedCpu = process.cpuUsage();
      let catalog: Catalog;
      let sessions: LoggedSequence[];
      let data: string;
      let dataHash: string;
      if (opts.demo) {
        catalog = new Catalog(generateDemoCatalog({ seed: DEMO_SEED }));
        sessions = generateDemoSessions(catalog, { seed: DEMO_SEED, sessions: DEMO_SESSIONS });
        data = `built-in demo: generateDemoCatalog(seed ${DEMO_SEED}), generateDemoSessions(seed ${DEMO_SEED}, ${DEMO_SESSIONS} sessions)`;
        dataHash = sha256Hex(new TextEncoder().encode(JSON.stringify(sessions)));
      } else {
        if (!opts.catalog || !opts.sessions)
          throw new InvalidArgumentError('give --catalog and --sessions, or --demo');
        catalog = await readCatalogFile(opts.catalog, {
          onProgress: (d, t) => progress.onProgress('reading catalog', d, t),
        });
        const all = await readSessionsFile(opts.sessions, {
          onProgress: (d, t) => progress.onProgress('reading sessions', d, t),
        });
        // Only the training part: validation and test sessions stay unseen for `omakase eval`.
        if (opts.split !== 'session' && opts.split !== 'time')
          throw new InvalidArgumentError('--split must be session or time');
        const split = splitByMode(
          all,
          opts.split === 'time'
            ? { kind: 'time', testDays: opts.testDays, validationDays: opts.validationDays }
            : { kind: 'session', seed: opts.splitSeed },
        );
        sessions = split.train;
        // Popularity in an imported catalog may count held-out plays: recount it on the training split.
        const plays = new Map<string, number>();
        for (const s of sessions) for (const p of s.items) plays.set(p.id, (plays.get(p.id) ?? 0) + 1);
        const recounted = catalog.items.map((item, i) => ({
          ...item,
          popularity: plays.get(item.id) ?? 0,
          embedding: catalog.derivedEmbeddings ? undefined : Array.from(catalog.embedding(i)),
        }));
        catalog = new Catalog(recounted);
        data =
          opts.split === 'time'
            ? `${opts.sessions}: train split (${split.description})`
            : `${opts.sessions}: train split (seed ${opts.splitSeed}, ${DEFAULT_SPLIT.validation} validation, ${DEFAULT_SPLIT.test} test held out)`;
        dataHash = `${await datasetHash(opts.catalog)}+${await datasetHash(opts.sessions)}`;
        const learn =
          opts.embeddings === 'learn' || (opts.embeddings === 'auto' && catalog.derivedEmbeddings);
        if (learn) {
          const rows = learnEmbeddings(catalog, sessions, {
            seed: opts.seed,
            onProgress: (d, t) => progress.onProgress('item2vec embeddings', d, t),
          });
          progress.stop();
          catalog = new Catalog(rows);
        }
        // The model directory carries the catalog it was trained with (learned embeddings, train-split popularity).
        await writeCatalogFile(
          join(opts.out, 'catalog.jsonl'),
          catalog.items.map((item, i) => ({
            ...item,
            embedding: Array.from(catalog.embedding(i), (v) => Math.round(v * 1e6) / 1e6),
          })),
        );
        log(
          `wrote ${join(opts.out, 'catalog.jsonl')} (${catalog.size} items, ${catalog.dim}-dim embeddings)`,
        );
      }
      const { card, examples } = await trainModel({
        catalog,
        sessions,
        outDir: opts.out,
        name: opts.name,
        version: opts.modelVersion,
        seed: opts.seed,
        data,
        dataHash,
        createdAt: new Date().toISOString(),
        epochs: opts.epochs,
        dropFeatures: opts.dropFeatures,
        stepsPerSession: opts.stepsPerSession,
        likedWeight: opts.likedWeight,
        hardNegatives: opts.hardNegatives,
        negatives: opts.negatives,
        bothHalves: opts.bothHalves === true,
        loss: opts.loss,
        trainingCandidates: opts.trainingCandidates,
        artistQuota: opts.artistQuota,
        ensemble: opts.ensemble,
        ensembleData: opts.ensembleData === true,
        onProgress: (stage, d, t) =>
          progress.onProgress(stage === 'examples' ? 'building examples' : 'training ranker', d, t),
      });
      progress.stop();
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(startedCpu);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      log(
        `wrote ${opts.out}/model.onnx (sha256 ${card.sha256.slice(0, 12)}…): ${card.training.examples} examples from ${examples.stepsWithTarget}/${examples.steps} steps ` +
          `(retrieval recall ${(examples.targetRecall * 100).toFixed(1)}%), ${opts.ensemble > 1 ? `an ensemble of ${opts.ensemble}, members' mean ` : ''}val AUC ${card.metrics.valAuc.toFixed(4)}, ` +
          `val log-loss ${card.metrics.valLogLoss.toFixed(4)}; training took ${formatDuration(seconds)} (${formatDuration(cpuSeconds)} of CPU)`,
      );
      // The last line on stdout is one JSON object, for scripts and benchmarks.
      process.stdout.write(
        `${JSON.stringify({
          model: opts.out,
          sha256: card.sha256,
          sessions: sessions.length,
          examples: card.training.examples,
          valAuc: card.metrics.valAuc,
          valLogLoss: card.metrics.valLogLoss,
          seconds: Math.round(seconds * 10) / 10,
          // CPU time of this process: what the run costs on a machine shared with other jobs.
          cpuSeconds: Math.round(cpuSeconds * 10) / 10,
        })}\n`,
      );
    });
}

/** 298.4 → "4 min 58 s". */
export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  return whole < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

function featureList(value: string): FeatureName[] {
  const names = value.split(',').filter((n) => n.length > 0);
  const known = new Set<string>(FEATURE_SCHEMA.features);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0)
    throw new InvalidArgumentError(
      `unknown feature ${unknown.join(', ')}; the columns are ${FEATURE_SCHEMA.features.join(', ')}`,
    );
  return names as FeatureName[];
}

function positive(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}
