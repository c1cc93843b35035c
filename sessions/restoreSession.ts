import { type Actor, createActor } from 'xstate';
import type { Catalog } from '../engine/catalog.ts';
import { sessionError } from './errors.ts';
import type { SessionClock } from './sessionClock.ts';
import { type StoredContext, upgradeContext } from './sessionContext.ts';
import { fromLoggedPool, readLog } from './sessionLog.ts';
import type { SessionEvent, SessionMachine } from './sessionMachine.ts';
import type { LoggedEvent } from './sessionStore.ts';

/** The persisted snapshot of a session that ended: it cannot be resumed. */
export interface EndedSnapshot {
  ended: true;
  endReason: StoredContext['endReason'];
}

/**
 * Rebuilds a session's actor from its stored snapshot and the events logged after it: the commands are
 * taken again in log order and the decisions applied as they were scored (the model does not run), with
 * scoring held until the caller sends `session.restored`. Picks are decided again from the logged pools,
 * which gives the same picks: the policy is deterministic given the state, the pool and the clock reading.
 * Call `start()` on the actor before `replayTail`.
 */
export function restoreActor(
  machine: SessionMachine,
  stored: unknown,
  tail: readonly LoggedEvent[],
  clock: SessionClock,
): Actor<SessionMachine> | EndedSnapshot {
  const persisted = stored as { status?: string; context: StoredContext };
  if (persisted.status === 'done') return { ended: true, endReason: persisted.context?.endReason ?? null };
  const context = upgradeContext(persisted.context);
  return createActor(machine, {
    snapshot: { ...persisted, context: tail.length > 0 ? { ...context, replaying: true } : context } as never,
    clock,
    input: undefined as never,
  });
}

/** Sends the log tail into a started, restored actor (see `restoreActor`). */
export function replayTail(
  actor: Actor<SessionMachine>,
  sessionId: string,
  tail: readonly LoggedEvent[],
  catalog: Catalog,
): void {
  const { entries } = readLog(tail, { start: false });
  let replayed = 0;
  for (const { index, entry } of entries) {
    if (entry.type === 'engine.pool') {
      const at = actor.getSnapshot().context.engine?.decisions;
      if (at !== entry.pool.decision) {
        throw sessionError(
          'SESSION_STORE_UNAVAILABLE',
          `Session ${sessionId}: log event ${index} of the tail is decision ${entry.pool.decision}, but the snapshot is at ${at}.`,
        );
      }
      actor.send({ type: 'log.pool', pool: fromLoggedPool(entry.pool, catalog), nowMs: entry.nowMs });
    } else if (entry.type === 'engine.failed') {
      actor.send({ type: 'log.refillFailed' });
    } else if (entry.ok !== false) {
      const { atMs: _at, node: _node, ok: _ok, code: _code, reqId: _r, repeat: _rp, ...command } = entry;
      const {
        withdrawn: _w,
        ids: _ids,
        wire: _wire,
        removed: _removed,
        ...rest
      } = command as typeof command & {
        withdrawn?: unknown;
        ids?: unknown;
        wire?: unknown;
        removed?: unknown;
      };
      // Negative ids: never one a live command of this node waits for.
      actor.send({ ...rest, reqId: -++replayed } as SessionEvent);
    }
  }
}
