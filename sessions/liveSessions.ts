import type { Catalog } from '../engine/catalog.ts';
import { isOmakaseError } from '../models/omakaseError.ts';
import { sessionError } from './errors.ts';
import { endedError, LiveSession, worthReporting } from './liveSession.ts';
import type { EndReason } from './sessionContext.ts';
import { type DecisionEntry, type FailureEntry, toLoggedPool, type WireRecord } from './sessionLog.ts';
import type { SessionStore } from './sessionStore.ts';

export interface LiveSessionsDeps {
  store: SessionStore;
  catalog: Catalog;
  /** The writer's clock reading and node, for each log entry. */
  stamp: () => { atMs: number; node: string };
  /** The adapter's traffic waiting for the session's next log entry, taken once. */
  takeWire: (sessionId: string) => WireRecord[] | undefined;
  /** Runs `task` in the session's turn, after its calls under way. */
  inTurn: (sessionId: string, task: () => Promise<void>) => Promise<void>;
  /** The session ended on this node and its end is saved. */
  onEnded: (sessionId: string, reason: EndReason) => void;
  onError: (err: unknown) => void;
}

/**
 * The live copies this node holds, one per session (`LiveSession`): each logs its decisions and failures as
 * they happen, and is dropped when one of its writes fails or its session ends.
 */
export class LiveSessions {
  private readonly lives = new Map<string, LiveSession>();

  constructor(private readonly deps: LiveSessionsDeps) {}

  get(sessionId: string): LiveSession | undefined {
    return this.lives.get(sessionId);
  }

  has(sessionId: string): boolean {
    return this.lives.has(sessionId);
  }

  /** Whether `live` is still this node's copy of its session (not dropped, not replaced). */
  holds(live: LiveSession): boolean {
    return this.lives.get(live.sessionId) === live;
  }

  all(): LiveSession[] {
    return [...this.lives.values()];
  }

  /** Starts tracking a live copy: its decisions and failures are logged as they happen. */
  track(sessionId: string, actor: LiveSession['actor'], version: number): LiveSession {
    const { store, catalog, stamp, onError } = this.deps;
    const live = new LiveSession(sessionId, actor, version, store, (dropped, err) => {
      this.evict(dropped);
      if (worthReporting(err)) onError(err);
    });
    live.takeWire = () => this.deps.takeWire(sessionId);
    actor.on('session.decision', ({ nowMs, pool, answered }) => {
      const entry: DecisionEntry = {
        type: 'engine.pool',
        ...stamp(),
        nowMs,
        pool: toLoggedPool(pool, catalog),
        ...(answered ? { answered } : {}),
      };
      live.append(entry).catch(() => {});
    });
    actor.on('session.refillFailed', ({ code, message }) => {
      const entry: FailureEntry = { type: 'engine.failed', ...stamp(), code, message };
      live.append(entry).catch(() => {});
    });
    actor.subscribe({
      next: (snapshot) => {
        // Timeouts end sessions between calls: save and announce that in the session's turn.
        if (snapshot.status === 'done' && !live.ending) {
          live.ending = true;
          void this.deps.inTurn(sessionId, () => this.finish(live)).catch(onError);
        }
      },
      error: onError,
    });
    this.lives.set(sessionId, live);
    actor.start();
    return live;
  }

  /** Drops the copy: its actor stops, and calls still waiting for it fail. */
  evict(live: LiveSession): void {
    if (this.holds(live)) this.lives.delete(live.sessionId);
    live.ending = true;
    live.actor.stop();
    live.abandon(
      live.failure ?? sessionError('SESSION_STORE_CONFLICT', 'The session moved on while this call waited.'),
    );
  }

  /** Saves an ended session's last state and drops the copy. */
  private async finish(live: LiveSession): Promise<void> {
    const { sessionId } = live;
    if (!this.holds(live)) return;
    const reason = live.context.endReason ?? 'ended';
    live.abandon(endedError(sessionId, reason));
    try {
      await live.snapshot();
    } catch (err) {
      // Someone else wrote the session meanwhile: their copy decides how it ends.
      if (isOmakaseError(err, 'SESSION_STORE_CONFLICT')) return;
      throw err;
    } finally {
      this.evict(live);
    }
    this.deps.onEnded(sessionId, reason);
  }
}
