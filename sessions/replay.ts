import type { Engine } from '../engine/engine.ts';
import type { Pick } from '../engine/pick.ts';
import type { Feedback, SessionState } from '../engine/session.ts';
import { walkLedger } from './replayLedger.ts';
import { type LogCommand, type LogDecision, type ReplayInput, readReplayLog } from './replayLog.ts';

export const REPLAY_MODES = ['exact', 'rescore'] as const;
/** `exact`: a decision matches when its item ids are identical in order. `rescore`: scores must also agree within `tolerance`, and a reordering of the same items within it counts as tolerated. */
export type ReplayMode = (typeof REPLAY_MODES)[number];

export interface ReplayOptions {
  mode?: ReplayMode;
  /** Largest score difference `rescore` accepts (default 1e-4; ONNX Runtime drifts ~1e-5 across threads). */
  tolerance?: number;
  /** Diverged decisions listed in the report (default 20; all are counted). */
  maxListed?: number;
}

export type DecisionStatus = 'exact' | 'tolerated' | 'diverged';

/** One decision as logged and as replayed. */
export interface DecisionDiff {
  /** The decision's index in the session (the engine's decision counter). */
  decision: number;
  /** Position of the decision in the log. */
  logIndex: number;
  status: DecisionStatus;
  expected: string[];
  got: string[];
  /** Largest |score difference| over items both picked. */
  maxScoreDelta: number;
  /** Pairs of items both picked that came out in the other order. */
  rankFlips: number;
}

/** A feedback or steer whose effect differed: the replay refused it, or withdrew other positions. */
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
  decisions: number;
  exact: number;
  tolerated: number;
  diverged: number;
  firstDivergence: DecisionDiff | null;
  /** The first `maxListed` diverged (and tolerated) decisions. */
  divergences: DecisionDiff[];
  maxScoreDelta: number;
  rankFlips: number;
  /** Feedback and steers replayed. */
  changes: number;
  commandMismatches: CommandMismatch[];
  /** Things the replay noticed that are not a decision's picks: state drift, unmappable seqs, unread event types. */
  notes: string[];
  /** True when every decision matched (exactly, or within tolerance) and every change had the logged effect. */
  ok: boolean;
}

/**
 * Rebuilds a session from its event log with `engine`: the logged start, then every decision with its
 * logged count and clock, and every accepted feedback and steer, in log order; compares each decision with
 * the logged one.
 *
 * @example
 * const report = await replaySession(await store.readEvents(sessionId), engine, { mode: 'rescore' });
 * if (!report.ok) console.log(report.firstDivergence);
 */
export async function replaySession(
  events: ReplayInput,
  engine: Engine,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const mode = options.mode ?? 'exact';
  const tolerance = options.tolerance ?? 1e-4;
  const maxListed = options.maxListed ?? 20;
  const log = readReplayLog(events);
  const report: ReplayReport = {
    mode,
    tolerance,
    model: { logged: log.start.model, replay: engine.modelId, provenance: log.start.provenance },
    decisions: 0,
    exact: 0,
    tolerated: 0,
    diverged: 0,
    firstDivergence: null,
    divergences: [],
    maxScoreDelta: 0,
    rankFlips: 0,
    changes: 0,
    commandMismatches: [],
    notes: log.ignored.map((type) => `"${type}" events are not replayed.`),
    ok: false,
  };
  if (!log.entries.some((e) => e.kind === 'command' && e.ok !== undefined)) {
    report.notes.push(
      'This log does not say which commands were accepted (written before outcomes were logged): every command is taken as accepted.',
    );
  }

  await walkLedger<SessionState>(log, {
    start: (entry) => engine.start({ seed: entry.seed, intent: entry.intent, profile: entry.profile }),

    async decide(state, entry) {
      if (state.decisions !== entry.decision || state.seed !== entry.seed) {
        report.notes.push(
          `Log event ${entry.index}: decision ${entry.decision} (seed ${entry.seed}) was logged where the replay is at decision ${state.decisions} (seed ${state.seed}).`,
        );
      }
      const out = await engine.next(state, { n: entry.requested, nowMs: entry.nowMs });
      record(report, compareDecision(entry, out.picks, mode, tolerance), maxListed);
      return out;
    },

    change(state, entry, item) {
      report.changes++;
      const mismatch = (expected: string, got: string) =>
        report.commandMismatches.push({ logIndex: entry.index, type: entry.type, expected, got });
      if (entry.type === 'user.feedback' && item === undefined) {
        mismatch(`feedback on seq ${entry.feedback!.seq}`, 'the replay delivered no such seq');
        return { state, withdrawn: entry.withdrawn };
      }
      let out: { state: SessionState; withdrawn: number[] };
      try {
        out =
          entry.type === 'user.feedback'
            ? engine.feedback(state, feedbackAt(entry, item!.pos), entry.nowMs)
            : engine.steer(state, entry.steer!, entry.nowMs);
      } catch (err) {
        mismatch('accepted', `refused: ${(err as Error).message}`);
        return { state, withdrawn: [] };
      }
      const got = [...out.withdrawn].sort((a, b) => a - b);
      const expected = [...entry.withdrawn].sort((a, b) => a - b);
      if (entry.ok !== undefined && got.join() !== expected.join()) {
        mismatch(`withdrew [${expected.join(', ')}]`, `withdrew [${got.join(', ')}]`);
      }
      return out;
    },
  });

  report.ok = report.diverged === 0 && report.commandMismatches.length === 0;
  return report;
}

function feedbackAt(entry: LogCommand, pos: number): Feedback {
  const { seq: _seq, ...rest } = entry.feedback!;
  return { ...rest, pos } as Feedback;
}

/** Compares a logged decision with the replayed picks. */
export function compareDecision(
  logged: LogDecision,
  got: readonly Pick[],
  mode: ReplayMode,
  tolerance: number,
): DecisionDiff {
  const expectedIds = logged.picks.map((p) => p.id);
  const gotIds = got.map((p) => p.id);
  const gotById = new Map(got.map((p, i) => [p.id, { pick: p, at: i }]));
  let maxScoreDelta = 0;
  const common: number[] = [];
  for (const pick of logged.picks) {
    const other = gotById.get(pick.id);
    if (!other) continue;
    maxScoreDelta = Math.max(maxScoreDelta, Math.abs(pick.score - other.pick.score));
    common.push(other.at);
  }
  let rankFlips = 0;
  for (let i = 0; i < common.length; i++) {
    for (let j = i + 1; j < common.length; j++) if (common[i]! > common[j]!) rankFlips++;
  }
  const sameOrder = expectedIds.length === gotIds.length && expectedIds.every((id, i) => id === gotIds[i]);
  const sameSet = expectedIds.length === gotIds.length && common.length === expectedIds.length;
  let status: DecisionStatus;
  if (mode === 'exact') status = sameOrder ? 'exact' : 'diverged';
  else if (maxScoreDelta > tolerance || !sameSet) status = 'diverged';
  else status = sameOrder ? 'exact' : 'tolerated';
  return {
    decision: logged.decision,
    logIndex: logged.index,
    status,
    expected: expectedIds,
    got: gotIds,
    maxScoreDelta,
    rankFlips,
  };
}

function record(report: ReplayReport, diff: DecisionDiff, maxListed: number): void {
  report.decisions++;
  report[diff.status]++;
  report.maxScoreDelta = Math.max(report.maxScoreDelta, diff.maxScoreDelta);
  report.rankFlips += diff.rankFlips;
  if (diff.status === 'diverged' && report.firstDivergence === null) report.firstDivergence = diff;
  if (diff.status !== 'exact' && report.divergences.length < maxListed) report.divergences.push(diff);
}
