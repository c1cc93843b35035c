import type { Engine } from '../engine/engine.ts';
import type { ScoredPool } from '../engine/pool.ts';
import type { SessionState } from '../engine/session.ts';
import { walkLog } from './logWalk.ts';
import type { createReplayService } from './replayService.ts';
import { changeMismatch } from './replayService.ts';
import { rescoredPool } from './rescoredPool.ts';
import { type DecisionEntry, type LogInput, readLog, type SessionLog } from './sessionLog.ts';
import type { DeliveredItem } from './sessionService.ts';

export type { LogInput as ReplayInput } from './sessionLog.ts';

export const REPLAY_MODES = ['exact', 'rescore'] as const;
/**
 * `exact`: the logged decisions are applied as scored and every delivery must give the logged items, in
 * order, with the logged propensities. `rescore`: as `exact`, and each logged decision's candidates are also
 * scored again by the replaying engine at the same point of the session, and compared (scores within
 * `tolerance`); `rescoreSession` (rescore.ts) reports the differences in full.
 */
export type ReplayMode = (typeof REPLAY_MODES)[number];

export interface ReplayOptions {
  mode?: ReplayMode;
  /** Largest score difference `rescore` accepts (default 1e-4; ONNX Runtime drifts ~1e-5 across threads). */
  tolerance?: number;
  /** Diverged comparisons listed in the report (default 20; all are counted). */
  maxListed?: number;
}

/** `ReplayOptions` defaults. */
const DEFAULTS = { tolerance: 1e-4, maxListed: 20 };

export type DecisionStatus = 'exact' | 'tolerated' | 'diverged';

/** One delivery (`what: 'delivery'`) or one rescored decision (`what: 'decision'`), as logged and as replayed. */
export interface DecisionDiff {
  what: 'delivery' | 'decision';
  /** The delivery's or decision's number in the session (0-based). */
  decision: number;
  /** Position of the entry in the log. */
  logIndex: number;
  status: DecisionStatus;
  expected: string[];
  got: string[];
  /** Largest |score difference| over items both have (rescore), or |propensity difference| (delivery). */
  maxScoreDelta: number;
  /** Pairs of items both have that came out in the other order. */
  rankFlips: number;
}

/** A command whose effect differed: the replay refused it, or withdrew other positions. */
export interface CommandMismatch {
  logIndex: number;
  type: string;
  expected: string;
  got: string;
}

export interface ReplayReport {
  mode: ReplayMode;
  tolerance: number;
  /** Model id logged at start, and the replaying engine's. */
  model: { logged?: string; replay: string; provenance?: Record<string, unknown> };
  /** Deliveries compared, plus decisions rescored in `rescore` mode. */
  decisions: number;
  exact: number;
  tolerated: number;
  diverged: number;
  firstDivergence: DecisionDiff | null;
  /** The first `maxListed` diverged (and tolerated) comparisons. */
  divergences: DecisionDiff[];
  maxScoreDelta: number;
  rankFlips: number;
  /** Decisions in `rescore` mode whose best item changed. */
  topChanged: number;
  /** Feedback and steers replayed. */
  changes: number;
  commandMismatches: CommandMismatch[];
  /** Things the replay noticed besides the comparisons: unread event types, unanswered requests. */
  notes: string[];
  /** True when every comparison matched (exactly, or within tolerance) and every command had the logged effect. */
  ok: boolean;
}

/**
 * Rebuilds a session from its event log by driving the session machine itself (the same one that served it)
 * with `engine`: the logged start, every logged command in order, and every logged decision applied as it was
 * scored; each delivery is compared with the logged one, and in `rescore` mode each decision is scored again.
 *
 * @example
 * const report = await replaySession(await store.readEvents(sessionId), engine, { mode: 'rescore' });
 * if (!report.ok) console.log(report.firstDivergence);
 */
export async function replaySession(
  events: LogInput,
  engine: Engine,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const mode = options.mode ?? 'exact';
  const log = readLog(events);
  const { report, record, compareDelivery } = judge(log, engine, {
    mode,
    tolerance: options.tolerance ?? DEFAULTS.tolerance,
    maxListed: options.maxListed ?? DEFAULTS.maxListed,
  });
  const tolerance = report.tolerance;
  let decisions = 0;
  /** Held `feed.more` requests (logged reqIds): a decision's answer to another is a divergence. */
  const held = new Set<number>();

  // The walk drives the machine over the log (the same one rescore, counterfactual and the timeline use);
  // this visitor judges what it sees.
  const walked = await walkLog(events, engine, {
    async decision(d) {
      if (mode === 'rescore') await rescore(d.entry, d.pool, d.logIndex, d.candidates);
      decisions++;
      const answered = d.entry.answered;
      // A logged answer to a request the replay never held: nothing was delivered here.
      if (answered && !held.delete(answered.reqId)) compareDelivery(d.logIndex, answered.ids, answered.p, []);
    },
    delivery(d) {
      compareDelivery(d.logIndex, d.ids, d.p, d.items);
    },
    change({ logIndex, entry, reply }) {
      report.changes++;
      const mismatch = changeMismatch(entry.withdrawn, reply);
      if (mismatch) report.commandMismatches.push({ logIndex, type: entry.type, ...mismatch });
    },
    command({ logIndex, entry, reply, items }) {
      if (entry.type !== 'feed.more') return;
      if (entry.ids) compareDelivery(logIndex, entry.ids, entry.p, items);
      else if (reply) compareDelivery(logIndex, [], undefined, items);
      else held.add(entry.reqId);
    },
  });
  report.notes = walked.notes;
  report.ok = report.diverged === 0 && report.commandMismatches.length === 0;
  return report;

  /**
   * Scores the decision again on the state it was scored for, and compares the pools' best. The pool names
   * that state by its decision count, position, signal count and steering; states that share them (a
   * `started` between the decision's start and its landing) are each tried, and the closest counts.
   */
  async function rescore(
    entry: DecisionEntry,
    logged: ScoredPool,
    logIndex: number,
    candidates: readonly SessionState[],
  ) {
    let best: DecisionDiff | undefined;
    for (const state of candidates) {
      const again = await rescoredPool(engine, state, logged, entry.nowMs);
      const diff = compare(again, logged, logIndex);
      const rank = (d: DecisionDiff) => ['exact', 'tolerated', 'diverged'].indexOf(d.status);
      if (
        !best ||
        rank(diff) < rank(best) ||
        (rank(diff) === rank(best) && diff.maxScoreDelta < best.maxScoreDelta)
      )
        best = diff;
    }
    if (best!.expected[0] !== best!.got[0]) report.topChanged++;
    record(best!);
  }

  function compare(again: ScoredPool, logged: ScoredPool, logIndex: number): DecisionDiff {
    const top = 10;
    const expected = logged.items.slice(0, top).map((i) => engine.catalog.items[i].id);
    const got = again.items.slice(0, top).map((i) => engine.catalog.items[i].id);
    const scoreOf = new Map(again.items.map((i, k) => [i, again.scores[k]!]));
    let delta = 0;
    let common = 0;
    for (let k = 0; k < logged.items.length; k++) {
      const s = scoreOf.get(logged.items[k]!);
      if (s === undefined) continue;
      common++;
      delta = Math.max(delta, Math.abs(s - logged.scores[k]!));
    }
    const sameOrder = expected.length === got.length && expected.every((id, i) => id === got[i]);
    const sameSet = common === logged.items.length && expected.every((id) => got.includes(id));
    return {
      what: 'decision',
      decision: decisions,
      logIndex,
      status: delta > tolerance || !sameSet ? 'diverged' : sameOrder ? 'exact' : 'tolerated',
      expected,
      got,
      maxScoreDelta: delta,
      rankFlips: rankFlips(expected, got),
    };
  }
}

/**
 * An empty report for `log` replayed on `engine`, and how it is filled: `record` counts one judged delivery or
 * decision, `compareDelivery` judges a delivery against the logged ids and propensities.
 */
function judge(
  log: SessionLog,
  engine: Engine,
  options: { mode: ReplayMode; tolerance: number; maxListed: number },
) {
  const report: ReplayReport = {
    mode: options.mode,
    tolerance: options.tolerance,
    model: { logged: log.start.model, replay: engine.modelId, provenance: log.start.provenance },
    decisions: 0,
    exact: 0,
    tolerated: 0,
    diverged: 0,
    firstDivergence: null,
    divergences: [],
    maxScoreDelta: 0,
    rankFlips: 0,
    topChanged: 0,
    changes: 0,
    commandMismatches: [],
    notes: log.ignored.map((type) => `"${type}" events are not replayed.`),
    ok: false,
  };
  const record = (diff: DecisionDiff) => {
    report.decisions++;
    report[diff.status]++;
    report.maxScoreDelta = Math.max(report.maxScoreDelta, diff.maxScoreDelta);
    report.rankFlips += diff.rankFlips;
    if (diff.status === 'diverged' && report.firstDivergence === null) report.firstDivergence = diff;
    if (diff.status !== 'exact' && report.divergences.length < options.maxListed)
      report.divergences.push(diff);
  };
  let deliveries = 0;
  const compareDelivery = (
    logIndex: number,
    expected: string[],
    p: number[] | undefined,
    items: readonly DeliveredItem[],
  ) => {
    const got = items.map((i) => i.id);
    const gotP = items.map((i) => i.propensity);
    let delta = 0;
    if (p)
      for (let i = 0; i < Math.min(p.length, gotP.length); i++)
        delta = Math.max(delta, Math.abs(p[i]! - gotP[i]!));
    const same = expected.length === got.length && expected.every((id, i) => id === got[i]);
    record({
      what: 'delivery',
      decision: deliveries++,
      logIndex,
      status: same && delta <= 1e-12 ? 'exact' : 'diverged',
      expected,
      got,
      maxScoreDelta: delta,
      rankFlips: rankFlips(expected, got),
    });
  };
  return { report, record, compareDelivery };
}

/**
 * The exact-mode report of a replay that drove the session machine through its adapter
 * (`createReplayService`, as `replayWire` and `replayVoice` do): its deliveries and its feedback and steers,
 * judged as `replaySession` judges them, so an exact replay walks the log once.
 */
export function exactReport(
  log: SessionLog,
  engine: Engine,
  replay: Pick<ReturnType<typeof createReplayService>, 'deliveries' | 'changes'>,
): ReplayReport {
  const { report, compareDelivery } = judge(log, engine, { mode: 'exact', ...DEFAULTS });
  for (const d of replay.deliveries) compareDelivery(d.logIndex, d.expected.ids, d.expected.p, d.got);
  report.changes = replay.changes.count;
  report.commandMismatches = replay.changes.mismatches.slice();
  report.ok = report.diverged === 0 && report.commandMismatches.length === 0;
  return report;
}

/** Pairs of items in both lists that come out in the other order. */
function rankFlips(expected: readonly string[], got: readonly string[]): number {
  const at = new Map(got.map((id, i) => [id, i]));
  const common = expected.map((id) => at.get(id)).filter((i): i is number => i !== undefined);
  let flips = 0;
  for (let i = 0; i < common.length; i++)
    for (let j = i + 1; j < common.length; j++) if (common[i]! > common[j]!) flips++;
  return flips;
}
