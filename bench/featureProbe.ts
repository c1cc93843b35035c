/**
 * What the ranker would gain from the strongest baselines' signals as features, measured on validation only
 * (engine/eval/featureProbe.ts): each of STAN, VSTAN, SR and CT (tuned on validation as `omakase eval`
 * tunes them) blended into the engine's order (the ranker alone, no slate policy), the weight chosen on one
 * half of the validation sessions and the figures reported on the other half. Last line: one JSON object.
 *
 *   npm run bench:probe -- CATALOG SESSIONS MODEL_DIR [session|time]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RANKER_ONLY_CONFIG } from '../adapters/cli/commands/evalCommand.ts';
import type { SessionRecommender } from '../engine/baselines/sessionRecommender.ts';
import { Catalog } from '../engine/catalog.ts';
import { readCatalogRows } from '../engine/catalogFile.ts';
import { createEngine } from '../engine/engine.ts';
import { probeSignals } from '../engine/eval/featureProbe.ts';
import { dropUnseenItems, splitByMode } from '../engine/eval/sessionSplit.ts';
import { ctGrid, srGrid, stanGrid, tuneOnValidation, vstanGrid } from '../engine/eval/tuneOnValidation.ts';
import { SessionKnnIndex } from '../engine/retrieval/sessionKnnIndex.ts';
import { TransitionIndex } from '../engine/retrieval/transitionIndex.ts';
import { SequenceIndex } from '../engine/sequenceIndex.ts';
import { readSessionsFile } from '../engine/sessionsFile.ts';
import { loadModel } from '../models/loadModel.ts';

const [catalogPath, sessionsPath, modelDir, splitKind = 'session'] = process.argv.slice(2);
if (!catalogPath || !sessionsPath || !modelDir) {
  process.stderr.write('usage: npm run bench:probe -- CATALOG SESSIONS MODEL_DIR [session|time]\n');
  process.exit(2);
}
const started = performance.now();
const log = (m: string) => process.stdout.write(`${m}\n`);
const modelCatalog = join(modelDir, 'catalog.jsonl');
const rows = await readCatalogRows(existsSync(modelCatalog) ? modelCatalog : catalogPath);
const sessions = await readSessionsFile(sessionsPath);
const split = splitByMode(
  sessions,
  splitKind === 'time' ? { kind: 'time', testDays: 1, validationDays: 1 } : { kind: 'session', seed: 42 },
);
const validation = splitKind === 'time' ? dropUnseenItems(split).validation : split.validation;
const plays = new Map<string, number>();
for (const s of split.train) for (const p of s.items) plays.set(p.id, (plays.get(p.id) ?? 0) + 1);
const catalog = new Catalog(rows.map((r) => ({ ...r, popularity: plays.get(r.id) ?? 0 })));
const { scorer, card } = await loadModel(modelDir);
const engine = createEngine({
  catalog,
  scorer,
  transitions: TransitionIndex.fromSessions(catalog, split.train),
  sequences: SequenceIndex.fromSessions(catalog, split.train),
  sessions: SessionKnnIndex.fromSessions(catalog, split.train),
  config: RANKER_ONLY_CONFIG,
});
const timed = split.train.every((s) => s.startMs !== undefined);
const tuned = (
  name: string,
  grid: ReturnType<typeof srGrid>,
): { name: string; recommender: SessionRecommender } => {
  const { best, bestConfig } = tuneOnValidation(grid, split.train, validation, catalog, {
    seed: 42,
    targetsPerSession: 10,
  });
  log(`${name}: ${bestConfig}`);
  return { name, recommender: best };
};
const signals = [
  tuned('stan', stanGrid(timed)),
  tuned('vstan', vstanGrid(timed)),
  tuned('sr', srGrid()),
  tuned('ct', ctGrid()),
];
const probe = await probeSignals({
  engine,
  profile: 'default',
  catalog,
  validation,
  signals,
  seed: 42,
  targetsPerSession: 10,
});
log(`# ${sessionsPath}, model ${card.name} ${card.version}; ${split.description}`);
log('# validation half B (weights chosen on half A); ours-ranker = the engine without the slate policy');
log(
  '| signal | mode | weight | blended fresh HR@10 | blended fresh MRR@10 | ours-ranker HR@10 | ours-ranker MRR@10 | signal alone HR@10 | signal alone MRR@10 |',
);
log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
const f = (v: number) => v.toFixed(4);
for (const r of probe) {
  log(
    `| ${r.signal} | ${r.mode} | ${r.weight} | ${f(r.freshHr10)} | ${f(r.freshMrr10)} | ${f(r.baseHr10)} | ${f(r.baseMrr10)} | ${f(r.signalHr10)} | ${f(r.signalMrr10)} |`,
  );
}
log(
  JSON.stringify({
    sessions: sessionsPath,
    seconds: Math.round((performance.now() - started) / 1000),
    probe,
  }),
);
