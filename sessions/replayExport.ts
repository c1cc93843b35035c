import type { Catalog } from '../engine/catalog.ts';
import type { Source } from '../engine/pick.ts';
import { SOURCE_BIT } from '../engine/retrieval/retrieve.ts';
import type { Intent, Profile } from '../engine/session.ts';
import { type LoggedPool, type LogInput, readLog } from './sessionLog.ts';
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
 * The rounds of one session log, one per delivered pick in delivery order, each with the decision (scored
 * pool) it was picked from. Read from the log alone: no engine is needed.
 */
export async function toOpenBanditRows(
  events: LogInput,
  options: ExportOptions = {},
): Promise<OpenBanditRow[]> {
  const earlySkipMs = options.earlySkipMs ?? 30_000;
  const log = readLog(events);
  const context = {
    profile: log.start.profile ?? 'default',
    intent: log.start.intent ?? {},
    seed: log.start.seed,
  };
  const rows: OpenBanditRow[] = [];
  const bySeq = new Map<number, OpenBanditRow>();
  const feedback = new Map<OpenBanditRow, SeqFeedback[]>();
  let pool: LoggedPool | undefined;
  let poolNowMs = log.start.atMs;
  let lastSeq = 0;
  const deliver = (ids: readonly string[], p: readonly number[] | undefined, nowMs: number) => {
    const scores = new Map(pool ? pool.ids.map((id, k) => [id, k]) : []);
    ids.forEach((itemId, position) => {
      const k = scores.get(itemId);
      const action = options.catalog?.indexOf(itemId);
      const pscore = p?.[position] ?? 1;
      const row: OpenBanditRow = {
        ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
        decision: pool?.decision ?? 0,
        position,
        // Picks take consecutive positions from 0 (positions are never reused), as seqs do from 1.
        pos: lastSeq,
        itemId,
        ...(action === undefined ? {} : { action }),
        pscore,
        reward: null,
        delivered: true,
        score: k === undefined ? 0 : pool!.scores[k]!,
        explored: pscore < 0.5,
        sources: k === undefined ? [] : sourcesOf(pool!.sources[k]!),
        model: pool?.model ?? log.start.model ?? 'unknown',
        nowMs: Math.max(nowMs, poolNowMs),
        context,
      };
      rows.push(row);
      bySeq.set(++lastSeq, row);
    });
  };
  for (const { entry } of log.entries) {
    if (entry.type === 'engine.pool') {
      pool = entry.pool;
      poolNowMs = entry.nowMs;
      if (entry.answered) deliver(entry.answered.ids, entry.answered.p, entry.nowMs);
    } else if (entry.type === 'feed.more' && entry.ok !== false && entry.ids) {
      deliver(entry.ids, entry.p, entry.nowMs);
    } else if (entry.type === 'user.feedback' && entry.ok !== false) {
      const row = bySeq.get(entry.feedback.seq);
      if (row) feedback.set(row, [...(feedback.get(row) ?? []), entry.feedback]);
    }
  }
  for (const row of rows) row.reward = rewardOf(feedback.get(row) ?? [], earlySkipMs);
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
export async function toDsJsonLines(events: LogInput, options: ExportOptions = {}): Promise<string[]> {
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

function sourcesOf(bits: number): Source[] {
  return (Object.keys(SOURCE_BIT) as Source[]).filter((s) => bits & SOURCE_BIT[s]);
}
