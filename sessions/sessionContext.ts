import type { Pick } from '../engine/pick.ts';
import type { Intent, Profile, SessionState, Steer } from '../engine/session.ts';
import type { SessionErrorCode } from './errors.ts';
import type { DeliveredItem, SeqFeedback } from './sessionService.ts';

/**
 * The session machine's data: its context (plain JSON, bounded: what the store keeps), its input, the events
 * it takes and emits, and the replies it writes for commands.
 */

/** Per-session limits, kept in context so a session restored on another node keeps its own. */
export interface SessionSettings {
  /** At most this many picks kept ready ahead of delivery (see `readyTarget`). */
  lookahead: number;
  /** Delivered items kept for feedback mapping and resend on resume (at least `maxMore`). */
  historyWindow: number;
  maxMore: number;
  graceMs: number;
  idleMs: number;
}

export type EndReason = 'idle' | 'grace-expired' | 'ended';

/**
 * The answer to the command with `reqId`: seqs delivered / missed, or withdrawn ones (`invalidated`), or a
 * coded refusal. A feedback or steer that made the engine withdraw picks also lists their positions
 * (`withdrawn`, buffered ones included) for the event log.
 */
export type SessionReply =
  | { reqId: number; ok: true; seqs: number[]; invalidated: number[]; withdrawn?: number[] }
  | { reqId: number; ok: false; code: SessionErrorCode; message: string };

/**
 * Why refills stopped until the next command: the last refill got fewer picks than asked (`exhausted`: the
 * rules allow nothing more for now) or failed (`stalled`).
 */
export type Halt = 'exhausted' | 'stalled';

/**
 * Plain JSON and bounded: it is what the store keeps. Keep it under 20 top-level keys: xstate copies the
 * context with `Object.assign` on every `assign`, and on Node 20 a copy with 20 keys or more comes out in
 * V8's dictionary mode, which makes every later copy several times slower (a test holds the count).
 */
export interface SessionContext {
  /** 2 since `exhausted`/`stalled` became `halted` and `startedAt`/`endedAt` went; `upgradeContext` reads 1. */
  v: 2;
  sessionId: string;
  owner: string;
  /** sha256 (hex) of the current resume token; the token itself is never stored. */
  tokenHash: string;
  settings: SessionSettings;
  engine: SessionState | null;
  /** Picked by the engine, not yet delivered (still queued in the engine's history). */
  buffer: Pick[];
  /** The latest delivered items, oldest first, bounded by `historyWindow`. */
  delivered: DeliveredItem[];
  lastSeq: number;
  paused: boolean;
  /** `n` of the latest `feed.more` (0 before the first; absent in snapshots from before it was kept). */
  ask?: number;
  /** Bumped when `engine` changes other than by a refill: a refill begun on an older state is dropped. */
  version: number;
  /** Set when refills stop until the next command; null while they run as needed. */
  halted: Halt | null;
  pendingMore: { reqId: number; n: number } | null;
  reply: SessionReply | null;
  lastEventAt: number;
  disconnectedAt: number | null;
  endReason: EndReason | null;
  /** Restored from a snapshot, its log tail not yet replayed: no refills until `session.restored`. */
  replaying: boolean;
}

/** A context as a store may hold it: this version's, or version 1's (written before `halted`). */
export type StoredContext =
  | SessionContext
  | (Omit<SessionContext, 'v' | 'halted'> & {
      v: 1;
      exhausted: boolean;
      stalled: boolean;
      startedAt: number;
      endedAt: number | null;
    });

/** The current shape of a stored context: version 1's flags become `halted`, its unread times go. */
export function upgradeContext(context: StoredContext): SessionContext {
  if (context.v === 2) return context;
  const { v: _v, exhausted, stalled, startedAt: _started, endedAt: _ended, ...rest } = context;
  return { v: 2, ...rest, halted: stalled ? 'stalled' : exhausted ? 'exhausted' : null };
}

export interface SessionInput {
  sessionId: string;
  owner: string;
  tokenHash: string;
  settings: SessionSettings;
  nowMs: number;
}

/** Every command carries the id its reply will echo and the caller's clock reading. */
export interface Command {
  reqId: number;
  nowMs: number;
}

export type SessionEvent =
  | (Command & { type: 'user.start'; seed: number; intent?: Intent; profile?: Profile })
  | (Command & { type: 'feed.more'; n: number })
  | (Command & { type: 'user.feedback'; feedback: SeqFeedback })
  | (Command & { type: 'user.steer'; steer: Steer })
  | (Command & { type: 'user.pause' })
  | (Command & { type: 'user.play' })
  | (Command & { type: 'user.end' })
  | (Command & { type: 'client.disconnected' })
  | (Command & { type: 'client.resumed'; connectionId: string; tokenHash: string; lastSeq: number })
  /** Sent after restoring from a store: timers are not persisted, so they are re-armed (or already due). */
  | (Command & { type: 'session.restored' })
  | { type: 'session.idle' }
  /** A decision from the log tail, applied as it was taken (the engine does not run again). */
  | { type: 'log.decision'; decision: number; requested: number; picks: Pick[] }
  /** A refill failure from the log tail. */
  | { type: 'log.refillFailed' };

/** What the machine tells its owner besides replies: decisions for the log, and the end. */
export type SessionEmitted =
  | {
      type: 'session.decision';
      nowMs: number;
      seed: number;
      decision: number;
      requested: number;
      picks: Pick[];
    }
  | { type: 'session.refillFailed'; code: string; message: string }
  | { type: 'session.ended'; reason: EndReason };

export interface RefillInput {
  state: SessionState;
  n: number;
  version: number;
}

export interface RefillOutput {
  state: SessionState;
  picks: Pick[];
  version: number;
  requested: number;
  nowMs: number;
}
