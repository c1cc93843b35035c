import { PopularityRecommender } from '../baselines/popularityRecommender.ts';
import type { SessionRecommender, TrainSession } from '../baselines/sessionRecommender.ts';
import type { Catalog } from '../catalog.ts';
import type { Engine } from '../engine.ts';
import { createRng, deriveSeed, hashString } from '../rng.ts';
import type { Profile } from '../session.ts';
import { ListenerModel, type ListenerOptions } from './listenerSimulator.ts';
import { NextItemAccumulator } from './metrics.ts';
import { streamMetrics } from './streamMetrics.ts';
import {
  enginePlayer,
  recommenderPlayer,
  runStream,
  SIMULATION_EPOCH_MS,
  type StreamPlayer,
  summariseSimulations,
  withPlayed,
} from './streamRunner.ts';

/** One engine configuration judged as "ours" (e.g. the ranker alone, or with the full slate policy). */
export interface EngineEntry {
  name: string;
  engine: Engine;
  profile: Profile;
}

export interface EvaluateOptions {
  seed: number;
  /** Next-item targets sampled per test session (0 = every position). */
  targetsPerSession: number;
  /** Held-out sessions used as simulated listeners (and as stream seeds). */
  listeners: number;
  /** Items per simulated / generated stream. */
  streamLength: number;
  listener: Partial<ListenerOptions>;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export const EVALUATE_DEFAULTS: Omit<EvaluateOptions, 'onProgress'> = {
  seed: 42,
  targetsPerSession: 20,
  listeners: 50,
  streamLength: 100,
  listener: {},
};

/** Every metric of one algorithm; the names are the CLI's `--json` keys. */
export interface EvalResult {
  algorithm: string;
  hr10: number;
  hr20: number;
  mrr10: number;
  mrr20: number;
  ndcg10: number;
  ndcg20: number;
  freshHr10: number;
  freshHr20: number;
  freshMrr10: number;
  freshMrr20: number;
  freshNdcg10: number;
  freshNdcg20: number;
  targets: number;
  freshTargets: number;
  coverage: number;
  ild: number;
  artistRepeatRate: number;
  repeats: number;
  radioViolations: number;
  simSkipRate: number;
  simLength: number;
  simLikes: number;
  simRepeats: number;
  simViolations: number;
}

/** A next-item ranker: a baseline (sync) or the engine (async). */
interface Ranker {
  name: string;
  recommend(
    prefix: readonly string[],
    k: number,
    exclude: ReadonlySet<string> | undefined,
    seed: number,
    nowMs: number | undefined,
  ): Promise<string[]> | string[];
  player(): StreamPlayer;
}

/**
 * The one harness every algorithm goes through: fits the baselines on `train`, then on held-out `test`
 * sessions measures next-item accuracy on all targets and on fresh ones, stream metrics on open-loop streams,
 * and simulated-online behaviour with listeners built from the held-out sessions. Deterministic for a seed.
 */
export async function evaluate(input: {
  catalog: Catalog;
  train: readonly TrainSession[];
  test: readonly TrainSession[];
  algorithms: readonly SessionRecommender[];
  engines?: readonly EngineEntry[];
  /** Whose item embeddings ILD uses (default `catalog`); one fixed space keeps ILD comparable across models. */
  diversityCatalog?: Catalog;
  options?: Partial<EvaluateOptions>;
}): Promise<EvalResult[]> {
  const { catalog, train, test } = input;
  const options = { ...EVALUATE_DEFAULTS, ...input.options };
  const progress = options.onProgress ?? (() => {});
  const fallback = new PopularityRecommender();
  fallback.fit(train);
  const rankers: Ranker[] = [];
  for (const algorithm of input.algorithms) {
    progress(`fit ${algorithm.name}`, 0, 1);
    algorithm.fit(train);
    rankers.push({
      name: algorithm.name,
      recommend: (prefix, k, exclude, _seed, nowMs) => algorithm.recommend(prefix, k, exclude, { nowMs }),
      player: () => recommenderPlayer(algorithm, fallback),
    });
  }
  for (const entry of input.engines ?? []) rankers.push(engineRanker(entry));

  const targets = sampleTargets(test, catalog, options.targetsPerSession, options.seed);
  const model = new ListenerModel(catalog, train, options.listener);
  const listenerSessions = pickListeners(test, options.listeners, options.seed);

  const results: EvalResult[] = [];
  for (const ranker of rankers) {
    const all = new NextItemAccumulator();
    const fresh = new NextItemAccumulator();
    for (let t = 0; t < targets.length; t++) {
      if (t % 200 === 0) progress(`${ranker.name}: next-item`, t, targets.length);
      const { prefix, target, seed, nowMs } = targets[t];
      all.add(await ranker.recommend(prefix, 20, undefined, seed, nowMs), target);
      const played = new Set(prefix);
      if (!played.has(target)) fresh.add(await ranker.recommend(prefix, 20, played, seed, nowMs), target);
    }
    const open = [];
    const closed = [];
    for (let l = 0; l < listenerSessions.length; l++) {
      progress(`${ranker.name}: streams`, l, listenerSessions.length);
      const session = listenerSessions[l];
      const seed = deriveSeed(options.seed, hashString(session.id));
      const listener = model.listener(session, seed);
      const run = { catalog, length: options.streamLength, seed };
      open.push(await runStream(ranker.player(), listener, { ...run, closedLoop: false }));
      closed.push(await runStream(ranker.player(), listener, { ...run, closedLoop: true }));
    }
    progress(`${ranker.name}: done`, 1, 1);
    const a = all.result();
    const f = fresh.result();
    const s = streamMetrics(
      open.map((o) => o.plays),
      input.diversityCatalog ?? catalog,
    );
    results.push({
      algorithm: ranker.name,
      hr10: a.hr10,
      hr20: a.hr20,
      mrr10: a.mrr10,
      mrr20: a.mrr20,
      ndcg10: a.ndcg10,
      ndcg20: a.ndcg20,
      freshHr10: f.hr10,
      freshHr20: f.hr20,
      freshMrr10: f.mrr10,
      freshMrr20: f.mrr20,
      freshNdcg10: f.ndcg10,
      freshNdcg20: f.ndcg20,
      targets: a.targets,
      freshTargets: f.targets,
      coverage: s.coverage,
      ild: s.ild,
      artistRepeatRate: s.artistRepeatRate,
      repeats: s.repeats,
      radioViolations: s.radioViolations,
      ...summariseSimulations(closed),
    });
  }
  return results;
}

/** One next-item target: the plays before it, the item, a seed, and when its session started (if known). */
export interface NextItemTarget {
  prefix: string[];
  target: string;
  seed: number;
  nowMs: number | undefined;
  /** The id of the session it comes from. */
  session: string;
}

/** Next-item targets: up to `perSession` seeded positions t ≥ 1 of each test session (prefix = plays before t). */
export function sampleTargets(
  sessions: readonly TrainSession[],
  catalog: Catalog,
  perSession: number,
  seed: number,
): NextItemTarget[] {
  const out: NextItemTarget[] = [];
  for (const session of sessions) {
    const ids = session.items.map((p) => p.id).filter((id) => catalog.indexOf(id) !== undefined);
    const positions = Array.from({ length: Math.max(0, ids.length - 1) }, (_, i) => i + 1);
    const sessionSeed = deriveSeed(seed, hashString(session.id));
    if (perSession > 0 && positions.length > perSession) {
      // A seeded partial Fisher–Yates shuffle picks the positions; they are then taken in order.
      const rng = createRng(sessionSeed);
      for (let i = 0; i < perSession; i++) {
        const j = i + rng.int(positions.length - i);
        [positions[i], positions[j]] = [positions[j], positions[i]];
      }
      positions.length = perSession;
      positions.sort((x, y) => x - y);
    }
    for (const t of positions)
      out.push({
        prefix: ids.slice(0, t),
        target: ids[t],
        seed: deriveSeed(sessionSeed, t),
        nowMs: session.startMs,
        session: session.id,
      });
  }
  return out;
}

/** The first `count` test sessions in a seeded order, keeping only those long enough to start a stream. */
function pickListeners(sessions: readonly TrainSession[], count: number, seed: number): TrainSession[] {
  return sessions
    .filter((s) => s.items.length >= 2)
    .map((s) => ({ s, key: deriveSeed(seed, hashString(s.id)) >>> 0 }))
    .sort((a, b) => a.key - b.key || (a.s.id < b.s.id ? -1 : 1))
    .slice(0, count)
    .map((x) => x.s);
}

/**
 * The engine as a next-item ranker: the prefix becomes a session state with those plays completed, and
 * one `next` call returns the ranked slate (so the slate policy shapes it, as it does when serving).
 */
function engineRanker(entry: EngineEntry): Ranker {
  const { engine, profile, name } = entry;
  // The engine never offers a played item, so the list for "all targets" and for "fresh" is one call.
  let last: { seed: number; length: number; ids: string[] } | undefined;
  return {
    name,
    async recommend(prefix, k, exclude, seed) {
      if (!last || last.seed !== seed || last.length !== prefix.length) {
        const state = withPlayed(
          engine.start({ seed, profile }),
          engine.catalog,
          prefix,
          SIMULATION_EPOCH_MS,
        );
        const { picks } = await engine.next(state, { n: Math.min(k, 100), nowMs: SIMULATION_EPOCH_MS });
        last = { seed, length: prefix.length, ids: picks.map((p) => p.id) };
      }
      return last.ids.filter((id) => !exclude?.has(id)).slice(0, k);
    },
    player: () => enginePlayer(name, engine, profile),
  };
}
