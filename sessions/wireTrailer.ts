import { isOmakaseError } from '../models/omakaseError.ts';
import { WIRE_TRAILER, type WireRecord } from './sessionLog.ts';
import { isEndedSnapshot, type SessionStore } from './sessionStore.ts';

/**
 * Writes an adapter's last traffic on a session that has ended (the answer to its `end`), which no later
 * command entry will carry. Resolves true once written, false when there was nothing to write it to.
 */
export type WireTrailer = (
  sessionId: string,
  wire: readonly WireRecord[],
  options?: {
    /**
     * False writes to a session that has not ended: only when no session manager holds it any more (it was
     * closed, as at a shutdown), or the manager's next write would lose to this one. Default true.
     */
    ended?: boolean;
  },
) => Promise<boolean>;

export interface WireTrailerOptions {
  nodeId?: string;
  now?: () => number;
  /** How long to wait for the session's ended snapshot to reach the store (default 2 s). */
  waitMs?: number;
}

/**
 * A `WireTrailer` on a store: one `adapter.wire` log entry, appended with the store's compare-and-swap only
 * after the session's ended snapshot is stored, so it never races the session manager's own writes (a live
 * session's copy would lose its next write to it). The manager writes that snapshot right after it answers
 * the `end`; until it is there the trailer looks again, a few times a second, for at most `waitMs`.
 *
 * @example
 * const trailer = createWireTrailer(store, { nodeId: 'n1' });
 * await trailer(sessionId, [['c1', 'out', ['ack', '3f1c…']]]);
 */
export function createWireTrailer(store: SessionStore, options: WireTrailerOptions = {}): WireTrailer {
  const nodeId = options.nodeId ?? 'local';
  const now = options.now ?? Date.now;
  const waitMs = options.waitMs ?? 2_000;
  return async (sessionId, wire, how = {}) => {
    const mustEnd = how.ended !== false;
    if (wire.length === 0) return false;
    const until = performance.now() + waitMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      const stored = await store.load(sessionId);
      if (!stored) return false;
      if (!mustEnd || isEndedSnapshot(stored.snapshot)) {
        try {
          await store.append(
            sessionId,
            { type: WIRE_TRAILER, atMs: now(), node: nodeId, wire: [...wire] },
            stored.version,
          );
          return true;
        } catch (err) {
          // Another trailer got there first: load the new version and append after it.
          if (!isOmakaseError(err, 'SESSION_STORE_CONFLICT')) throw err;
          continue;
        }
      }
      if (performance.now() + delay > until) return false;
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  };
}
