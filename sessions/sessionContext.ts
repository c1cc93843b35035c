import type { Pick } from '../engine/pick.ts';
import type { ScoredPool } from '../engine/pool.ts';
import type { Intent, Profile, SessionState, Steer } from '../engine/session.ts';
import type { SessionErrorCode } from './errors.ts';
import type { DeliveredItem, SeqFeedback } from './sessionService.ts';

/**
 * The session machine's data: its context (plain JSON, bounded: what the store keeps), its input, the events
 * it takes and emits, and the replies it writes for commands.
 */

/** Per-session limits, kept in context so a session restored on another node keeps its own. */
export interface SessionSettings {
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
 * (`withdrawn`) for the event log; a `feed.more` lists the ids it delivered (`ids`) for the log.
 */
export type SessionReply =
  | {
      reqId: number;
      ok: true;
      seqs: number[];
      invalidated: number[];
      withdrawn?: number[];
      ids?: string[];
      /** The propensity of each delivered pick, aligned with `ids`. */
      p?: number[];
      /** A resent request this session had already applied: answered again, not applied again. */
      repeat?: true;
    }
  | { reqId: number; ok: false; code: SessionErrorCode; message: string };

/**
 * Why scoring stopped until the next command: the pool scored for this very position offered fewer picks
 * than asked (`exhausted`: the rules allow nothing more for now) or scoring failed (`stalled`).
 */
export type Halt = 'exhausted' | 'stalled';

/**
 * Plain JSON and bounded: it is what the store keeps. Keep it under 20 top-level keys: xstate copies the
 * context with `Object.assign` on every `assign`, and on Node 20 a copy with 20 keys or more comes out in
 * V8's dictionary mode, which makes every later copy several times slower (a test holds the count).
 */
export interface SessionContext {
  /** 3 since picks are decided at delivery (the lookahead `buffer` became the scored `pool`); see `upgradeContext`. */
  v: 3;
  sessionId: string;
  /** The connection that drives the session now. */
  owner: string;
  /** Who the session belongs to (the authenticated caller); null when the server runs without authentication. */
  principal: string | null;
  /** sha256 (hex) of the current resume token; the token itself is never stored. */
  tokenHash: string;
  settings: SessionSettings;
  engine: SessionState | null;
  /** The latest decision's scored candidates; every pick is chosen from it at delivery. Null: score first. */
  pool: ScoredPool | null;
  /** The latest delivered items, oldest first, bounded by `historyWindow`. */
  delivered: DeliveredItem[];
  lastSeq: number;
  paused: boolean;
  /** Set when scoring stops until the next command; null while it runs as needed. */
  halted: Halt | null;
  /** A `feed.more` waiting for a decision (no pool, or a pool the steering made stale). */
  pendingMore: { reqId: number; n: number } | null;
  lastEventAt: number;
  disconnectedAt: number | null;
  endReason: EndReason | null;
  /** Restored from a snapshot, its log tail not yet replayed: no scoring until `session.restored`. */
  replaying: boolean;
  /** The latest idempotency keys with their content (`Idempotent`), oldest first, at most 32. */
  recent: string[];
}

/** The contexts of earlier versions a store may still hold (1 and 2 kept picks decided ahead in `buffer`). */
type ContextV2 = Omit<SessionContext, 'v' | 'pool' | 'principal' | 'settings' | 'recent'> & {
  version: number;
  v: 2;
  settings: SessionSettings & { lookahead?: number };
  buffer: Pick[];
  reply?: unknown;
  ask?: number;
};
type ContextV1 = Omit<ContextV2, 'v' | 'halted'> & {
  v: 1;
  exhausted: boolean;
  stalled: boolean;
  startedAt: number;
  endedAt: number | null;
};
export type StoredContext = SessionContext | ContextV2 | ContextV1;

/**
 * The current shape of a stored context. Versions 1 and 2 decided picks ahead into `buffer` (queued in the
 * engine's history too): those undelivered picks are withdrawn silently, and the next pick is decided at
 * delivery from a new pool. Version 1's flags become `halted`.
 */
export function upgradeContext(context: StoredContext): SessionContext {
  if (context.v === 3) return context.recent ? context : { ...context, recent: [] };
  const v2: ContextV2 =
    context.v === 2
      ? context
      : (() => {
          const { v: _v, exhausted, stalled, startedAt: _s, endedAt: _e, ...rest } = context;
          return { v: 2, ...rest, halted: stalled ? 'stalled' : exhausted ? 'exhausted' : null };
        })();
  const { v: _v, buffer, reply: _reply, ask: _ask, version: _version, settings, ...rest } = v2;
  const { lookahead: _lookahead, ...kept } = settings;
  const queued = new Set(buffer.map((p) => p.pos));
  const engine =
    rest.engine && queued.size > 0
      ? { ...rest.engine, history: rest.engine.history.filter((h) => !queued.has(h.pos)) }
      : rest.engine;
  return { v: 3, ...rest, settings: kept, engine, pool: null, principal: null, recent: [] };
}

export interface SessionInput {
  sessionId: string;
  owner: string;
  principal: string | null;
  tokenHash: string;
  settings: SessionSettings;
  nowMs: number;
  /** A replay: decisions come from the log only, never from the engine's model. */
  replaying?: boolean;
}

/** Every command carries the id its reply will echo and the caller's clock reading. */
export interface CommandStamp {
  reqId: number;
  nowMs: number;
}

/** The stamp of an event that only comes as a command where it is read (its transition takes commands only). */
export const stampOf = (event: SessionEvent): CommandStamp => event as CommandStamp;

export type SessionEvent =
  | (CommandStamp & { type: 'user.start'; seed: number; intent?: Intent; profile?: Profile })
  | (CommandStamp & { type: 'feed.more'; n: number })
  | (CommandStamp & { type: 'user.feedback'; feedback: SeqFeedback; key?: string })
  | (CommandStamp & { type: 'user.steer'; steer: Steer; key?: string })
  | (CommandStamp & { type: 'user.pause'; key?: string })
  | (CommandStamp & { type: 'user.play'; key?: string })
  | (CommandStamp & { type: 'user.end' })
  | (CommandStamp & { type: 'client.disconnected' })
  | (CommandStamp & { type: 'client.resumed'; connectionId: string; tokenHash: string; lastSeq: number })
  /** Sent after restoring from a store: timers are not persisted, so they are re-armed (or already due). */
  | (CommandStamp & { type: 'session.restored' })
  | { type: 'session.idle' }
  /** A decision from the log tail, applied as it was scored (the model does not run again). */
  | { type: 'log.pool'; pool: ScoredPool; nowMs: number }
  /** A scoring failure from the log tail. */
  | { type: 'log.refillFailed' };

/** A command as its sender gives it, before it is stamped with a reqId and the time. */
export type SessionCommand = SessionEvent extends infer E
  ? E extends CommandStamp
    ? Omit<E, 'reqId' | 'nowMs'>
    : never
  : never;

/** What the machine tells its owner: every command's reply, decisions for the log, and the end. */
export type SessionEmitted =
  | { type: 'session.reply'; reply: SessionReply }
  | {
      type: 'session.decision';
      nowMs: number;
      pool: ScoredPool;
      /** The held `feed.more` this decision answered, with the ids it delivered. */
      answered?: { reqId: number; ids: string[]; p: number[] };
    }
  | { type: 'session.refillFailed'; code: string; message: string }
  | { type: 'session.ended'; reason: EndReason };

export interface ScoreInput {
  state: SessionState;
  sessionId: string;
  /** A refresh of a pool that still serves (`due`): nothing waits for it, so it may wait its turn. */
  refresh: boolean;
}

export interface ScoreOutput {
  pool: ScoredPool;
  nowMs: number;
}

/** How many idempotency keys a session remembers. */
export const RECENT_KEYS = 32;

/** A command's idempotency entry: its key with its content, so a reused id with other content is new. */
export function recentEntry(event: SessionEvent): string | undefined {
  if (!('key' in event) || typeof event.key !== 'string') return undefined;
  const content =
    event.type === 'user.feedback'
      ? JSON.stringify(event.feedback)
      : event.type === 'user.steer'
        ? JSON.stringify(event.steer)
        : '';
  return `${event.key}\u0000${event.type}\u0000${content}`;
}

/** Selectors the session's owner reads instead of the context's shape. */
export const selectors = {
  delivered: (context: SessionContext, seqs: readonly number[]): DeliveredItem[] => {
    const { delivered } = context;
    // A `more`'s few seqs are the last delivered: found from the end (the last with the seq, as the map finds).
    if (seqs.length <= 16) {
      return seqs.map((seq) => {
        let k = delivered.length - 1;
        while (k >= 0 && delivered[k].seq !== seq) k--;
        return delivered[k]!;
      });
    }
    const bySeq = new Map(delivered.map((d) => [d.seq, d]));
    return seqs.map((seq) => bySeq.get(seq)!);
  },
  status: (context: SessionContext): 'streaming' | 'paused' => (context.paused ? 'paused' : 'streaming'),
} as const;
