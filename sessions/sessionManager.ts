import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { type Actor, createActor } from 'xstate';
import type { Engine } from '../engine/engine.ts';
import { isOmakaseError } from '../models/omakaseError.ts';
import { type SessionErrorCode, sessionError } from './errors.ts';
import { LOGGED_COMMANDS } from './replayLog.ts';
import { type StoredContext, upgradeContext } from './sessionContext.ts';
import {
  createSessionMachine,
  type EndReason,
  type SessionContext,
  type SessionEvent,
  type SessionMachine,
  type SessionReply,
  type SessionSettings,
} from './sessionMachine.ts';
import type { DeliveredItem, SessionNotice, SessionOpened, SessionService } from './sessionService.ts';
import type { LoggedEvent, SessionLogEvent, SessionStore } from './sessionStore.ts';

/** Time for the manager and its actors: a reading and timers (xstate's `SimulatedClock` fits). */
export interface SessionClock {
  now(): number;
  // biome-ignore lint/suspicious/noExplicitAny: timer handles differ between Node, browsers and SimulatedClock.
  setTimeout(fn: (...args: any[]) => void, timeout: number): any;
  // biome-ignore lint/suspicious/noExplicitAny: see setTimeout.
  clearTimeout(id: any): void;
}

export interface SessionManagerOptions {
  engine: Engine;
  store: SessionStore;
  clock?: SessionClock;
  /** At most this many picks kept ready ahead of `more` (default 20): about two requests' worth, at least 4. */
  lookahead?: number;
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
  /** Failures nobody awaits (log appends, saves after timeouts); default: `console.warn`. */
  onError?: (err: unknown) => void;
}

type SessionActor = Actor<SessionMachine>;
/** A machine command before the manager stamps it with a reqId and the time. */
type Command = SessionEvent extends infer E
  ? E extends { reqId: number }
    ? Omit<E, 'reqId' | 'nowMs'>
    : never
  : never;

interface Live {
  actor: SessionActor;
  /** The store version after this copy's last write (or at its load). */
  version: number;
  /** This copy's writes (log appends, snapshots), in order; commands wait for it before they resolve. */
  log: Promise<void>;
  /** The first write that failed: the copy is stale or holds changes the store lacks, so it was dropped. */
  failure?: unknown;
  /** Events logged since the last snapshot. */
  sinceSnapshot: number;
  ending: boolean;
}

const DEFAULT_CLOCK: SessionClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    // Session timers must not keep a process alive that has nothing else to do.
    timer.unref();
    return timer;
  },
  clearTimeout: (timer) => clearTimeout(timer),
};

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

function tokenMatches(token: string, hash: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

function endedError(sessionId: string, reason: EndReason | null) {
  return reason === 'ended'
    ? sessionError('SESSION_ENDED', `Session ${sessionId} has ended; start a new session.`)
    : sessionError(
        'SESSION_EXPIRED',
        `Session ${sessionId} ended (${reason ?? 'expired'}); start a new session.`,
      );
}

/**
 * The session layer's `SessionService`: owns the live session actors of this node, saves every change to
 * the store (compare-and-swap) before a call resolves, and restores sessions another node left behind.
 *
 * @example
 * const service = createSessionManager({ engine, store: createMemoryStore() });
 * const { sessionId } = await service.start({ connectionId: 'c1' });
 * const items = await service.more(sessionId, 'c1', 5);
 */
export function createSessionManager(options: SessionManagerOptions): SessionService {
  const { engine, store } = options;
  const clock = options.clock ?? DEFAULT_CLOCK;
  const maxMore = options.maxMore ?? 50;
  const settings: SessionSettings = {
    lookahead: options.lookahead ?? 20,
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
  const machine = createSessionMachine({ engine, now: () => clock.now() });
  const lives = new Map<string, Live>();
  const chains = new Map<string, Promise<unknown>>();
  const listeners = new Map<string, Set<(notice: SessionNotice) => void>>();
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

  /** Queues a write after this copy's earlier ones; the first failure drops the copy and stops the rest. */
  function write(sessionId: string, live: Live, step: (version: number) => Promise<number>): void {
    live.log = live.log.then(async () => {
      if (live.failure !== undefined) return;
      try {
        live.version = await step(live.version);
      } catch (err) {
        live.failure = err;
        evict(sessionId, live);
        // A conflict is another node's newer copy (a takeover); anything else the operator should see.
        if (!isOmakaseError(err, 'SESSION_STORE_CONFLICT')) onError(err);
      }
    });
  }

  /**
   * Logs an event made of `parts`, stamped with the time and this node (compare-and-swap on the version):
   * once written, it is durable. One `Object.assign` copy: on Node 20, adding keys to a spread copy costs
   * microseconds.
   */
  function appendLog(sessionId: string, live: Live, ...parts: object[]): void {
    const entry = Object.assign({}, ...parts, { atMs: clock.now(), node: nodeId }) as SessionLogEvent;
    live.sinceSnapshot++;
    write(sessionId, live, async (version) => (await store.append(sessionId, entry, version)).version);
  }

  /** Saves the state as it is now; it covers every event logged before it. */
  function snapshot(sessionId: string, live: Live): void {
    const persisted = live.actor.getPersistedSnapshot();
    live.sinceSnapshot = 0;
    write(sessionId, live, (version) => store.save(sessionId, persisted, version));
  }

  /** Waits for this copy's writes; throws the first that failed. */
  async function flush(live: Live): Promise<void> {
    await live.log;
    if (live.failure !== undefined) throw live.failure;
  }

  function track(sessionId: string, actor: SessionActor, version: number): Live {
    const live: Live = { actor, version, log: Promise.resolve(), sinceSnapshot: 0, ending: false };
    actor.on('session.decision', (decision) =>
      appendLog(sessionId, live, decision, { type: 'engine.decision' }),
    );
    actor.on('session.refillFailed', (failure) =>
      appendLog(sessionId, live, failure, { type: 'engine.failed' }),
    );
    actor.subscribe({
      next: (snapshot) => {
        // Timeouts end sessions between calls: save and announce that in the session's turn.
        if (snapshot.status === 'done' && !live.ending) {
          live.ending = true;
          void serialize(sessionId, () => finish(sessionId, live)).catch(onError);
        }
      },
      error: onError,
    });
    lives.set(sessionId, live);
    actor.start();
    return live;
  }

  function evict(sessionId: string, live: Live): void {
    if (lives.get(sessionId) === live) lives.delete(sessionId);
    live.ending = true;
    live.actor.stop();
  }

  async function finish(sessionId: string, live: Live): Promise<void> {
    if (lives.get(sessionId) !== live) return;
    snapshot(sessionId, live);
    try {
      await flush(live);
    } catch (err) {
      // Someone else wrote the session meanwhile: their copy decides how it ends.
      if (isOmakaseError(err, 'SESSION_STORE_CONFLICT')) return;
      throw err;
    } finally {
      evict(sessionId, live);
    }
    const reason = live.actor.getSnapshot().context.endReason ?? 'ended';
    // A listener-ended session was answered by its `end` call; the notice is for ends nobody asked for.
    if (reason !== 'ended') notify(sessionId, { type: 'ended', reason });
    listeners.delete(sessionId);
  }

  /** The live actor, restored from the store when this node does not hold it (or, if `fresh`, holds an old copy). */
  async function acquire(sessionId: string, fresh = false): Promise<Live> {
    let live = lives.get(sessionId);
    // This copy's own writes first, so its version compares with the store's (a failed one drops the copy).
    if (live && fresh) {
      await live.log;
      if (lives.get(sessionId) !== live) live = undefined;
    }
    const stored = live && !fresh ? undefined : await store.load(sessionId);
    if (live && stored && stored.version !== live.version) {
      evict(sessionId, live);
      live = undefined;
    }
    if (!live) {
      if (!stored) throw sessionError('SESSION_NOT_FOUND', `No session ${sessionId}: start a new session.`);
      live = restore(sessionId, stored.snapshot, stored.version, stored.tail);
      // Timers are not part of a snapshot: re-arm them, or end the session if they are already due. A session
      // rebuilt from a log tail is saved again, so the next restore starts from here.
      await dispatch(
        sessionId,
        live,
        { type: 'session.restored' },
        { log: false, snapshot: stored.tail.length > 0 },
      );
    }
    const snapshot = live.actor.getSnapshot();
    if (snapshot.status !== 'active') throw endedError(sessionId, snapshot.context.endReason);
    return live;
  }

  /**
   * A live copy from a stored snapshot and the events logged after it: the commands and decisions are
   * taken again in log order (decisions as logged, without the engine), with refills held until the end.
   */
  function restore(sessionId: string, stored: unknown, version: number, tail: LoggedEvent[]): Live {
    const persisted = stored as { status?: string; context: StoredContext };
    if (persisted.status === 'done') throw endedError(sessionId, persisted.context?.endReason ?? null);
    const context = upgradeContext(persisted.context);
    const replaying = tail.length > 0;
    const actor = createActor(machine, {
      snapshot: {
        ...persisted,
        context: replaying ? { ...context, replaying: true } : context,
      } as never,
      clock,
      input: undefined as never,
    });
    const live = track(sessionId, actor, version);
    try {
      let replayed = 0;
      for (const { id, event } of tail) {
        const logged = event as SessionLogEvent & Record<string, unknown>;
        if (logged.type === 'engine.decision') {
          const at = actor.getSnapshot().context.engine?.decisions;
          if (at !== logged.decision) {
            throw new Error(
              `Session ${sessionId}: log event ${id} is decision ${logged.decision}, but the snapshot is at ${at}.`,
            );
          }
          actor.send({
            type: 'log.decision',
            decision: logged.decision as number,
            requested: logged.requested as number,
            picks: logged.picks as never,
          });
        } else if (logged.type === 'engine.failed') {
          actor.send({ type: 'log.refillFailed' });
        } else if (LOGGED_COMMANDS.has(logged.type) && logged.ok !== false) {
          const { atMs: _at, node: _node, ok: _ok, withdrawn: _w, ...command } = logged;
          // Negative ids: never one a live command of this node will wait for.
          actor.send({ ...command, reqId: -++replayed } as unknown as SessionEvent);
        }
      }
    } catch (err) {
      evict(sessionId, live);
      throw err;
    }
    live.sinceSnapshot = tail.length;
    return live;
  }

  /**
   * Sends one command, logs it, waits for its reply and for the log write: an answered command is durable.
   * A snapshot follows every `snapshotEvery` logged events (or when asked).
   */
  async function dispatch(
    sessionId: string,
    live: Live,
    command: Command,
    how: { log?: boolean; snapshot?: boolean } = {},
  ): Promise<SessionReply> {
    const reqId = ++nextReqId;
    const nowMs = clock.now();
    live.actor.send({ reqId, nowMs, ...command } as SessionEvent);
    // Logged right after the synchronous send, so it keeps its place among decisions and can say how the
    // command was taken (a held `feed.more` is answered later); a restore takes it again from these fields.
    if (how.log !== false) appendLog(sessionId, live, command, { reqId, nowMs }, outcome(live, reqId));
    const reply = await replyTo(live, reqId);
    // An ended session is saved by `finish`, in its own turn.
    const ended = live.actor.getSnapshot().status !== 'active';
    if (!ended && reply.ok && (how.snapshot || live.sinceSnapshot >= snapshotEvery)) {
      snapshot(sessionId, live);
    }
    await flush(live);
    return reply;
  }

  /** What the log keeps of a command's immediate answer: ok or the code, and the positions the engine withdrew. */
  function outcome(live: Live, reqId: number) {
    const { reply } = live.actor.getSnapshot().context;
    if (reply?.reqId !== reqId) return {};
    if (!reply.ok) return { ok: false, code: reply.code };
    return reply.withdrawn ? { ok: true, withdrawn: reply.withdrawn } : { ok: true };
  }

  function replyTo(live: Live, reqId: number): Promise<SessionReply> {
    const { actor } = live;
    const answered = (context: SessionContext) =>
      context.reply?.reqId === reqId ? context.reply : undefined;
    const now = answered(actor.getSnapshot().context);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const sub = actor.subscribe({
        next: (snapshot) => {
          const reply = answered(snapshot.context);
          if (reply || snapshot.status !== 'active') {
            sub.unsubscribe();
            if (reply) resolve(reply);
            else reject(endedError(snapshot.context.sessionId, snapshot.context.endReason));
          }
        },
        error: reject,
        // Dropped while waiting (a failed write: the copy is stale): the caller retries on a fresh one.
        complete: () =>
          reject(
            live.failure ??
              sessionError('SESSION_STORE_CONFLICT', 'The session moved on while this call waited.'),
          ),
      });
    });
  }

  /**
   * Resolves once the refill running now (if any) is done. Feedback and steering wait for it: sent during
   * a refill, they would make its picks stale and the engine would pick again from scratch; sent after,
   * they apply to those picks like to any queued ones (withdrawing what no longer fits).
   */
  function refillDone(actor: SessionActor): Promise<void> {
    const refilling = (snapshot: ReturnType<SessionActor['getSnapshot']>) =>
      snapshot.status === 'active' && snapshot.matches({ active: { feed: 'refilling' } });
    const start = actor.getSnapshot();
    if (!refilling(start)) return Promise.resolve();
    const decisions = start.context.engine?.decisions;
    return new Promise((resolve) => {
      const sub = actor.subscribe({
        next: (snapshot) => {
          if (!refilling(snapshot) || snapshot.context.engine?.decisions !== decisions) {
            sub.unsubscribe();
            resolve();
          }
        },
        error: () => resolve(),
        complete: () => resolve(),
      });
    });
  }

  /** A command from `connectionId`: ownership checked, retried once on a store conflict with a fresh copy. */
  function run(sessionId: string, connectionId: string, command: Command) {
    return serialize(sessionId, async () => {
      for (let attempt = 0; ; attempt++) {
        const live = await acquire(sessionId);
        if (live.actor.getSnapshot().context.owner !== connectionId) {
          throw sessionError(
            'SESSION_TAKEN_OVER',
            `Session ${sessionId} was resumed by another connection; this one no longer owns it.`,
          );
        }
        try {
          if (command.type === 'user.feedback' || command.type === 'user.steer') {
            await refillDone(live.actor);
          }
          const reply = await dispatch(sessionId, live, command);
          if (!reply.ok) throw sessionError(reply.code, reply.message, { details: { sessionId } });
          return { reply, context: live.actor.getSnapshot().context };
        } catch (err) {
          if (attempt > 0 || !isOmakaseError(err, 'SESSION_STORE_CONFLICT')) throw err;
        }
      }
    });
  }

  const items = (context: SessionContext, seqs: number[]): DeliveredItem[] =>
    seqs.map((seq) => context.delivered.find((d) => d.seq === seq)!);

  return {
    async start(request) {
      const sessionId = randomUUID();
      const resumeToken = randomToken();
      const seed = request.seed ?? randomSeed();
      const input = {
        sessionId,
        owner: request.connectionId,
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
        appendLog(sessionId, live, {
          ...command,
          connectionId: request.connectionId,
          model: engine.modelId,
          ...(options.provenance ? { provenance: options.provenance } : {}),
        });
        const reply = await dispatch(sessionId, live, command, { log: false, snapshot: true }).catch(
          (err: unknown) => {
            evict(sessionId, live);
            throw err;
          },
        );
        if (!reply.ok) {
          evict(sessionId, live);
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
          const before = live.actor.getSnapshot().context;
          if (!tokenMatches(request.resumeToken, before.tokenHash)) {
            throw sessionError(
              'SESSION_BAD_RESUME_TOKEN',
              `The resume token for session ${sessionId} is wrong or was rotated: start a new session.`,
            );
          }
          const resumeToken = randomToken();
          const command = {
            type: 'client.resumed',
            connectionId,
            tokenHash: hashToken(resumeToken),
          } as const;
          let reply: SessionReply;
          try {
            reply = await dispatch(sessionId, live, { ...command, lastSeq: request.lastSeq });
          } catch (err) {
            if (attempt === 0 && isOmakaseError(err, 'SESSION_STORE_CONFLICT')) continue;
            throw err;
          }
          if (!reply.ok) throw sessionError(reply.code, reply.message, { details: { sessionId } });
          if (before.owner !== connectionId) {
            notify(sessionId, { type: 'taken-over' });
            listeners.delete(sessionId);
          }
          const after = live.actor.getSnapshot().context;
          return {
            sessionId,
            resumeToken,
            status: after.paused ? 'paused' : 'streaming',
            lastSeq: after.lastSeq,
            missed: items(after, reply.seqs),
            graceMs: after.settings.graceMs,
          };
        }
      });
    },

    async more(sessionId, connectionId, n) {
      if (!Number.isInteger(n) || n < 1 || n > maxMore) {
        throw sessionError('SESSION_INVALID_REQUEST', `Ask for 1 to ${maxMore} items at a time (got ${n}).`);
      }
      const { reply, context } = await run(sessionId, connectionId, { type: 'feed.more', n });
      return reply.ok ? items(context, reply.seqs) : [];
    },

    async feedback(sessionId, connectionId, feedback) {
      const { reply } = await run(sessionId, connectionId, { type: 'user.feedback', feedback });
      return { invalidated: reply.ok ? reply.invalidated : [] };
    },

    async steer(sessionId, connectionId, steer) {
      const { reply } = await run(sessionId, connectionId, { type: 'user.steer', steer });
      return { invalidated: reply.ok ? reply.invalidated : [] };
    },

    async pause(sessionId, connectionId) {
      await run(sessionId, connectionId, { type: 'user.pause' });
    },

    async play(sessionId, connectionId) {
      await run(sessionId, connectionId, { type: 'user.play' });
    },

    async end(sessionId, connectionId) {
      await run(sessionId, connectionId, { type: 'user.end' });
    },

    disconnected(sessionId, connectionId) {
      void serialize(sessionId, async () => {
        const live = await acquire(sessionId);
        // A connection that lost the session to a takeover must not start the new owner's grace window.
        if (live.actor.getSnapshot().context.owner !== connectionId) return;
        const reply = await dispatch(sessionId, live, { type: 'client.disconnected' });
        if (!reply.ok && reply.code !== ('SESSION_INVALID_EVENT' satisfies SessionErrorCode)) {
          throw sessionError(reply.code, reply.message);
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
      for (const [sessionId, live] of [...lives]) {
        evict(sessionId, live);
        await live.log;
      }
      listeners.clear();
    },
  };
}
