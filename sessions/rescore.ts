import type { Engine } from '../engine/engine.ts';
import type { ScoredPool } from '../engine/pool.ts';
import { walkLog } from './logWalk.ts';
import { kendallTau, rescoredPool } from './rescoredPool.ts';
import type { LogInput } from './sessionLog.ts';

export interface RescoreOptions {
  /** Largest score difference counted as the same score (default 1e-4: ONNX Runtime drifts ~1e-5). */
  tolerance?: number;
  /** How many of the best candidates the rank flips and the listed tops cover (default 10). */
  top?: number;
}

/** Where an item stands in the logged pool and in the rescored one (ranks 0-based, best first). */
export interface ItemRank {
  id: string;
  loggedRank: number;
  rank: number;
  loggedScore: number;
  score: number;
}

/** One logged decision's candidates, scored again. */
export interface DecisionRescore {
  decision: number;
  logIndex: number;
  nowMs: number;
  /** Candidates compared (the logged pool keeps the best `poolKeep` of those it scored). */
  candidates: number;
  /** False when the walk did not see the exact state the decision was scored at (see `walkLog`). */
  exactState: boolean;
  /** Kendall's tau-b between the logged and the new scores over every candidate. */
  kendallTau: number;
  /** Pairs among the logged best `top` that the new scores order the other way. */
  rankFlips: number;
  maxScoreDelta: number;
  meanScoreDelta: number;
  withinTolerance: boolean;
  topChanged: boolean;
  /** The best `top`, logged and rescored, with both ranks and scores. */
  logged: ItemRank[];
  rescored: ItemRank[];
}

/** One logged delivery against what the slate policy picks from the rescored pool at the same point. */
export interface DeliveryRescore {
  logIndex: number;
  decision: number;
  nowMs: number;
  /** Delivered ids, and what the policy would have delivered from the rescored pool. */
  logged: string[];
  rescored: string[];
  /** Slots whose item differs. */
  changed: number;
  /** The delivered items' ranks and scores, logged and rescored. */
  items: ItemRank[];
}

export interface RescoreReport {
  model: { logged?: string; rescored: string };
  tolerance: number;
  top: number;
  decisions: number;
  withinTolerance: number;
  topChanged: number;
  meanKendallTau: number;
  maxScoreDelta: number;
  rankFlips: number;
  deliveries: number;
  slatesChanged: number;
  picks: number;
  picksChanged: number;
  perDecision: DecisionRescore[];
  perDelivery: DeliveryRescore[];
  notes: string[];
  /** Every decision's scores within tolerance (the same model, drift only); another model is expected to fail it. */
  ok: boolean;
}

/**
 * `rescore`: every logged decision's candidate set is scored by `target` (another model) at the session state
 * it was scored at, and compared with the logged scores; every delivery is picked again by `target`'s slate
 * policy from the rescored pool, at the state before it, and compared with what was delivered. The session
 * itself is walked on `logging` (the engine it ran on: catalog, config), so the states are the logged ones.
 *
 * @example
 * const report = await rescoreSession(events, servingEngine, otherModelEngine);
 * console.log(report.topChanged, report.meanKendallTau);
 */
export async function rescoreSession(
  events: LogInput,
  logging: Engine,
  target: Engine,
  options: RescoreOptions = {},
): Promise<RescoreReport> {
  const tolerance = options.tolerance ?? 1e-4;
  const top = options.top ?? 10;
  const { catalog } = logging;
  const idOf = (i: number) => catalog.items[i]!.id;
  const rescored = new Map<number, ScoredPool>();
  const logged = new Map<number, ScoredPool>();
  const perDecision: DecisionRescore[] = [];
  const perDelivery: DeliveryRescore[] = [];
  const ranksOf = (pool: ScoredPool) => new Map(pool.items.map((item, k) => [item, k]));
  const itemRank = (decision: number, item: number): ItemRank => {
    const before = logged.get(decision)!;
    const after = rescored.get(decision)!;
    const b = ranksOf(before).get(item) ?? -1;
    const a = ranksOf(after).get(item) ?? -1;
    return {
      id: idOf(item),
      loggedRank: b,
      rank: a,
      loggedScore: b < 0 ? Number.NaN : before.scores[b]!,
      score: a < 0 ? Number.NaN : after.scores[a]!,
    };
  };

  const walked = await walkLog(events, logging, {
    async decision(d) {
      const again = await rescoredPool(target, d.scoredAt, d.pool, d.entry.nowMs);
      logged.set(d.pool.decision, d.pool);
      rescored.set(d.pool.decision, again);
      const newScore = new Map(again.items.map((item, k) => [item, again.scores[k]!]));
      const after = d.pool.items.map((item) => newScore.get(item)!);
      let max = 0;
      let sum = 0;
      d.pool.scores.forEach((s, k) => {
        const delta = Math.abs(after[k]! - s);
        max = Math.max(max, delta);
        sum += delta;
      });
      // Flips among the logged best: pairs the new scores put the other way round.
      let flips = 0;
      const head = Math.min(top, d.pool.items.length);
      for (let i = 0; i < head; i++) for (let j = i + 1; j < head; j++) if (after[i]! < after[j]!) flips++;
      const n = d.pool.items.length;
      perDecision.push({
        decision: d.pool.decision,
        logIndex: d.logIndex,
        nowMs: d.entry.nowMs,
        candidates: n,
        exactState: d.exactState,
        kendallTau: kendallTau(d.pool.scores, after),
        rankFlips: flips,
        maxScoreDelta: max,
        meanScoreDelta: n > 0 ? sum / n : 0,
        withinTolerance: max <= tolerance,
        topChanged: n > 0 && again.items[0] !== d.pool.items[0],
        logged: d.pool.items.slice(0, top).map((i) => itemRank(d.pool.decision, i)),
        rescored: again.items.slice(0, top).map((i) => itemRank(d.pool.decision, i)),
      });
    },
    delivery(d) {
      const pool = rescored.get(d.pool.decision);
      if (!pool || d.ids.length === 0) return;
      const picks = target.pick(d.before, pool, { n: d.ids.length, nowMs: d.nowMs }).picks;
      const got = picks.map((p) => p.id);
      perDelivery.push({
        logIndex: d.logIndex,
        decision: d.pool.decision,
        nowMs: d.nowMs,
        logged: d.ids,
        rescored: got,
        changed: d.ids.filter((id, k) => got[k] !== id).length,
        items: d.ids.map((id) => itemRank(d.pool.decision, catalog.indexOf(id) ?? -1)),
      });
    },
  });

  const notes = [...walked.notes];
  const inexact = perDecision.filter((d) => !d.exactState).length;
  if (inexact > 0)
    notes.push(
      `${inexact} decision(s) were scored at a state the walk did not see; they were rescored at the state they landed on.`,
    );
  const sum = (f: (d: DecisionRescore) => number) => perDecision.reduce((a, d) => a + f(d), 0);
  return {
    model: { logged: walked.start.model, rescored: target.modelId },
    tolerance,
    top,
    decisions: perDecision.length,
    withinTolerance: perDecision.filter((d) => d.withinTolerance).length,
    topChanged: perDecision.filter((d) => d.topChanged).length,
    meanKendallTau: perDecision.length > 0 ? sum((d) => d.kendallTau) / perDecision.length : 1,
    maxScoreDelta: perDecision.reduce((a, d) => Math.max(a, d.maxScoreDelta), 0),
    rankFlips: sum((d) => d.rankFlips),
    deliveries: perDelivery.length,
    slatesChanged: perDelivery.filter((d) => d.changed > 0).length,
    picks: perDelivery.reduce((a, d) => a + d.logged.length, 0),
    picksChanged: perDelivery.reduce((a, d) => a + d.changed, 0),
    perDecision,
    perDelivery,
    notes,
    ok: perDecision.every((d) => d.withinTolerance),
  };
}
