import type { Pick } from '../engine/pick.ts';
import type { Intent, Profile, Steer } from '../engine/session.ts';
import type { WireRecord } from './sessionLog.ts';

/**
 * What an adapter (the WebSocket server, the voice adapter, a replay) needs from the session layer.
 * Every call names the connection it comes from: a session belongs to one connection at a time, and a call
 * from a connection that no longer owns the session fails with SESSION_TAKEN_OVER.
 * All methods reject with an OmakaseError whose code is listed in sessions/errors.ts.
 */
export interface SessionService {
  /** How long this node's oldest waiting background refresh has waited, in ms (0 when none waits). */
  refreshWaitMs?(): number;
  start(request: StartRequest): Promise<SessionOpened>;
  /** Takes the session over for `connectionId` (within the grace window); re-sends items after `lastSeq`. */
  resume(request: ResumeRequest): Promise<SessionOpened>;
  /**
   * Up to `n` next items, each with a new `seq`, decided now from the session's scored pool (so every
   * feedback and steer acknowledged before this call shapes them); waits for a decision only when there is no
   * pool that can serve.
   */
  more(sessionId: string, connectionId: string, n: number): Promise<DeliveredItem[]>;
  /** Resolves once the feedback is durably recorded (that is the acknowledgement). */
  feedback(
    sessionId: string,
    connectionId: string,
    feedback: SeqFeedback,
    options?: Idempotent,
  ): Promise<Changed>;
  steer(sessionId: string, connectionId: string, steer: Steer, options?: Idempotent): Promise<Changed>;
  pause(sessionId: string, connectionId: string, options?: Idempotent): Promise<void>;
  /** Resumes playback after `pause` (not to be confused with `resume`, which reattaches a connection). */
  play(sessionId: string, connectionId: string, options?: Idempotent): Promise<void>;
  end(sessionId: string, connectionId: string): Promise<void>;
  /** The connection went away: the session waits out its grace window, then ends. */
  disconnected(sessionId: string, connectionId: string): void;
  /**
   * The adapter's traffic on this session (frames in, hashes of frames out), kept with the next log entry
   * the session writes, for exact replay. Optional: a service that does not record ignores it.
   */
  record?(sessionId: string, wire: readonly WireRecord[]): void;
  /** Notices the session sends on its own (timeouts, a takeover). */
  subscribe(sessionId: string, listener: (notice: SessionNotice) => void): () => void;
  close(): Promise<void>;
}

/**
 * A request the client may send again when it got no answer (a dropped connection): the same `key` (the
 * client's request id, unique within the session) with the same content is applied once; the repeat is
 * answered as the first was, and changes nothing. The session remembers its latest 32 keys.
 */
export interface Idempotent {
  key?: string;
}

export interface StartRequest {
  connectionId: string;
  /** Who starts it (the authenticated caller): only the same principal may resume it. */
  principal?: string;
  intent?: Intent;
  profile?: Profile;
  /** Fixes the session's randomness (tests, replay); otherwise drawn at start. */
  seed?: number;
}

export interface ResumeRequest {
  connectionId: string;
  /** Who resumes it: a session started by another principal is refused (SESSION_FORBIDDEN). */
  principal?: string;
  sessionId: string;
  resumeToken: string;
  /** The last seq the client saw; items after it are re-sent in `missed`. */
  lastSeq: number;
}

export interface SessionOpened {
  sessionId: string;
  /** Unguessable; rotated on every resume. */
  resumeToken: string;
  status: 'streaming' | 'paused';
  /** The session's last delivered seq (0 before any item). */
  lastSeq: number;
  /** Items delivered after the client's `lastSeq` (resume only; empty on start). */
  missed: DeliveredItem[];
  /** Grace window after a disconnect, in ms. */
  graceMs: number;
}

export interface DeliveredItem extends Pick {
  /** Monotonic per session, starting at 1; the handle clients use for feedback. */
  seq: number;
  /** True when the engine ran degraded (fallback scorer) for this pick. */
  degraded: boolean;
}

export type SeqFeedback =
  | { type: 'started'; seq: number }
  | { type: 'completed'; seq: number }
  | { type: 'skipped'; seq: number; atMs: number }
  | { type: 'liked'; seq: number }
  | { type: 'disliked'; seq: number };

/** Delivered items the change withdrew (the client should drop them from its queue). */
export interface Changed {
  invalidated: number[];
}

export type SessionNotice =
  | { type: 'invalidated'; seqs: number[]; reason: string }
  | { type: 'ended'; reason: 'idle' | 'grace-expired' | 'ended' }
  | { type: 'taken-over' };
