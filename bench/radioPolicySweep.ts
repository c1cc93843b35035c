/**
 * The radio profile's slate-policy settings judged on VALIDATION only, many settings in one run: the model is
 * loaded and the indexes built once, then each setting is one engine through the `omakase eval` harness
 * (`evaluate`: fresh next-item accuracy, open-loop streams, the simulated listener), beside the ranker alone.
 * The figures of docs/results/features.md ("The radio policy, on validation"). One JSON object per setting.
 *
 *   npx tsx bench/radioPolicySweep.ts MODEL_DIR SESSIONS SPLIT_SEED SETTINGS_JSON [EVAL_SEED]
 *
 * SETTINGS_JSON: an object of name → engine config overrides, e.g. '{"served":{},"lambda1":{"mmrLambda":1}}';
 * a name starting with "default:" runs in the default profile instead of radio; a name starting with "ranker"
 * starts from the ranker-alone settings. EVAL_SEED (default 42, as `omakase eval --seed`) draws the targets
 * and the listeners' luck: other seeds give other draws of the same validation sessions. SKNN=K,SAMPLE in the
 * environment also judges SKNN with those settings (the split's tuned ones: docs/results) beside them.
 */
import { join } from 'node:path';
import { RANKER_ONLY_CONFIG } from '../adapters/cli/commands/evalCommand.ts';
import { SknnRecommender } from '../engine/baselines/sknnRecommender.ts';
import { Catalog } from '../engine/catalog.ts';
import { readCatalogRows } from '../engine/catalogFile.ts';
import type { EngineConfig } from '../engine/config.ts';
import { createEngine } from '../engine/engine.ts';
import { type EngineEntry, evaluate } from '../engine/eval/evaluate.ts';
import { splitByMode } from '../engine/eval/sessionSplit.ts';
import { SessionKnnIndex } from '../engine/retrieval/sessionKnnIndex.ts';
import { TransitionIndex } from '../engine/retrieval/transitionIndex.ts';
import { createVectorIndex } from '../engine/retrieval/vectorIndex.ts';
import { SequenceIndex } from '../engine/sequenceIndex.ts';
import { readSessionsFile } from '../engine/sessionsFile.ts';
import { loadModel } from '../models/loadModel.ts';

const [modelDir, sessionsPath, seedArg, settingsArg, evalSeed = '42'] = process.argv.slice(2);
if (!modelDir || !sessionsPath || !seedArg || !settingsArg) {
  process.stderr.write(
    'usage: tsx bench/radioPolicySweep.ts MODEL_DIR SESSIONS SPLIT_SEED SETTINGS_JSON [EVAL_SEED]\n',
  );
  process.exit(2);
}
const settings = JSON.parse(settingsArg) as Record<string, Partial<EngineConfig>>;
const started = performance.now();
const rows = await readCatalogRows(join(modelDir, 'catalog.jsonl'));
const split = splitByMode(await readSessionsFile(sessionsPath), { kind: 'session', seed: Number(seedArg) });
// As `omakase eval`: popularity and every index from the training split only.
const plays = new Map<string, number>();
for (const s of split.train) for (const p of s.items) plays.set(p.id, (plays.get(p.id) ?? 0) + 1);
const catalog = new Catalog(rows.map((r) => ({ ...r, popularity: plays.get(r.id) ?? 0 })));
const diversityCatalog = new Catalog(
  rows.map(({ embedding: _, ...r }) => r),
  { derivedDim: 64 },
);
const common = {
  catalog,
  scorer: (await loadModel(modelDir)).scorer,
  transitions: TransitionIndex.fromSessions(catalog, split.train),
  sessions: SessionKnnIndex.fromSessions(catalog, split.train),
  sequences: SequenceIndex.fromSessions(catalog, split.train),
  vectors: createVectorIndex(catalog),
};
const engines: EngineEntry[] = Object.entries(settings).map(([name, config]) => {
  const ranker = name.startsWith('ranker');
  return {
    name,
    engine: createEngine({ ...common, config: ranker ? { ...RANKER_ONLY_CONFIG, ...config } : config }),
    profile: name.startsWith('default:') || name === 'ranker' ? 'default' : 'radio',
  };
});
const [k, sampleSize] = (process.env.SKNN ?? '').split(',').map(Number);
const results = await evaluate({
  catalog,
  train: split.train,
  test: split.validation,
  algorithms: process.env.SKNN ? [new SknnRecommender({ k, sampleSize })] : [],
  engines,
  diversityCatalog,
  options: { seed: Number(evalSeed) },
});
for (const r of results)
  process.stdout.write(
    `${JSON.stringify({
      seed: Number(seedArg),
      evalSeed: Number(evalSeed),
      setting: r.algorithm,
      config: settings[r.algorithm] ?? process.env.SKNN,
      freshHr10: r.freshHr10,
      freshMrr10: r.freshMrr10,
      freshTargets: r.freshTargets,
      simSkipRate: r.simSkipRate,
      simLength: r.simLength,
      simLikes: r.simLikes,
      simViolations: r.simViolations,
      radioViolations: r.radioViolations,
      repeats: r.repeats + r.simRepeats,
      ild: r.ild,
    })}\n`,
  );
process.stderr.write(`took ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
