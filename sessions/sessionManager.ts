import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createActor } from 'xstate';
import type { Engine } from '../engine/engine.ts';
import { isOmakaseError } from '../models/omakaseError.ts';
import { sessionError } from './errors.ts';
import { endedError, LiveSession, worthReporting } from './liveSession.ts';
import { RefreshQueue } from './refreshQueue.ts';
import { RefreshSlots } from './refreshSlots.ts';
import { replayTail, restoreActor } from './restoreSession.ts';
import { type SessionClock, SYSTEM_CLOCK } from './sessionClock.ts';
import { type SessionCommand, type SessionReply, type SessionSettings, selectors } from './sessionContext.ts';
import {
  type CommandEntry,
  type DecisionEntry,
  type FailureEntry,
  type StartEntry,
  toLoggedPool,
  type WireRecord,
} from './sessionLog.ts';
import { createSessionMachine } from './sessionMachine.ts';
import type { Idempotent, SessionNotice, SessionOpened, SessionService } from './sessionService.ts';
import type { SessionStore } from './sessionStore.ts';

export type { SessionClock } from './sessionClock.ts';

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

/** How many candidates each rule removed for the first pick delivered (the decision's count, for the log). */
function removedBy(live: LiveSession, seqs: readonly number[]): { removed?: Record<string, number> } {
  if (seqs.length === 0) return {};
  const first = live.context.delivered.find((d) => d.seq === seqs[0]);
  return first ? { removed: first.reasons.removed } : {};
}

/** Adapter records held for one session between two log entries; more are dropped (replay says so). */
const MAX_PENDING_WIRE = 4096;

const keyOf = (options: Idempotent | undefined) => (options?.key === undefined ? {} : { key: options.key });

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

function tokenMatches(token: string, hash: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/**
 * The session layer's `SessionService`: owns this node's live sessions (`LiveSession`), logs every command
 * and decision to the store (compare-and-swap) before a call resolves, and restores sessions another node
 * left behind (`restoreSession.ts`).
 *
 * @example
 * const service = createSessionManager({ engine, store: createMemoryStore() });
 * const { sessionId } = await service.start({ connectionId: 'c1' });
 * const items = await service.more(sessionId, 'c1', 5);
 */
export function createSessionManager(options: SessionManagerOptions): SessionService {
  const { engine, store } = options;
  const clock = options.clock ?? SYSTEM_CLOCK;
  const maxMore = options.maxMore ?? 50;
  const settings: SessionSettings = {
    graceMs: options.graceMs ?? 120_000,
    idleMs: options.idleMs ?? 30 * 60_000,
    maxMore,
    historyWindow: Math.max(options.historyWindow ?? 100, maxMore),
  };
  const nodeId = options.nodeId ?? 'local';
  const snapshotEvery = options.snapshotEvery ?? 50;
  const randomSeed = options.randomSeed ?? (() => randomBytes(4).readInt32LE(0));
  const randomToken = options.randomToken ?? (() => randomBytes(32).toString('base64url'));
  const onError = options.onError ?? ((err: unknown) => console.warn('omakase sessions:', err));
  const refreshes = options.refreshes ?? new RefreshQueue();
  const slots = new RefreshSlots(refreshes);
  const machine = createSessionMachine({
    engine,
    now: () => clock.now(),
    refreshSlot: (sessionId, signal) => slots.slot(sessionId, signal),
  });
  const lives = new Map<string, LiveSession>();
  const chains = new Map<string, Promise<unknown>>();
  const listeners = new Map<string, Set<(notice: SessionNotice) => void>>();
  /** Adapter traffic per session waiting for the session's next log entry (bounded: see `record`). */
  const wire = new Map<string, WireRecord[]>();
  let nextReqId = 0;
  let closed = false;

  /** Runs calls on one session one at a time, in arrival order, whatever the previous one did. */
  function serialize<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    if (closed)
      return Promise.reject(sessionError('SESSION_STORE_UNAVAILABLE', 'The session manager is closed.'));
    const run = (chains.get(sessionId) ?? Promise.resolve()).then(task, task);
    const tail = run.catch(() => {});
    chains.set(sessionId, tail);
    void tail.then(() => {
      if (chains.get(sessionId) === tail) chains.delete(sessionId);
    });
    return run;
  }

  function notify(sessionId: string, notice: SessionNotice): void {
    for (const listener of [...(listeners.get(sessionId) ?? [])]) {
      try {
        listener(notice);
      } catch (err) {
        onError(err);
      }
    }
  }

  const stamp = () => ({ atMs: clock.now(), node: nodeId });

  /** Starts tracking a live copy: its decisions and failures are logged as they happen. */
  function track(sessionId: string, actor: LiveSession['actor'], version: number): LiveSession {
    const live = new LiveSession(sessionId, actor, version, store, (dropped, err) => {
      evict(dropped);
      if (worthReporting(err)) onError(err);
    });
    live.takeWire = () => {
      const records = wire.get(sessionId);
      if (records === undefined) return undefined;
      wire.delete(sessionId);
      return records;
    };
    actor.on('session.decision', ({ nowMs, pool, answered }) => {
      const entry: DecisionEntry = {
        type: 'engine.pool',
        ...stamp(),
        nowMs,
        pool: toLoggedPool(pool, engine.catalog),
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
          void serialize(sessionId, () => finish(live)).catch(onError);
        }
      },
      error: onError,
    });
    lives.set(sessionId, live);
    actor.start();
    return live;
  }

  function evict(live: LiveSession): void {
    if (lives.get(live.sessionId) === live) lives.delete(live.sessionId);
    live.ending = true;
    live.actor.stop();
    live.abandon(
      live.failure ?? sessionError('SESSION_STORE_CONFLICT', 'The session moved on while this call waited.'),
    );
  }

  async function finish(live: LiveSession): Promise<void> {
    const { sessionId } = live;
    if (lives.get(sessionId) !== live) return;
    const reason = live.context.endReason ?? 'ended';
    live.abandon(endedError(sessionId, reason));
    try {
      await live.snapshot();
    } catch (err) {
      // Someone else wrote the session meanwhile: their copy decides how it ends.
      if (isOmakaseError(err, 'SESSION_STORE_CONFLICT')) return;
      throw err;
    } finally {
      evict(live);
    }
    wire.delete(sessionId);
    // A listener-ended session was answered by its `end` call; the notice is for ends nobody asked for.
    if (reason !== 'ended') notify(sessionId, { type: 'ended', reason });
    listeners.delete(sessionId);
  }

  /** The live copy, restored from the store when this node does not hold it (or, if `fresh`, holds an old one). */
  async function acquire(sessionId: string, fresh = false): Promise<LiveSession> {
    let live = lives.get(sessionId);
    // This copy's own writes first, so its version compares with the store's (a failed one drops the copy).
    if (live && fresh) {
      await live.settled().catch(() => {});
      if (lives.get(sessionId) !== live) live = undefined;
    }
    const began = performance.now();
    const stored = live && !fresh ? undefined : await store.load(sessionId);
    let from: SessionRestore['from'] = 'not-held';
    if (live && stored && stored.version !== live.version) {
      evict(live);
      live = undefined;
      from = 'stale';
    }
    if (!live) {
      if (!stored) throw sessionError('SESSION_NOT_FOUND', `No session ${sessionId}: start a new session.`);
      const actor = restoreActor(machine, stored.snapshot, stored.tail, clock);
      if ('ended' in actor) throw endedError(sessionId, actor.endReason);
      const lastNode = stored.tail.at(-1)?.event.node;
      const report = (ok: boolean, err?: unknown) =>
        options.onRestored?.({
          sessionId,
          from,
          ...(typeof lastNode === 'string' ? { lastNode } : {}),
          tailEvents: stored.tail.length,
          ms: Number((performance.now() - began).toFixed(2)),
          ok,
          ...(ok ? {} : { code: isOmakaseError(err) ? err.code : 'INTERNAL' }),
        });
      live = track(sessionId, actor, stored.version);
      try {
        replayTail(actor, sessionId, stored.tail, engine.catalog);
      } catch (err) {
        evict(live);
        report(false, err);
        throw err;
      }
      live.sinceSnapshot = stored.tail.length;
      // Timers are not part of a snapshot: re-arm them, or end the session if they are already due. A session
      // rebuilt from a log tail is saved again, so the next restore starts from here.
      await call(live, { type: 'session.restored' }, { log: false, snapshot: stored.tail.length > 0 }).catch(
        (err: unknown) => {
          report(false, err);
          throw err;
        },
      );
      report(true);
    }
    if (!live.active) throw endedError(sessionId, live.context.endReason);
    return live;
  }

  /**
   * Sends one command, logs it, and waits for its reply and its log write: an answered command is durable.
   * A snapshot follows every `snapshotEvery` logged events (or when asked); it is not waited for, because
   * the log already holds the command: a failed snapshot drops this copy and the next call reloads it.
   */
  async function callNow(
    live: LiveSession,
    command: SessionCommand,
    how: { log?: boolean; snapshot?: boolean } = {},
  ): Promise<SessionReply> {
    // Dropped while this call waited its turn (a snapshot after the previous call failed): nothing is sent, and
    // the conflict makes the caller retry on a copy loaded from the store.
    if (lives.get(live.sessionId) !== live) {
      throw sessionError(
        'SESSION_STORE_CONFLICT',
        `Session ${live.sessionId}: this copy was dropped; nothing was changed.`,
      );
    }
    const reqId = ++nextReqId;
    const nowMs = clock.now();
    live.send(command, reqId, nowMs);
    // Logged right after the synchronous send, so it keeps its place among decisions and says how the command
    // was taken (a held `feed.more` is answered later, by the decision that follows it).
    if (how.log !== false)
      live.append(commandEntry(command, reqId, nowMs, live.peek(reqId), live)).catch(() => {});
    const reply = await live.reply(reqId);
    // Everything queued so far: the command and, for a held `more`, the decision that answered it.
    await live.settled();
    if (live.active && reply.ok && (how.snapshot || live.sinceSnapshot >= snapshotEvery)) {
      live.snapshot().catch(() => {});
    }
    return reply;
  }

  /** `callNow`, with the refreshes the command makes due held until its caller has the answer (`RefreshSlots`). */
  async function call(
    live: LiveSession,
    command: SessionCommand,
    how: { log?: boolean; snapshot?: boolean } = {},
  ): Promise<SessionReply> {
    const done = slots.hold(live.sessionId);
    try {
      return await callNow(live, command, how);
    } finally {
      done();
    }
  }

  function commandEntry(
    command: SessionCommand,
    reqId: number,
    nowMs: number,
    reply: SessionReply | undefined,
    live: LiveSession,
  ): CommandEntry {
    const outcome = !reply
      ? {}
      : !reply.ok
        ? { ok: false, code: reply.code }
        : {
            ok: true,
            ...(reply.repeat ? { repeat: true as const } : {}),
            ...(reply.withdrawn ? { withdrawn: reply.withdrawn } : {}),
            ...(reply.ids ? { ids: reply.ids, p: reply.p, ...removedBy(live, reply.seqs) } : {}),
          };
    return Object.assign({}, command, { reqId, nowMs }, outcome, stamp()) as CommandEntry;
  }

  /** A command from `connectionId`: ownership checked, retried once on a store conflict with a fresh copy. */
  function run(sessionId: string, connectionId: string, command: SessionCommand) {
    return serialize(sessionId, async () => {
      for (let attempt = 0; ; attempt++) {
        const live = await acquire(sessionId, attempt > 0);
        if (live.context.owner !== connectionId) {
          throw sessionError(
            'SESSION_TAKEN_OVER',
            `Session ${sessionId} was resumed by another connection; this one no longer owns it.`,
          );
        }
        try {
          const reply = await call(live, command);
          if (!reply.ok) throw sessionError(reply.code, reply.message, { details: { sessionId } });
          return { reply, live };
        } catch (err) {
          if (attempt > 0 || !isOmakaseError(err, 'SESSION_STORE_CONFLICT')) throw err;
        }
      }
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
      return serialize(sessionId, async () => {
        const live = track(sessionId, createActor(machine, { input, clock }), 0);
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
        const reply = await call(live, command, { log: false, snapshot: true }).catch((err: unknown) => {
          evict(live);
          throw err;
        });
        if (!reply.ok) {
          evict(live);
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
      return serialize(sessionId, async (): Promise<SessionOpened> => {
        for (let attempt = 0; ; attempt++) {
          // Fresh: another node may have rotated the token or moved the session on since this copy was made.
          const live = await acquire(sessionId, true);
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
          let reply: SessionReply;
          try {
            reply = await call(live, {
              type: 'client.resumed',
              connectionId,
              tokenHash: hashToken(resumeToken),
              lastSeq: request.lastSeq,
            });
          } catch (err) {
            if (attempt === 0 && isOmakaseError(err, 'SESSION_STORE_CONFLICT')) continue;
            throw err;
          }
          if (!reply.ok) throw sessionError(reply.code, reply.message, { details: { sessionId } });
          if (before.owner !== connectionId) {
            notify(sessionId, { type: 'taken-over' });
            listeners.delete(sessionId);
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
        }
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
      void serialize(sessionId, async () => {
        for (let attempt = 0; ; attempt++) {
          const live = await acquire(sessionId, attempt > 0);
          // A connection that lost the session to a takeover must not start the new owner's grace window.
          if (live.context.owner !== connectionId) return;
          try {
            const reply = await call(live, { type: 'client.disconnected' });
            if (!reply.ok && reply.code !== 'SESSION_INVALID_EVENT')
              throw sessionError(reply.code, reply.message);
            return;
          } catch (err) {
            // The copy was dropped under it (see `call`): once more, on a copy loaded from the store.
            if (attempt > 0 || !isOmakaseError(err, 'SESSION_STORE_CONFLICT')) throw err;
          }
        }
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
      const pending = wire.get(sessionId);
      if (pending === undefined) {
        wire.set(sessionId, [...records]);
        return;
      }
      // A connection whose session writes nothing for a long while must not grow this without end.
      if (pending.length < MAX_PENDING_WIRE) pending.push(...records);
    },

    subscribe(sessionId, listener) {
      let set = listeners.get(sessionId);
      if (!set) {
        set = new Set();
        listeners.set(sessionId, set);
      }
      set.add(listener);
      return () => {
        listeners.get(sessionId)?.delete(listener);
      };
    },

    async close() {
      // Sessions stay in the store for another node (or this one, restarted) to pick up.
      await Promise.allSettled([...chains.values()]);
      closed = true;
      for (const live of [...lives.values()]) {
        evict(live);
        await live.settled().catch(() => {});
      }
      listeners.clear();
      wire.clear();
    },
  };
}
