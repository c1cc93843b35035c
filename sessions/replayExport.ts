import type { Catalog } from '../engine/catalog.ts';
import type { Source } from '../engine/pick.ts';
import type { Intent, Profile } from '../engine/session.ts';
import { walkLedger } from './replayLedger.ts';
import { type ReplayInput, readReplayLog } from './replayLog.ts';
import type { SeqFeedback } from './sessionService.ts';

/**
 * Logged sessions as bandit feedback for counterfactual evaluation (IPS, SNIPS, DR): one round per logged
 * pick, with the probability the logging policy gave it and a reward from the listener's feedback.
 */

export interface ExportOptions {
  /** Names the session in row ids (`EventId` in DSJson). */
  sessionId?: string;
  /** With a catalog, rows carry `action` as the item's catalog index (Open Bandit Pipeline wants integers). */
  catalog?: Catalog;
  /** A skip before this many ms into the item is a rejection, reward 0; a later one counts as listened, 1 (default 30 000). */
  earlySkipMs?: number;
}

/** One bandit round in Open Bandit Pipeline's field names (`action`, `position`, `reward`, `pscore`). */
export interface OpenBanditRow {
  sessionId?: string;
  /** The engine decision (refill) the pick came from, and its slot in that decision. */
  decision: number;
  position: number;
  /** Stream position of the pick (the engine's `pos`). */
  pos: number;
  itemId: string;
  /** Catalog index of the item, when a catalog was given. */
  action?: number;
  /** Probability the logging policy picked this item for this slot. */
  pscore: number;
  /** 1 = completed, liked or listened past the early-skip mark; 0 = disliked or skipped early; null = no outcome (never delivered, withdrawn, or no feedback). */
  reward: number | null;
  delivered: boolean;
  score: number;
  explored: boolean;
  sources: Source[];
  model: string;
  /** Clock reading of the decision (ms since epoch). */
  nowMs: number;
  context: { profile: Profile; intent: Intent; seed: number };
}

/**
 * The rounds of one session log, in decision order; a pick logged twice (a node that lost the session
 * repeating a decision) is kept once.
 */
export async function toOpenBanditRows(
  events: ReplayInput,
  options: ExportOptions = {},
): Promise<OpenBanditRow[]> {
  const earlySkipMs = options.earlySkipMs ?? 30_000;
  const log = readReplayLog(events);
  const feedback = new Map<string, SeqFeedback[]>();
  const delivered = new Set<string>();
  const key = (pos: number, id: string) => `${pos}:${id}`;
  const context = {
    profile: log.start.profile ?? 'default',
    intent: log.start.intent ?? {},
    seed: log.start.seed,
  };

  await walkLedger<null>(log, {
    start: () => null,
    decide: async (state, entry) => ({ state, picks: entry.picks }),
    delivered(items) {
      for (const item of items) delivered.add(key(item.pos, item.id));
    },
    change(state, entry, item) {
      if (entry.feedback && item) {
        const at = key(item.pos, item.id);
        feedback.set(at, [...(feedback.get(at) ?? []), entry.feedback]);
      }
      return { state, withdrawn: entry.withdrawn };
    },
  });

  const rows: OpenBanditRow[] = [];
  const seen = new Set<string>();
  for (const entry of log.entries) {
    if (entry.kind !== 'decision') continue;
    entry.picks.forEach((pick, slot) => {
      const at = key(pick.pos, pick.id);
      if (seen.has(at)) return;
      seen.add(at);
      const action = options.catalog?.indexOf(pick.id);
      rows.push({
        ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
        decision: entry.decision,
        position: slot,
        pos: pick.pos,
        itemId: pick.id,
        ...(action === undefined ? {} : { action }),
        pscore: pick.propensity,
        reward: rewardOf(feedback.get(at) ?? [], earlySkipMs),
        delivered: delivered.has(at),
        score: pick.score,
        explored: pick.reasons.explored,
        sources: pick.reasons.source,
        model: pick.reasons.model,
        nowMs: entry.nowMs,
        context,
      });
    });
  }
  return rows;
}

/** A dislike anywhere wins, then a like; otherwise the last completion or skip decides. */
export function rewardOf(feedback: readonly SeqFeedback[], earlySkipMs: number): number | null {
  if (feedback.some((f) => f.type === 'disliked')) return 0;
  if (feedback.some((f) => f.type === 'liked')) return 1;
  const last = feedback.filter((f) => f.type === 'completed' || f.type === 'skipped').at(-1);
  if (!last) return null;
  return last.type === 'skipped' && last.atMs < earlySkipMs ? 0 : 1;
}

/**
 * The same rounds as Vowpal Wabbit DSJson lines (cb_adf): cost = −reward, the logged item as the single
 * action with its probability; rounds without a reward are marked `_skipLearn`.
 */
export async function toDsJsonLines(events: ReplayInput, options: ExportOptions = {}): Promise<string[]> {
  const rows = await toOpenBanditRows(events, options);
  return rows.map((row) => {
    const event = `${row.sessionId ?? 'session'}-${row.pos}`;
    const label =
      row.reward === null
        ? { _skipLearn: true }
        : {
            _label_cost: 0 - row.reward,
            _label_probability: row.pscore,
            _label_Action: 1,
            _labelIndex: 0,
          };
    return JSON.stringify({
      ...label,
      Timestamp: new Date(row.nowMs).toISOString(),
      Version: '1',
      EventId: event,
      a: [1],
      c: {
        session: {
          profile: row.context.profile,
          ...row.context.intent,
          decision: row.decision,
          slot: row.position,
        },
        _multi: [
          {
            item: { id: row.itemId, model: row.model, explored: row.explored },
            source: Object.fromEntries(row.sources.map((s) => [s, 1])),
          },
        ],
      },
      p: [row.pscore],
    });
  });
}
