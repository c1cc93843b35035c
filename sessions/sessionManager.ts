import { randomUUID } from 'node:crypto';
import { createActor } from 'xstate';
import { isOmakaseError } from '../models/omakaseError.ts';
import { sessionError } from './errors.ts';
import { endedError, type LiveSession } from './liveSession.ts';
import { LiveSessions } from './liveSessions.ts';
import { PendingWire } from './pendingWire.ts';
import { RefreshSlots } from './refreshSlots.ts';
import { restoreSession, type SessionRestore } from './restoreSession.ts';
import { hashToken, tokenMatches } from './resumeToken.ts';
import { SessionCaller } from './sessionCaller.ts';
import { SessionChains } from './sessionChains.ts';
import { type SessionCommand, selectors } from './sessionContext.ts';
import type { StartEntry } from './sessionLog.ts';
import { createSessionMachine } from './sessionMachine.ts';
import { type SessionManagerOptions, withDefaults } from './sessionManagerOptions.ts';
import { SessionNotices } from './sessionNotices.ts';
import type { Idempotent, SessionOpened, SessionService } from './sessionService.ts';

export type { SessionRestore } from './restoreSession.ts';
export type { SessionClock } from './sessionClock.ts';
export type { SessionManagerOptions } from './sessionManagerOptions.ts';

const keyOf = (options: Idempotent | undefined) => (options?.key === undefined ? {} : { key: options.key });

/**
 * The session layer's `SessionService`: owns this node's live sessions (`LiveSession`), logs every command
 * and decision to the store (compare-and-swap) before a call resolves, and restores sessions another node
 * left behind (`restoreSession.ts`). Each concern has its module: the calls on one session in turn
 * (`SessionChains`), the copies this node holds (`LiveSessions`), calling a copy's actor (`SessionCaller`),
 * the adapter's traffic (`PendingWire`) and the notices (`SessionNotices`).
 *
 * @example
 * const service = createSessionManager({ engine, store: createMemoryStore() });
 * const { sessionId } = await service.start({ connectionId: 'c1' });
 * const items = await service.more(sessionId, 'c1', 5);
 */
export function createSessionManager(options: SessionManagerOptions): SessionService {
  const { engine, store } = options;
  const { clock, settings, nodeId, snapshotEvery, randomSeed, randomToken, onError, refreshes } =
    withDefaults(options);
  const slots = new RefreshSlots(refreshes);
  const machine = createSessionMachine({
    engine,
    now: () => clock.now(),
    refreshSlot: (sessionId, signal) => slots.slot(sessionId, signal),
  });
  const stamp = () => ({ atMs: clock.now(), node: nodeId });
  const chains = new SessionChains();
  const notices = new SessionNotices(onError);
  const wire = new PendingWire();
  const lives = new LiveSessions({
    store,
    catalog: engine.catalog,
    stamp,
    takeWire: (sessionId) => wire.take(sessionId),
    inTurn: (sessionId, task) => chains.run(sessionId, task),
    onEnded: (sessionId, reason) => {
      wire.drop(sessionId);
      // A listener-ended session was answered by its `end` call; the notice is for ends nobody asked for.
      if (reason !== 'ended') notices.notify(sessionId, { type: 'ended', reason });
      notices.drop(sessionId);
    },
    onError,
  });
  const caller = new SessionCaller({
    clock,
    snapshotEvery,
    slots,
    stamp,
    holds: (live) => lives.holds(live),
  });
  const restoreDeps = {
    machine,
    clock,
    catalog: engine.catalog,
    lives,
    caller,
    onRestored: options.onRestored,
  };

  /** The live copy, restored from the store when this node does not hold it (or, if `fresh`, holds an old one). */
  async function acquire(sessionId: string, fresh: boolean): Promise<LiveSession> {
    let live = lives.get(sessionId);
    // This copy's own writes first, so its version compares with the store's (a failed one drops the copy).
    if (live && fresh) {
      await live.settled().catch(() => {});
      if (!lives.holds(live)) live = undefined;
    }
    const began = performance.now();
    const stored = live && !fresh ? undefined : await store.load(sessionId);
    let from: SessionRestore['from'] = 'not-held';
    if (live && stored && stored.version !== live.version) {
      lives.evict(live);
      live = undefined;
      from = 'stale';
    }
    if (!live) live = await restoreSession(restoreDeps, sessionId, stored, { from, began });
    if (!live.active) throw endedError(sessionId, live.context.endReason);
    return live;
  }

  /**
   * Runs `attempt` on the session's live copy in the session's turn (loaded from the store first if `fresh`);
   * once more, on a copy loaded from the store, when the copy was dropped under it (SESSION_STORE_CONFLICT).
   */
  function inTurn<T>(sessionId: string, fresh: boolean, attempt: (live: LiveSession) => Promise<T>) {
    return chains.run(sessionId, async () => {
      for (let n = 0; ; n++) {
        const live = await acquire(sessionId, fresh || n > 0);
        try {
          return await attempt(live);
        } catch (err) {
          if (n > 0 || !isOmakaseError(err, 'SESSION_STORE_CONFLICT')) throw err;
        }
      }
    });
  }

  /** A command from `connectionId`: ownership checked, retried once on a store conflict with a fresh copy. */
  function run(sessionId: string, connectionId: string, command: SessionCommand) {
    return inTurn(sessionId, false, async (live) => {
      if (live.context.owner !== connectionId) {
        throw sessionError(
          'SESSION_TAKEN_OVER',
          `Session ${sessionId} was resumed by another connection; this one no longer owns it.`,
        );
      }
      const reply = await caller.call(live, command);
      if (!reply.ok) throw sessionError(reply.code, reply.message, { details: { sessionId } });
      return { reply, live };
    });
  }

  return {
    refreshWaitMs: () => refreshes.oldestWaitMs(),
    async start(request) {
      const sessionId = randomUUID();
      const resumeToken = randomToken();
      const seed = request.seed ?? randomSeed();
      const input = {
        sessionId,
        owner: request.connectionId,
        principal: request.principal ?? null,
        tokenHash: hashToken(resumeToken),
        settings,
        nowMs: clock.now(),
      };
      return chains.run(sessionId, async () => {
        const live = lives.track(sessionId, createActor(machine, { input, clock }), 0);
        const command = {
          type: 'user.start',
          seed,
          intent: request.intent,
          profile: request.profile,
        } as const;
        const entry: StartEntry = {
          ...command,
          connectionId: request.connectionId,
          model: engine.modelId,
          ...(options.provenance ? { provenance: options.provenance } : {}),
          ...stamp(),
        };
        live.append(entry).catch(() => {});
        const reply = await caller
          .call(live, command, { log: false, snapshot: true })
          .catch((err: unknown) => {
            lives.evict(live);
            throw err;
          });
        if (!reply.ok) {
          lives.evict(live);
          throw sessionError(reply.code, reply.message);
        }
        return {
          sessionId,
          resumeToken,
          status: 'streaming',
          lastSeq: 0,
          missed: [],
          graceMs: settings.graceMs,
        };
      });
    },

    resume(request) {
      const { sessionId, connectionId } = request;
      // Fresh: another node may have rotated the token or moved the session on since this copy was made.
      return inTurn(sessionId, true, async (live): Promise<SessionOpened> => {
        const before = live.context;
        // Both checks before anything is written.
        if (!tokenMatches(request.resumeToken, before.tokenHash)) {
          throw sessionError(
            'SESSION_BAD_RESUME_TOKEN',
            `The resume token for session ${sessionId} is wrong or was rotated: start a new session.`,
          );
        }
        if (before.principal !== null && before.principal !== (request.principal ?? null)) {
          throw sessionError('SESSION_FORBIDDEN', `Session ${sessionId} belongs to someone else.`);
        }
        const resumeToken = randomToken();
        const reply = await caller.call(live, {
          type: 'client.resumed',
          connectionId,
          tokenHash: hashToken(resumeToken),
          lastSeq: request.lastSeq,
        });
        if (!reply.ok) throw sessionError(reply.code, reply.message, { details: { sessionId } });
        if (before.owner !== connectionId) {
          notices.notify(sessionId, { type: 'taken-over' });
          notices.drop(sessionId);
        }
        const after = live.context;
        return {
          sessionId,
          resumeToken,
          status: selectors.status(after),
          lastSeq: after.lastSeq,
          missed: selectors.delivered(after, reply.seqs),
          graceMs: after.settings.graceMs,
        };
      });
    },
    async more(sessionId, connectionId, n) {
      const { reply, live } = await run(sessionId, connectionId, { type: 'feed.more', n });
      return reply.ok ? selectors.delivered(live.context, reply.seqs) : [];
    },

    async feedback(sessionId, connectionId, feedback, options) {
      const { reply } = await run(sessionId, connectionId, {
        type: 'user.feedback',
        feedback,
        ...keyOf(options),
      });
      return { invalidated: reply.ok ? reply.invalidated : [] };
    },

    async steer(sessionId, connectionId, steer, options) {
      const { reply } = await run(sessionId, connectionId, { type: 'user.steer', steer, ...keyOf(options) });
      return { invalidated: reply.ok ? reply.invalidated : [] };
    },

    async pause(sessionId, connectionId, options) {
      await run(sessionId, connectionId, { type: 'user.pause', ...keyOf(options) });
    },

    async play(sessionId, connectionId, options) {
      await run(sessionId, connectionId, { type: 'user.play', ...keyOf(options) });
    },

    async end(sessionId, connectionId) {
      await run(sessionId, connectionId, { type: 'user.end' });
    },

    disconnected(sessionId, connectionId) {
      void inTurn(sessionId, false, async (live) => {
        // A connection that lost the session to a takeover must not start the new owner's grace window.
        if (live.context.owner !== connectionId) return;
        const reply = await caller.call(live, { type: 'client.disconnected' });
        if (!reply.ok && reply.code !== 'SESSION_INVALID_EVENT')
          throw sessionError(reply.code, reply.message);
      }).catch((err: unknown) => {
        if (
          !isOmakaseError(err) ||
          !['SESSION_NOT_FOUND', 'SESSION_ENDED', 'SESSION_EXPIRED'].includes(err.code)
        ) {
          onError(err);
        }
      });
    },

    record(sessionId, records) {
      // Only for a session this node holds (or is about to): an ended one's traffic has nowhere to go.
      if (records.length === 0 || (!lives.has(sessionId) && !chains.has(sessionId))) return;
      wire.add(sessionId, records);
    },

    subscribe: (sessionId, listener) => notices.subscribe(sessionId, listener),

    async close() {
      // Sessions stay in the store for another node (or this one, restarted) to pick up.
      await chains.close();
      for (const live of lives.all()) {
        lives.evict(live);
        await live.settled().catch(() => {});
      }
      notices.clear();
      wire.clear();
    },
  };
}
