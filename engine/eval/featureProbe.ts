import type { SessionRecommender, TrainSession } from '../baselines/sessionRecommender.ts';
import type { Catalog } from '../catalog.ts';
import type { Engine } from '../engine.ts';
import { hashString } from '../rng.ts';
import type { Profile } from '../session.ts';
import { sampleTargets } from './evaluate.ts';
import { NextItemAccumulator } from './metrics.ts';
import { SIMULATION_EPOCH_MS, withPlayed } from './streamRunner.ts';

/** A fitted baseline whose ranking is tried as one more ranking signal beside the engine's model. */
export interface ProbeSignal {
  name: string;
  recommender: SessionRecommender;
}

/** What blending one signal into the engine's order bought, on the held-out half of validation. */
export interface ProbeRow {
  signal: string;
  /** `rerank`: the engine's own top 100 reordered; `retrieve`: the signal's top 100 may enter too. */
  mode: 'rerank' | 'retrieve';
  /** Blend weight chosen on the tuning half. */
  weight: number;
  freshHr10: number;
  freshMrr10: number;
  /** The engine alone on the same targets. */
  baseHr10: number;
  baseMrr10: number;
  /** The signal's own ranking on the same targets. */
  signalHr10: number;
  signalMrr10: number;
}

const LIST = 100;
const WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/**
 * A probe of features the ranker lacks, outside the shipped path: on fresh next-item targets of the
 * validation sessions, each target's engine list (top 100, in the model's order) is blended with a
 * baseline's ranking, score = (1 − w)·(1 − rank_engine/100) + w·(1 − rank_signal/100). The weight is chosen
 * on half of the validation sessions and reported on the other half, so the figures say roughly what a
 * feature carrying that signal could buy a retrained model (a lower bound: a model can use it non-linearly).
 */
export async function probeSignals(input: {
  engine: Engine;
  profile: Profile;
  catalog: Catalog;
  validation: readonly TrainSession[];
  signals: readonly ProbeSignal[];
  seed: number;
  targetsPerSession: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<ProbeRow[]> {
  const { engine, profile, catalog, signals } = input;
  const targets = sampleTargets(input.validation, catalog, input.targetsPerSession, input.seed).filter(
    (t) => !t.prefix.includes(t.target),
  );
  const lists: { target: string; tune: boolean; engine: string[]; signals: string[][] }[] = [];
  for (let t = 0; t < targets.length; t++) {
    input.onProgress?.(t, targets.length);
    const { prefix, target, seed, session } = targets[t];
    const state = withPlayed(engine.start({ seed, profile }), catalog, prefix, SIMULATION_EPOCH_MS);
    const { picks } = await engine.next(state, { n: LIST, nowMs: SIMULATION_EPOCH_MS });
    const exclude = new Set(prefix);
    lists.push({
      target,
      // Which half a target is in depends on its session only, so no session feeds both halves.
      tune: (hashString(session) & 1) === 0,
      engine: picks.map((p) => p.id).filter((id) => !exclude.has(id)),
      signals: signals.map((s) => s.recommender.recommend(prefix, LIST, exclude)),
    });
  }
  input.onProgress?.(targets.length, targets.length);

  const score = (rows: typeof lists, signal: number, mode: ProbeRow['mode'], w: number) => {
    const acc = new NextItemAccumulator();
    for (const row of rows) {
      const blended = new Map<string, number>();
      row.engine.forEach((id, r) => {
        blended.set(id, (1 - w) * (1 - r / LIST));
      });
      row.signals[signal].forEach((id, r) => {
        const has = blended.has(id);
        if (has || mode === 'retrieve') blended.set(id, (blended.get(id) ?? 0) + w * (1 - r / LIST));
      });
      // Ties keep the engine's order (Map insertion order, stable sort).
      const ranked = [...blended].sort((a, b) => b[1] - a[1]).map(([id]) => id);
      acc.add(ranked.slice(0, 20), row.target);
    }
    return acc.result();
  };
  const tune = lists.filter((l) => l.tune);
  const report = lists.filter((l) => !l.tune);
  const out: ProbeRow[] = [];
  signals.forEach((s, i) => {
    for (const mode of ['rerank', 'retrieve'] as const) {
      // The weight that maximises HR@10 + MRR@10 on the tuning half (the goal asks for both).
      let best = { w: 0, value: -1 };
      for (const w of WEIGHTS) {
        const m = score(tune, i, mode, w);
        if (m.hr10 + m.mrr10 > best.value) best = { w, value: m.hr10 + m.mrr10 };
      }
      const base = score(report, i, mode, 0);
      const blended = score(report, i, mode, best.w);
      const alone = score(report, i, 'retrieve', 1);
      out.push({
        signal: s.name,
        mode,
        weight: best.w,
        freshHr10: blended.hr10,
        freshMrr10: blended.mrr10,
        baseHr10: base.hr10,
        baseMrr10: base.mrr10,
        signalHr10: alone.hr10,
        signalMrr10: alone.mrr10,
      });
    }
  });
  return out;
}
