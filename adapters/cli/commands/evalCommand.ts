import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ContextTreeRecommender } from '../../../engine/baselines/contextTreeRecommender.ts';
import { ItemKnnRecommender } from '../../../engine/baselines/itemKnnRecommender.ts';
import { MarkovRecommender } from '../../../engine/baselines/markovRecommender.ts';
import { PopularityRecommender } from '../../../engine/baselines/popularityRecommender.ts';
import { RandomRecommender } from '../../../engine/baselines/randomRecommender.ts';
import { SequentialRulesRecommender } from '../../../engine/baselines/sequentialRulesRecommender.ts';
import type { SessionRecommender } from '../../../engine/baselines/sessionRecommender.ts';
import { SknnRecommender } from '../../../engine/baselines/sknnRecommender.ts';
import { StanRecommender } from '../../../engine/baselines/stanRecommender.ts';
import { VsknnRecommender } from '../../../engine/baselines/vsknnRecommender.ts';
import { VstanRecommender } from '../../../engine/baselines/vstanRecommender.ts';
import { Catalog } from '../../../engine/catalog.ts';
import { readCatalogRows } from '../../../engine/catalogFile.ts';
import {
  ENGINE_PRESET_NAMES,
  ENGINE_PRESETS,
  type EngineConfig,
  type EnginePreset,
} from '../../../engine/config.ts';
import { createEngine } from '../../../engine/engine.ts';
import { type EngineEntry, EVALUATE_DEFAULTS, evaluate } from '../../../engine/eval/evaluate.ts';
import {
  DEFAULT_SPLIT,
  DEFAULT_TIME_SPLIT,
  dropUnseenItems,
  splitByMode,
} from '../../../engine/eval/sessionSplit.ts';
import {
  ctGrid,
  sknnGrid,
  srGrid,
  stanGrid,
  tuneOnValidation,
  vsknnGrid,
  vstanGrid,
} from '../../../engine/eval/tuneOnValidation.ts';
import { SessionKnnIndex } from '../../../engine/retrieval/sessionKnnIndex.ts';
import { TransitionIndex } from '../../../engine/retrieval/transitionIndex.ts';
import { SequenceIndex } from '../../../engine/sequenceIndex.ts';
import { PROFILES, type Profile } from '../../../engine/session.ts';
import { readSessionsFile } from '../../../engine/sessionsFile.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { loadModel } from '../../../models/loadModel.ts';
import type { Scorer } from '../../../models/scorer.ts';
import { averageResults, mergeResults, readReports } from '../../report/combineResults.ts';
import { writeReport } from '../../report/writeReport.ts';
import { createProgressReporter } from '../progressReporter.ts';

/** The engine settings of "ours-ranker": the model's order, without diversity, spacing or exploration. */
export const RANKER_ONLY_CONFIG = { mmrLambda: 1, exploration: 0, artistGap: 0, albumGap: 0 } as const;

/**
 * `omakase eval`: judges every baseline and our engine through one harness on held-out sessions and writes
 * the results table (Markdown, JSON) and the offline-vs-online plot (SVG, PNG).
 */
export function evalCommand(): Command {
  return new Command('eval')
    .description(
      'evaluate baselines and the engine on held-out sessions: next-item, streams, simulated listener',
    )
    .option('--catalog <file>', 'a JSONL catalog (docs/data-format.md); required unless --combine')
    .option('--sessions <file>', 'logged sessions, JSONL; required unless --combine')
    .option(
      '--combine <dirs...>',
      'instead of evaluating: average the results.json of earlier runs (e.g. the 30Music slices) into --out',
    )
    .option(
      '--merge <dirs...>',
      'instead of evaluating: put the rows of earlier runs of ONE split side by side in --out (later runs win a name)',
    )
    .option('--model <dir>', 'a trained model directory (its catalog.jsonl, if any, replaces --catalog)')
    .option('--out <dir>', 'where the report goes', 'eval-out')
    .option('--json', 'print one JSON object per algorithm on stdout')
    .option('--profile <profile>', `engine profile for "ours" (${PROFILES.join(', ')})`, 'radio')
    .option(
      '--preset <name>',
      `engine settings of "ours" as a deployment would choose them (${ENGINE_PRESET_NAMES.join(', ')}; engine/config.ts)`,
      'served',
    )
    .option('--seed <n>', 'seed of sampling and simulation', int, EVALUATE_DEFAULTS.seed)
    .option(
      '--split-seed <n>',
      'seed of the train/validation/test split (train uses the same)',
      int,
      DEFAULT_SPLIT.seed,
    )
    .option('--split <kind>', 'session (seeded, by --split-seed) | time (the last days held out)', 'session')
    .option(
      '--test-days <n>',
      'with --split time: days at the end held out for test',
      int,
      DEFAULT_TIME_SPLIT.testDays,
    )
    .option(
      '--validation-days <n>',
      'with --split time: days before the test days held out for validation',
      int,
      DEFAULT_TIME_SPLIT.validationDays,
    )
    .option(
      '--targets <n>',
      'next-item targets sampled per test session (0 = all)',
      int,
      EVALUATE_DEFAULTS.targetsPerSession,
    )
    .option(
      '--listeners <n>',
      'held-out sessions used as simulated listeners',
      int,
      EVALUATE_DEFAULTS.listeners,
    )
    .option('--length <n>', 'items per simulated stream', int, EVALUATE_DEFAULTS.streamLength)
    .option(
      '--no-tune',
      'use the published defaults of the kNN and sequence baselines instead of tuning them on validation',
    )
    .option(
      '--judge <part>',
      'test | validation: the held-out part scored (validation for choosing features and settings, never test)',
      'test',
    )
    .option('--no-engine', 'baselines only')
    .option('--no-baselines', 'the engine only (e.g. to try --ours-config)')
    .option(
      '--ours-config <json>',
      'engine settings that override the served defaults for "ours", e.g. \'{"artistGap":0}\' (an experiment: say so when reporting)',
    )
    .option('--quiet', 'no progress bars')
    .action(async (opts) => {
      if (opts.combine) {
        const runs = await readReports(opts.combine);
        const results = averageResults(runs.map((r) => r.results));
        const paths = await writeReport(opts.out, results, {
          command: `omakase ${process.argv.slice(2).join(' ')}`,
          catalog: runs.map((r) => r.meta.catalog).join(', '),
          sessions: runs.map((r) => r.meta.sessions).join(', '),
          split: `the mean of ${runs.length} runs, each weighted equally (targets summed)`,
          subtitle: `the mean of ${runs.length} runs: ${runs.map((r) => basename(dirname(r.meta.sessions))).join(', ')}`,
          notes: opts.combine.map((dir: string, i: number) => `run ${i + 1}: ${dir}: ${runs[i].meta.split}`),
        });
        if (opts.json) for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
        process.stderr.write(`wrote ${Object.values(paths).join(', ')}\n`);
        return;
      }
      if (opts.merge) {
        const runs = await readReports(opts.merge);
        const splits = new Set(runs.map((r) => r.meta.split));
        if (splits.size > 1)
          throw new InvalidArgumentError(
            `--merge needs runs of one split; got ${[...splits].join(' | ')}. Use --combine to average different splits.`,
          );
        const results = mergeResults(runs.map((r) => r.results));
        const paths = await writeReport(opts.out, results, {
          ...runs[0].meta,
          command: `omakase ${process.argv.slice(2).join(' ')}`,
          notes: runs.flatMap((r, i) => [
            `run ${i + 1}: ${opts.merge[i]}: ${r.results.map((x) => x.algorithm).join(', ')}`,
            ...(r.meta.notes ?? []),
          ]),
        });
        if (opts.json) for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
        process.stderr.write(`wrote ${Object.values(paths).join(', ')}\n`);
        return;
      }
      if (!opts.catalog || !opts.sessions)
        throw new InvalidArgumentError('give --catalog and --sessions (or --combine with earlier runs)');
      const profile = opts.profile as Profile;
      if (opts.split !== 'session' && opts.split !== 'time')
        throw new InvalidArgumentError('--split must be session or time');
      if (!PROFILES.includes(profile))
        throw new InvalidArgumentError(`--profile must be one of ${PROFILES.join(', ')}`);
      const progress = createProgressReporter({ quiet: opts.quiet });
      const log = (m: string) => process.stderr.write(`${m}\n`);
      const started = performance.now();
      const modelCatalog = opts.model ? join(opts.model, 'catalog.jsonl') : undefined;
      const catalogPath = modelCatalog && existsSync(modelCatalog) ? modelCatalog : opts.catalog;
      const rows = await readCatalogRows(catalogPath, {
        onProgress: (d, t) => progress.onProgress('reading catalog', d, t),
      });
      const sessions = await readSessionsFile(opts.sessions, {
        onProgress: (d, t) => progress.onProgress('reading sessions', d, t),
      });
      progress.stop();
      const notes: string[] = [];
      const byMode = splitByMode(
        sessions,
        opts.split === 'time'
          ? { kind: 'time', testDays: opts.testDays, validationDays: opts.validationDays }
          : { kind: 'session', seed: opts.splitSeed },
      );
      let split = { train: byMode.train, validation: byMode.validation, test: byMode.test };
      if (opts.split === 'time') {
        const before = split.test.length;
        split = dropUnseenItems(split);
        notes.push(
          `held-out plays of items unseen in training dropped, then sessions under 2 plays (test ${before} → ${split.test.length} sessions)`,
        );
      }
      // An imported catalog counts plays over all sessions; test plays must not reach the engine's popularity.
      const plays = new Map<string, number>();
      for (const s of split.train) for (const p of s.items) plays.set(p.id, (plays.get(p.id) ?? 0) + 1);
      const catalog = new Catalog(rows.map((r) => ({ ...r, popularity: plays.get(r.id) ?? 0 })));
      notes.push('item popularity recomputed from the training split');
      // ILD in one model-independent space (tags, artist, album), so it does not change with the embeddings.
      const diversityCatalog = new Catalog(
        rows.map(({ embedding: _, ...r }) => r),
        { derivedDim: 64 },
      );

      const tuned = (name: string, grid: ReturnType<typeof sknnGrid>): SessionRecommender => {
        const { best, bestConfig } = tuneOnValidation(grid, split.train, split.validation, catalog, {
          seed: opts.seed,
          targetsPerSession: 10,
          onTrial: (d, t) => progress.onProgress(`tuning ${name}`, d, t),
        });
        progress.stop();
        notes.push(`${name} tuned on validation (fresh HR@10): ${bestConfig}`);
        return best;
      };
      const timed = split.train.every((s) => s.startMs !== undefined);
      const algorithms: SessionRecommender[] = !opts.baselines
        ? []
        : [
            new RandomRecommender(opts.seed),
            new PopularityRecommender(),
            new MarkovRecommender(),
            new ItemKnnRecommender(),
            opts.tune ? tuned('sknn', sknnGrid()) : new SknnRecommender(),
            opts.tune ? tuned('vsknn', vsknnGrid()) : new VsknnRecommender(),
            opts.tune ? tuned('stan', stanGrid(timed)) : new StanRecommender(timed ? {} : { lambdaSnh: 0 }),
            opts.tune
              ? tuned('vstan', vstanGrid(timed))
              : new VstanRecommender(timed ? {} : { lambdaSnh: 0 }),
            opts.tune ? tuned('sr', srGrid()) : new SequentialRulesRecommender(),
            opts.tune ? tuned('ct', ctGrid()) : new ContextTreeRecommender(),
          ];
      if (!timed)
        notes.push(
          'sessions have no start times: STAN / VSTAN run without the neighbour-recency factor (λsnh)',
        );
      if (!opts.tune)
        notes.push(
          'published defaults: sknn k=100 sample=500; vsknn k=100 sample=1000 weighting=div; stan/vstan session-rec constructor defaults (k=100, sample 5000); sr steps=10 div pruning=20; ct maxDepth=10 bayes',
        );

      const engines: EngineEntry[] = [];
      if (opts.engine) {
        let scorer: Scorer = createFallbackScorer();
        if (opts.model) {
          const { scorer: loaded, card } = await loadModel(opts.model);
          scorer = loaded;
          notes.push(
            `ours: model ${card.name} ${card.version} (sha256 ${card.sha256.slice(0, 12)}…), trained on ${card.training.data}`,
          );
        } else {
          notes.push('ours: no --model given, ranked by the fallback scorer');
        }
        // The engine's transition memory and session neighbours come from the training split only, like
        // the baselines' data.
        const transitions = TransitionIndex.fromSessions(catalog, split.train);
        const sessions = SessionKnnIndex.fromSessions(catalog, split.train);
        const sequences = SequenceIndex.fromSessions(catalog, split.train);
        if (!ENGINE_PRESET_NAMES.includes(opts.preset))
          throw new InvalidArgumentError(`--preset must be one of ${ENGINE_PRESET_NAMES.join(', ')}`);
        let oursConfig: Partial<EngineConfig> = { ...ENGINE_PRESETS[opts.preset as EnginePreset] };
        if (opts.preset !== 'served')
          notes.push(`ours: preset ${opts.preset} ${JSON.stringify(oursConfig)} (engine/config.ts)`);
        if (opts.oursConfig) {
          try {
            oursConfig = { ...oursConfig, ...JSON.parse(opts.oursConfig) };
          } catch (err) {
            throw new InvalidArgumentError(`--ours-config must be a JSON object: ${(err as Error).message}`);
          }
          notes.push(
            `ours: served settings overridden by ${JSON.stringify(oursConfig)} (an experiment, not what is served)`,
          );
        }
        const full = createEngine({ catalog, scorer, transitions, sessions, sequences, config: oursConfig });
        // The ranker alone retrieves as "ours" does (its quotas, when set), without the slate policy.
        const rankerConfig = oursConfig.quotas
          ? { ...RANKER_ONLY_CONFIG, quotas: oursConfig.quotas }
          : RANKER_ONLY_CONFIG;
        const ranker = createEngine({
          catalog,
          scorer,
          transitions,
          sessions,
          sequences,
          config: rankerConfig,
        });
        engines.push(
          { name: 'ours-ranker', engine: ranker, profile: 'default' },
          { name: 'ours', engine: full, profile },
        );
        notes.push(
          `ours-ranker: the engine without the slate policy (${JSON.stringify(rankerConfig)}); ours: full policy, profile ${profile}`,
        );
      }

      if (opts.judge !== 'test' && opts.judge !== 'validation')
        throw new InvalidArgumentError('--judge must be test or validation');
      if (opts.judge === 'validation')
        notes.push('judged on the VALIDATION sessions (for choosing features and settings), not on test');
      const results = await evaluate({
        catalog,
        train: split.train,
        test: opts.judge === 'validation' ? split.validation : split.test,
        algorithms,
        engines,
        diversityCatalog,
        options: {
          seed: opts.seed,
          targetsPerSession: opts.targets,
          listeners: opts.listeners,
          streamLength: opts.length,
          onProgress: (stage, d, t) => progress.onProgress(stage, d, t),
        },
      });
      progress.stop();
      notes.push(
        `next-item targets: ${opts.targets > 0 ? `${opts.targets} sampled positions per test session` : 'every position'}; ` +
          `${opts.listeners} simulated listeners × ${opts.length} items; seed ${opts.seed}`,
      );
      const seconds = (performance.now() - started) / 1000;
      notes.push(`took ${seconds.toFixed(0)} s`);
      const paths = await writeReport(opts.out, results, {
        command: `omakase ${process.argv.slice(2).join(' ')}`,
        catalog: catalogPath,
        sessions: opts.sessions,
        split: byMode.description,
        subtitle: `${basename(dirname(opts.sessions))}/${basename(opts.sessions)}, split by ${
          opts.split === 'time'
            ? `time (last ${opts.testDays} d test, ${opts.validationDays} d validation)`
            : `session (seed ${opts.splitSeed})`
        }: ${split.train.length} train / ${split.validation.length} validation / ${split.test.length} test sessions`,
        notes,
      });
      if (opts.json) for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
      log(`wrote ${Object.values(paths).join(', ')} in ${seconds.toFixed(1)} s`);
    });
}

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}
