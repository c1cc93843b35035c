import { type Actor, createActor } from 'xstate';
import type { Catalog } from '../engine/catalog.ts';
import { isOmakaseError } from '../models/omakaseError.ts';
import { sessionError } from './errors.ts';
import { endedError, type LiveSession } from './liveSession.ts';
import type { LiveSessions } from './liveSessions.ts';
import type { SessionCaller } from './sessionCaller.ts';
import type { SessionClock } from './sessionClock.ts';
import { type StoredContext, upgradeContext } from './sessionContext.ts';
import { loggedPoolReader, readLog } from './sessionLog.ts';
import type { SessionEvent, SessionMachine } from './sessionMachine.ts';
import type { LoggedEvent, StoredSession } from './sessionStore.ts';

/**
 * A session this node rebuilt from the store: one it did not hold (`from: 'not-held'`: taken over from
 * another node, resumed after this node restarted, or reloaded after its copy was dropped) or one whose copy
 * here was older than the store (`'stale'`: another node wrote it since).
 */
export interface SessionRestore {
  sessionId: string;
  from: 'not-held' | 'stale';
  /** The node that wrote the last replayed log event, when the tail names one. */
  lastNode?: string;
  /** Log events replayed on top of the snapshot. */
  tailEvents: number;
  /** Time to load and rebuild, ms. */
  ms: number;
  ok: boolean;
  /** The error code when the rebuild failed. */
  code?: string;
}

export interface RestoreDeps {
  machine: SessionMachine;
  clock: SessionClock;
  catalog: Catalog;
  lives: LiveSessions;
  caller: SessionCaller;
  onRestored?: (restore: SessionRestore) => void;
}

/**
 * A live copy of a session rebuilt from what the store holds (`stored`, loaded since `began`, a
 * `performance.now()` reading), tracked by `lives` and told `session.restored`; `onRestored` hears how it went.
 */
export async function restoreSession(
  deps: RestoreDeps,
  sessionId: string,
  stored: StoredSession | undefined,
  how: { from: SessionRestore['from']; began: number },
): Promise<LiveSession> {
  if (!stored) throw sessionError('SESSION_NOT_FOUND', `No session ${sessionId}: start a new session.`);
  const actor = restoreActor(deps.machine, stored.snapshot, stored.tail, deps.clock);
  if ('ended' in actor) throw endedError(sessionId, actor.endReason);
  const lastNode = stored.tail.at(-1)?.event.node;
  const report = (ok: boolean, err?: unknown) =>
    deps.onRestored?.({
      sessionId,
      from: how.from,
      ...(typeof lastNode === 'string' ? { lastNode } : {}),
      tailEvents: stored.tail.length,
      ms: Number((performance.now() - how.began).toFixed(2)),
      ok,
      ...(ok ? {} : { code: isOmakaseError(err) ? err.code : 'INTERNAL' }),
    });
  const live = deps.lives.track(sessionId, actor, stored.version);
  try {
    replayTail(actor, sessionId, stored.tail, deps.catalog);
  } catch (err) {
    deps.lives.evict(live);
    report(false, err);
    throw err;
  }
  live.sinceSnapshot = stored.tail.length;
  // Timers are not part of a snapshot: re-arm them, or end the session if they are already due. A session
  // rebuilt from a log tail is saved again, so the next restore starts from here.
  await deps.caller
    .call(live, { type: 'session.restored' }, { log: false, snapshot: stored.tail.length > 0 })
    .catch((err: unknown) => {
      report(false, err);
      throw err;
    });
  report(true);
  return live;
}

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
  const readPool = loggedPoolReader(catalog);
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
      actor.send({ type: 'log.pool', pool: readPool(entry.pool), nowMs: entry.nowMs });
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
