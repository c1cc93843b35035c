import { randomBytes } from 'node:crypto';
import type { Engine } from '../engine/engine.ts';
import { RefreshQueue } from './refreshQueue.ts';
import type { SessionRestore } from './restoreSession.ts';
import { type SessionClock, SYSTEM_CLOCK } from './sessionClock.ts';
import type { SessionSettings } from './sessionContext.ts';
import type { SessionStore } from './sessionStore.ts';

export interface SessionManagerOptions {
  engine: Engine;
  store: SessionStore;
  clock?: SessionClock;
  /** How long a disconnected session waits for a resume (default 120 000 ms). */
  graceMs?: number;
  /** A session with no command for this long ends (default 30 min). */
  idleMs?: number;
  /** Delivered items kept for feedback and resend on resume (default 100, at least `maxMore`). */
  historyWindow?: number;
  /** Largest `n` accepted by `more` (default 50). */
  maxMore?: number;
  /** Written into the event log so a reader knows which node handled what. */
  nodeId?: string;
  /**
   * A snapshot is saved after this many logged events (default 50): a session restored elsewhere replays
   * at most about this many events from the log on top of its snapshot.
   */
  snapshotEvery?: number;
  /** Model provenance (file hash, runtime version, threads) logged with each session's start, for replay. */
  provenance?: Record<string, unknown>;
  randomSeed?: () => number;
  randomToken?: () => string;
  /** Failures nobody awaits (snapshots, saves after timeouts); default: `console.warn`. */
  onError?: (err: unknown) => void;
  /** Told of every session this node rebuilds from the store (`SessionRestore`), for logs and metrics. */
  onRestored?: (restore: SessionRestore) => void;
  /** The node's queue of background refreshes (default: one of its own); pass one to read its length. */
  refreshes?: RefreshQueue;
}

/** The options `createSessionManager` reads beyond its engine and store, with their defaults filled in. */
export function withDefaults(options: SessionManagerOptions) {
  const maxMore = options.maxMore ?? 50;
  const settings: SessionSettings = {
    graceMs: options.graceMs ?? 120_000,
    idleMs: options.idleMs ?? 30 * 60_000,
    maxMore,
    historyWindow: Math.max(options.historyWindow ?? 100, maxMore),
  };
  return {
    clock: options.clock ?? SYSTEM_CLOCK,
    settings,
    nodeId: options.nodeId ?? 'local',
    snapshotEvery: options.snapshotEvery ?? 50,
    randomSeed: options.randomSeed ?? (() => randomBytes(4).readInt32LE(0)),
    randomToken: options.randomToken ?? (() => randomBytes(32).toString('base64url')),
    onError: options.onError ?? ((err: unknown) => console.warn('omakase sessions:', err)),
    refreshes: options.refreshes ?? new RefreshQueue(),
  };
}
