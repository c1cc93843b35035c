/**
 * Where sessions live between calls and across nodes: the machine's persisted snapshot under a version
 * (compare-and-swap), and an append-only, bounded event log per session for audit and replay.
 * Implementations: `createMemoryStore` (one process) and `createRedisStore` (shared by nodes).
 */
export interface SessionStore {
  /** The latest snapshot and its version, or undefined when absent or expired. */
  load(sessionId: string): Promise<StoredSession | undefined>;
  /**
   * Writes `snapshot` if the stored version is still `expectedVersion` (0 = must not exist yet) and
   * returns the new version; otherwise rejects with SESSION_STORE_CONFLICT and writes nothing.
   * Refreshes the session's TTL.
   */
  save(sessionId: string, snapshot: unknown, expectedVersion: number): Promise<number>;
  /** Removes the snapshot and the log. */
  delete(sessionId: string): Promise<void>;
  /** Appends one JSON event to the session's log; returns its id (ids increase in append order). */
  appendEvent(sessionId: string, event: SessionLogEvent): Promise<string>;
  /** Events after `fromId` (exclusive; all kept ones when absent), oldest first, at most `count`. */
  readEvents(sessionId: string, options?: { fromId?: string; count?: number }): Promise<LoggedEvent[]>;
  /** Extends the snapshot's and log's TTL without writing (a live but quiet session). */
  touch(sessionId: string): Promise<void>;
  /** Releases connections the store opened itself. */
  close(): Promise<void>;
}

export interface StoredSession {
  /** Whatever `save` wrote, after a JSON round trip. */
  snapshot: unknown;
  version: number;
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
}

export const DEFAULT_STORE_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_EVENTS = 10_000;
