/**
 * Where fresh HR@10 is lost, on validation only: for each fresh next-item target of the validation sessions,
 * whether retrieval put it among the candidates the engine scores (and which sources proposed it), where the
 * ranker alone placed it, whether the served engine (slate policy) kept it in the top 10, and, beside them,
 * tuned SKNN's top 10 and top 500 and STAN's top 10 (30Music's tuning, without neighbour recency). The figures of docs/results/features.md ("Where fresh HR@10 is lost").
 * Last line: one JSON object.
 *
 *   npx tsx bench/recallProbe.ts MODEL_DIR SESSIONS [SPLIT_SEED | time] [PROFILE]
 */
import { join } from 'node:path';
import { RANKER_ONLY_CONFIG } from '../adapters/cli/commands/evalCommand.ts';
import { SknnRecommender } from '../engine/baselines/sknnRecommender.ts';
import { StanRecommender } from '../engine/baselines/stanRecommender.ts';
import { Catalog } from '../engine/catalog.ts';
import { readCatalogRows } from '../engine/catalogFile.ts';
import { DEFAULT_CONFIG } from '../engine/config.ts';
import { createEngine } from '../engine/engine.ts';
import { sampleTargets } from '../engine/eval/evaluate.ts';
import { dropUnseenItems, splitByMode } from '../engine/eval/sessionSplit.ts';
import { SIMULATION_EPOCH_MS, withPlayed } from '../engine/eval/streamRunner.ts';
import { buildQuery, createDirections } from '../engine/query.ts';
import { exclusions } from '../engine/retrieval/exclusions.ts';
import { buildExplorePool, retrieve, SOURCE_BIT } from '../engine/retrieval/retrieve.ts';
import { SessionKnnIndex } from '../engine/retrieval/sessionKnnIndex.ts';
import { TransitionIndex } from '../engine/retrieval/transitionIndex.ts';
import { createVectorIndex } from '../engine/retrieval/vectorIndex.ts';
import { createRng, deriveSeed } from '../engine/rng.ts';
import { SequenceIndex } from '../engine/sequenceIndex.ts';
import type { Profile } from '../engine/session.ts';
import { readSessionsFile } from '../engine/sessionsFile.ts';
import { loadModel } from '../models/loadModel.ts';

const [modelDir, sessionsPath, mode = '42', profileArg = 'radio'] = process.argv.slice(2);
if (!modelDir || !sessionsPath) {
  process.stderr.write('usage: tsx bench/recallProbe.ts MODEL_DIR SESSIONS [SPLIT_SEED | time] [PROFILE]\n');
  process.exit(2);
}
const rows = await readCatalogRows(join(modelDir, 'catalog.jsonl'));
const byMode = splitByMode(
  await readSessionsFile(sessionsPath),
  mode === 'time'
    ? { kind: 'time', testDays: 1, validationDays: 1 }
    : { kind: 'session', seed: Number(mode) },
);
let split = { train: byMode.train, validation: byMode.validation, test: byMode.test };
if (mode === 'time') split = dropUnseenItems(split);
// As `omakase eval`: popularity and every index from the training split only.
const plays = new Map<string, number>();
for (const s of split.train) for (const p of s.items) plays.set(p.id, (plays.get(p.id) ?? 0) + 1);
const catalog = new Catalog(rows.map((r) => ({ ...r, popularity: plays.get(r.id) ?? 0 })));
const transitions = TransitionIndex.fromSessions(catalog, split.train);
const sessions = SessionKnnIndex.fromSessions(catalog, split.train);
const sequences = SequenceIndex.fromSessions(catalog, split.train);
const vectors = createVectorIndex(catalog);
const { scorer } = await loadModel(modelDir);
const common = { catalog, scorer, transitions, sessions, sequences, vectors };
const ranker = createEngine({ ...common, config: RANKER_ONLY_CONFIG });
const served = createEngine(common);
const profile = profileArg as Profile;
const sknn = new SknnRecommender({ k: 50, sampleSize: 500 });
sknn.fit(split.train);
// STAN as tuned on the 30Music slices, without the neighbour-recency factor (no clock here).
const stan = new StanRecommender({ k: 100, sampleSize: 1000, lambdaSpw: 4, lambdaInh: 16, lambdaSnh: 0 });
stan.fit(split.train);
const resources = {
  catalog,
  vectors,
  transitions,
  sessions,
  explorePool: buildExplorePool(catalog, Math.min(DEFAULT_CONFIG.explorePool, catalog.size)),
};
const directions = createDirections(catalog);
const targets = sampleTargets(split.validation, catalog, 20, 42).filter((t) => !t.prefix.includes(t.target));

const count = {
  cold: 0,
  retrieved: 0,
  ranker10: 0,
  served10: 0,
  sknn10: 0,
  sknn500: 0,
  sknn10Missed: 0,
  stan10: 0,
  stan10Missed: 0,
  missedRecentArtist: 0,
  missedRecentArtistPool: 0,
};
const bySource: Record<string, number> = Object.fromEntries(Object.keys(SOURCE_BIT).map((k) => [k, 0]));
// Ranks of retrieved targets under the ranker alone: 1–10, 11–20, 21–50, 51–100, beyond.
const ranks = [0, 0, 0, 0, 0];
for (const t of targets) {
  const target = catalog.indexOf(t.target) as number;
  if (!plays.has(t.target)) count.cold++;
  const state = withPlayed(
    ranker.start({ seed: t.seed, profile: 'default' }),
    catalog,
    t.prefix,
    SIMULATION_EPOCH_MS,
  );
  // The decision's own retrieval, with the rng a decision at this state draws.
  const rng = createRng(deriveSeed(state.seed, state.decisions));
  const query = buildQuery(state, catalog, directions);
  const candidates = retrieve(resources, query, DEFAULT_CONFIG, exclusions(state, catalog), rng);
  const at = candidates.indexes.indexOf(target);
  const picks = (await ranker.next(state, { n: 100, nowMs: SIMULATION_EPOCH_MS })).picks.map((p) => p.id);
  const rank = picks.indexOf(t.target);
  if (at >= 0) {
    count.retrieved++;
    for (const [k, bit] of Object.entries(SOURCE_BIT)) if (candidates.sources[at] & bit) bySource[k]++;
    ranks[rank < 0 ? 4 : rank < 10 ? 0 : rank < 20 ? 1 : rank < 50 ? 2 : 3]++;
  }
  if (rank >= 0 && rank < 10) count.ranker10++;
  const servedState = withPlayed(
    served.start({ seed: t.seed, profile }),
    catalog,
    t.prefix,
    SIMULATION_EPOCH_MS,
  );
  const servedPicks = (await served.next(servedState, { n: 20, nowMs: SIMULATION_EPOCH_MS })).picks;
  if (servedPicks.slice(0, 10).some((p) => p.id === t.target)) count.served10++;
  const list = sknn.recommend(t.prefix, 500, new Set(t.prefix));
  const sknnRank = list.indexOf(t.target);
  if (sknnRank >= 0) count.sknn500++;
  if (sknnRank >= 0 && sknnRank < 10) {
    count.sknn10++;
    if (at < 0) count.sknn10Missed++;
  }
  if (at < 0) {
    // A missed target by one of the session's last four artists, and how many unplayed items those artists hold.
    const recentArtists = new Set<string>();
    for (let k = t.prefix.length - 1; k >= 0 && recentArtists.size < 4; k--) {
      const i = catalog.indexOf(t.prefix[k]);
      if (i !== undefined) recentArtists.add(catalog.items[i].artist);
    }
    if (recentArtists.has(catalog.items[target].artist)) {
      count.missedRecentArtist++;
      const played = new Set(t.prefix);
      for (const a of recentArtists)
        count.missedRecentArtistPool += catalog
          .byArtist(a)
          .filter((i) => !played.has(catalog.items[i].id)).length;
    }
  }
  if (stan.recommend(t.prefix, 10, new Set(t.prefix)).includes(t.target)) {
    count.stan10++;
    if (at < 0) count.stan10Missed++;
  }
}
const share = (x: number) => Number((x / targets.length).toFixed(4));
console.log(
  JSON.stringify({
    targets: targets.length,
    coldShare: share(count.cold),
    retrievalRecall: share(count.retrieved),
    bySource: Object.fromEntries(Object.entries(bySource).map(([k, v]) => [k, share(v)])),
    rankerHr10: share(count.ranker10),
    rankerHr10GivenRetrieved: Number((count.ranker10 / Math.max(1, count.retrieved)).toFixed(4)),
    retrievedRanks: { top10: ranks[0], to20: ranks[1], to50: ranks[2], to100: ranks[3], beyond: ranks[4] },
    servedHr10: share(count.served10),
    sknnHr10: share(count.sknn10),
    sknnTop500Recall: share(count.sknn500),
    sknnTop10MissedByRetrieval: count.sknn10Missed,
    stanHr10: share(count.stan10),
    stanTop10MissedByRetrieval: count.stan10Missed,
    missedByRecentArtist: share(count.missedRecentArtist),
    recentArtistPoolWhenMissed: Math.round(
      count.missedRecentArtistPool / Math.max(1, count.missedRecentArtist),
    ),
  }),
);
