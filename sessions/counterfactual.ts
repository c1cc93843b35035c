import type { Engine } from '../engine/engine.ts';
import type { ScoredPool } from '../engine/pool.ts';
import { walkLog } from './logWalk.ts';
import {
  estimateOffPolicy,
  fitScoreRewardModel,
  itemMeanRewardModel,
  type OffPolicyEstimates,
  type Round,
} from './offPolicy.ts';
import { toOpenBanditRows } from './replayExport.ts';
import { rescoredPool } from './rescoredPool.ts';
import type { LogInput } from './sessionLog.ts';

export const REWARD_MODELS = ['score', 'item-mean'] as const;
/** `score`: σ(a + b·logging score) fitted on the log; `item-mean`: each item's logged mean, shrunk. */
export type RewardModel = (typeof REWARD_MODELS)[number];

export interface CounterfactualOptions {
  /** Score the logged candidates with `target`'s model (true), or keep the logged scores (a policy change only). */
  rescore?: boolean;
  rewardModel?: RewardModel;
  /** A skip before this many ms counts as 0, a later one as 1 (default: every skip is 0). */
  earlySkipMs?: number;
}

/** One evaluated slot: the logged pick, its outcome, and both policies' chances of it. */
export interface SlotEvaluation {
  logIndex: number;
  /** The delivered item's seq (1-based, as the client saw it) and its slot in its delivery. */
  seq: number;
  slot: number;
  decision: number;
  id: string;
  /** null: no outcome logged (not counted). */
  reward: number | null;
  pLogged: number;
  pTarget: number;
  /** What the target policy would most likely have picked in this slot. */
  targetGreedy: string | null;
  rewardHat: number;
  targetRewardHat: number;
}

export interface CounterfactualReport {
  logging: { model?: string };
  target: { model: string; rescored: boolean };
  rewardModel: RewardModel;
  /** How the intervals are made. */
  interval: 'normal approximation, 95 %';
  sessions: number;
  /** Delivered slots, and those with an outcome (the rounds estimated). */
  slots: number;
  rewarded: number;
  estimates: OffPolicyEstimates;
  /** Mean probability the target puts on items the logging policy could not pick in that slot (no support). */
  unsupportedMass: number;
  /** Slots where the logging engine's own chance of the logged item differs from the logged propensity. */
  loggedMismatches: number;
  perSlot: SlotEvaluation[];
  notes: string[];
}

/** One slot as the walk saw it, before the reward model is fitted. */
interface RawSlot extends Omit<SlotEvaluation, 'rewardHat' | 'targetRewardHat'> {
  loggedScore: number;
  /** The target's choices and chances, with each choice's logged score. */
  choices: { id: string; p: number; score: number }[];
}

/**
 * `counterfactual`: off-policy estimates of the `target` engine's slate policy (another model, another policy
 * config, or both) from logged sessions. Each session is walked on `logging` (the engine it ran on); each
 * delivered slot is a round whose action is the logged item, whose logging propensity is the logged one, and
 * whose target propensity is the chance `target.slotChoices` gives the logged item over the target's pool
 * (the logged candidates, rescored when `rescore`) at the logged state, earlier slots of the same delivery
 * taken as logged. Rewards come from the listener's feedback (`rewardOf`): like or completed 1, skip or
 * dislike 0.
 *
 * @example
 * const report = await counterfactual([events], servingEngine, otherEngine, { rewardModel: 'score' });
 * console.log(report.estimates.snips);
 */
export async function counterfactual(
  logs: readonly LogInput[],
  logging: Engine,
  target: Engine,
  options: CounterfactualOptions = {},
): Promise<CounterfactualReport> {
  const rescore = options.rescore ?? true;
  const rewardModel = options.rewardModel ?? 'score';
  const { catalog } = logging;
  const raw: RawSlot[] = [];
  const notes: string[] = [];
  let unsupported = 0;
  let mismatches = 0;
  let loggedModel: string | undefined;

  for (const events of logs) {
    const rows = await toOpenBanditRows(events, { earlySkipMs: options.earlySkipMs ?? Infinity });
    const pools = new Map<number, ScoredPool>();
    let row = 0;
    const walked = await walkLog(events, logging, {
      async decision(d) {
        pools.set(
          d.pool.decision,
          rescore ? await rescoredPool(target, d.scoredAt, d.pool, d.entry.nowMs) : d.pool,
        );
      },
      delivery(d) {
        const items = d.ids.map((id) => catalog.indexOf(id) ?? -1);
        const pool = pools.get(d.pool.decision) ?? d.pool;
        const targetSlots = target.slotChoices(d.before, pool, { items, nowMs: d.nowMs });
        const loggingSlots = logging.slotChoices(d.before, d.pool, { items, nowMs: d.nowMs });
        const loggedScore = new Map(d.pool.items.map((item, k) => [item, d.pool.scores[k]!]));
        d.ids.forEach((id, slot) => {
          const r = rows[row++];
          if (r?.itemId !== id) return;
          const chances = targetSlots[slot];
          const own = loggingSlots[slot];
          const at = chances ? chances.items.indexOf(items[slot]!) : -1;
          const ownAt = own ? own.items.indexOf(items[slot]!) : -1;
          if (Math.abs((ownAt < 0 ? 0 : own!.p[ownAt]!) - (d.p[slot] ?? 1)) > 1e-12) mismatches++;
          if (chances && own) {
            const supported = new Set(own.items.filter((_, k) => own.p[k]! > 0));
            unsupported += chances.items.reduce(
              (a, item, k) => a + (supported.has(item) ? 0 : chances.p[k]!),
              0,
            );
          }
          raw.push({
            logIndex: d.logIndex,
            seq: r.pos + 1,
            slot,
            decision: d.pool.decision,
            id,
            reward: r.reward,
            pLogged: d.p[slot] ?? 1,
            pTarget: at < 0 ? 0 : chances!.p[at]!,
            targetGreedy: chances?.items[0] === undefined ? null : catalog.items[chances.items[0]]!.id,
            loggedScore: loggedScore.get(items[slot]!) ?? 0,
            choices: (chances?.items ?? []).map((item, k) => ({
              id: catalog.items[item]!.id,
              p: chances!.p[k]!,
              score: loggedScore.get(item) ?? 0,
            })),
          });
        });
      },
    });
    loggedModel ??= walked.start.model;
    notes.push(...walked.notes);
    if (row !== rows.length)
      notes.push(`A log's deliveries (${row}) and its export rows (${rows.length}) differ in number.`);
  }

  const rewarded = raw.filter((s) => s.reward !== null);
  const hatOfScore = fitScoreRewardModel(rewarded.map((s) => ({ score: s.loggedScore, reward: s.reward! })));
  const hatOfItem = itemMeanRewardModel(rewarded.map((s) => ({ id: s.id, reward: s.reward! })));
  const hat = (choice: { id: string; score: number }) =>
    rewardModel === 'score' ? hatOfScore(choice.score) : hatOfItem(choice.id);
  const perSlot: SlotEvaluation[] = raw.map(({ loggedScore, choices, ...slot }) => ({
    ...slot,
    rewardHat: hat({ id: slot.id, score: loggedScore }),
    targetRewardHat: choices.reduce((a, c) => a + c.p * hat(c), 0),
  }));
  const rounds: Round[] = perSlot
    .filter((s) => s.reward !== null)
    .map((s) => ({
      reward: s.reward!,
      pLogged: s.pLogged,
      pTarget: s.pTarget,
      rewardHat: s.rewardHat,
      targetRewardHat: s.targetRewardHat,
    }));
  if (mismatches > 0)
    notes.push(
      `${mismatches} slot(s): the logging engine gives the logged item another chance than the log says; replay it on the engine it ran on.`,
    );
  return {
    logging: { model: loggedModel },
    // Without rescoring the target ranks by the logged scores: the logged model's.
    target: { model: rescore ? target.modelId : (loggedModel ?? target.modelId), rescored: rescore },
    rewardModel,
    interval: 'normal approximation, 95 %',
    sessions: logs.length,
    slots: raw.length,
    rewarded: rounds.length,
    estimates: estimateOffPolicy(rounds),
    unsupportedMass: raw.length > 0 ? unsupported / raw.length : 0,
    loggedMismatches: mismatches,
    perSlot,
    notes,
  };
}
