/**
 * Where sessions live between calls and across nodes: an append-only, bounded event log per session and,
 * now and then, the machine's persisted snapshot, which covers the log up to the moment it was saved. A
 * session is its latest snapshot plus the log events after it (the tail).
 *
 * Every write (append or snapshot) is a compare-and-swap on one version counter per session, so a node that
 * lost the session to another (a takeover, a resume elsewhere) cannot write behind the new owner's back: its
 * next write fails with SESSION_STORE_CONFLICT.
 * Implementations: `createMemoryStore` (one process) and `createRedisStore` (shared by nodes).
 */
export interface SessionStore {
  /** The latest snapshot, its version and the events logged after it, or undefined when absent or expired. */
  load(sessionId: string): Promise<StoredSession | undefined>;
  /**
   * Writes `snapshot` if the stored version is still `expectedVersion` (0 = nothing written yet) and
   * returns the new version; otherwise rejects with SESSION_STORE_CONFLICT and writes nothing. The snapshot
   * covers every event appended before it: `load` returns only later ones as the tail.
   * Refreshes the session's TTL.
   */
  save(sessionId: string, snapshot: unknown, expectedVersion: number): Promise<number>;
  /** Removes the snapshot and the log. */
  delete(sessionId: string): Promise<void>;
  /**
   * Appends one JSON event to the session's log if the version is still `expectedVersion`, like `save`;
   * returns the new version and the event's id (ids increase in append order). Refreshes the TTL.
   */
  append(sessionId: string, event: SessionLogEvent, expectedVersion: number): Promise<Appended>;
  /** Events after `fromId` (exclusive; all kept ones when absent), oldest first, at most `count`. */
  readEvents(sessionId: string, options?: { fromId?: string; count?: number }): Promise<LoggedEvent[]>;
  /** Extends the snapshot's and log's TTL without writing (a live but quiet session). */
  touch(sessionId: string): Promise<void>;
  /** Releases connections the store opened itself. */
  close(): Promise<void>;
  /** Resolves when the store answers (readiness probes); rejects with SESSION_STORE_UNAVAILABLE otherwise. */
  ping?(): Promise<void>;
}

export interface StoredSession {
  /** Whatever `save` wrote, after a JSON round trip. */
  snapshot: unknown;
  version: number;
  /** Events appended after the snapshot was saved, oldest first. */
  tail: LoggedEvent[];
}

export interface Appended {
  version: number;
  id: string;
}

/** One log entry: `type` dotted like machine events (`user.feedback`, `engine.decision`), plus JSON. */
export interface SessionLogEvent {
  type: string;
  /** Clock reading of the node that wrote it (ms since epoch). */
  atMs: number;
  [key: string]: unknown;
}

export interface LoggedEvent {
  id: string;
  event: SessionLogEvent;
}

/** Options both stores share. */
export interface SessionStoreOptions {
  /** Idle sessions expire this long after their last save or touch (default 24 h). */
  ttlMs?: number;
  /** The log keeps about this many latest events per session (default 10 000). */
  maxEvents?: number;
  /**
   * An ended session (its snapshot saved with xstate's `status: 'done'`) is kept only this long after its
   * final write (default 5 min): long enough for a late resume to hear SESSION_ENDED rather than
   * SESSION_NOT_FOUND, and for replay to read it, without holding every finished session for `ttlMs`.
   */
  endedTtlMs?: number;
}

export const DEFAULT_ENDED_TTL_MS = 5 * 60 * 1000;

/** True for a snapshot the session machine saved after it finished (xstate's persisted `status: 'done'`). */
export function isEndedSnapshot(snapshot: unknown): boolean {
  return (
    typeof snapshot === 'object' && snapshot !== null && (snapshot as { status?: unknown }).status === 'done'
  );
}

export const DEFAULT_STORE_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_EVENTS = 10_000;
