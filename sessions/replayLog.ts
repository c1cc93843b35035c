import type { Pick } from '../engine/pick.ts';
import type { Intent, Profile, Steer } from '../engine/session.ts';
import { sessionError } from './errors.ts';
import type { SeqFeedback } from './sessionService.ts';
import type { LoggedEvent, SessionLogEvent } from './sessionStore.ts';

/**
 * A session's event log read for replay and export: the `user.start`, then commands and decisions in log
 * order, each with the node that wrote it. Events replay does not need (or does not know) are skipped.
 */
export interface ReplayLog {
  start: LogStart;
  entries: LogEntry[];
  /** Event types that were in the log but are not replayed (newer writers, other tools). */
  ignored: string[];
}

/** What a replay or export accepts: the store's `readEvents` rows, or bare events (a JSONL dump of either). */
export type ReplayInput = readonly (LoggedEvent | SessionLogEvent)[];

export interface LogStart {
  kind: 'start';
  /** Position in the log (0-based), for reports. */
  index: number;
  node: string;
  atMs: number;
  seed: number;
  intent?: Intent;
  profile?: Profile;
  /** The engine's model id when the session started. */
  model?: string;
  provenance?: Record<string, unknown>;
}

export interface LogCommand {
  kind: 'command';
  index: number;
  node: string;
  type: string;
  /** The clock reading the machine got with the command (`atMs` in logs written before it was logged). */
  nowMs: number;
  /** Absent when the answer came later (a `feed.more` held for a refill) or the log predates outcomes. */
  ok?: boolean;
  code?: string;
  /** Positions the engine withdrew (feedback, steer). */
  withdrawn: number[];
  n?: number;
  feedback?: SeqFeedback;
  steer?: Steer;
}

export interface LogDecision {
  kind: 'decision';
  index: number;
  node: string;
  nowMs: number;
  seed: number;
  /** The engine state's decision count when it picked (decision k uses the seed derived from (seed, k)). */
  decision: number;
  requested: number;
  picks: Pick[];
}

export interface LogFailure {
  kind: 'failure';
  index: number;
  node: string;
  code: string;
  message: string;
}

export type LogEntry = LogCommand | LogDecision | LogFailure;

/** A log event as written by the session manager; every field but `type` and `atMs` may be missing. */
type RawEvent = {
  type: string;
  atMs: number;
  node?: unknown;
  nowMs?: number;
  seed?: number;
  decision?: number;
  requested?: number;
  picks?: Pick[];
  code?: string;
  message?: string;
  ok?: unknown;
  withdrawn?: number[];
  n?: number;
  feedback?: SeqFeedback;
  steer?: Steer;
  intent?: Intent;
  profile?: Profile;
  model?: string;
  provenance?: Record<string, unknown>;
};

/** The machine commands the manager logs; a replay and a restore take them again in log order. */
export const LOGGED_COMMANDS: ReadonlySet<string> = new Set([
  'feed.more',
  'user.feedback',
  'user.steer',
  'user.pause',
  'user.play',
  'user.end',
  'client.disconnected',
  'client.resumed',
]);

/** Reads a session log; throws SESSION_NOT_FOUND when empty, SESSION_INVALID_REQUEST when it cannot be replayed. */
export function readReplayLog(input: ReplayInput): ReplayLog {
  const events = input.map(
    (row) => ('event' in row && typeof row.event === 'object' ? row.event : row) as RawEvent,
  );
  if (events.length === 0)
    throw sessionError('SESSION_NOT_FOUND', 'The session log is empty: check the session id and prefix.');
  const first = events[0]!;
  if (first.type !== 'user.start' || !Number.isInteger(first.seed)) {
    throw sessionError(
      'SESSION_INVALID_REQUEST',
      `The log starts with "${first.type}", not "user.start" with a seed: it was trimmed (the store keeps the latest maxEvents) or is not a session log, so it cannot be replayed.`,
    );
  }
  const node = (e: RawEvent) => (typeof e.node === 'string' ? e.node : 'local');
  const start: LogStart = {
    kind: 'start',
    index: 0,
    node: node(first),
    atMs: first.atMs,
    seed: first.seed as number,
    intent: first.intent,
    profile: first.profile,
    model: first.model,
    provenance: first.provenance,
  };
  const entries: LogEntry[] = [];
  const ignored = new Set<string>();
  events.slice(1).forEach((e, i) => {
    const index = i + 1;
    if (e.type === 'engine.decision') {
      if (!Array.isArray(e.picks) || !Number.isInteger(e.decision)) {
        throw sessionError('SESSION_INVALID_REQUEST', `Log event ${index} is a decision without picks.`);
      }
      entries.push({
        kind: 'decision',
        index,
        node: node(e),
        nowMs: e.nowMs ?? e.atMs,
        seed: e.seed ?? start.seed,
        decision: e.decision as number,
        requested: e.requested ?? e.picks.length,
        picks: e.picks,
      });
    } else if (e.type === 'engine.failed') {
      entries.push({
        kind: 'failure',
        index,
        node: node(e),
        code: e.code ?? 'INTERNAL',
        message: e.message ?? '',
      });
    } else if (LOGGED_COMMANDS.has(e.type)) {
      entries.push({
        kind: 'command',
        index,
        node: node(e),
        type: e.type,
        nowMs: typeof e.nowMs === 'number' ? e.nowMs : e.atMs,
        ok: typeof e.ok === 'boolean' ? e.ok : undefined,
        code: e.code,
        withdrawn: Array.isArray(e.withdrawn) ? e.withdrawn : [],
        n: e.n,
        feedback: e.feedback,
        steer: e.steer,
      });
    } else {
      ignored.add(e.type);
    }
  });
  return { start, entries, ignored: [...ignored] };
}
