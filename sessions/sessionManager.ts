import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { type Actor, createActor } from 'xstate';
import type { Engine } from '../engine/engine.ts';
import { isOmakaseError } from '../models/omakaseError.ts';
import { type SessionErrorCode, sessionError } from './errors.ts';
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
import type { SessionLogEvent, SessionStore } from './sessionStore.ts';

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
  /** Picks kept ready ahead of `more` (default 20). */
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
  /** The store version this actor's state was last saved (or loaded) at. */
  version: number;
  /** Appends to the event log, in order; commands wait for it before they resolve. */
  log: Promise<void>;
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

  function appendLog(sessionId: string, live: Live, event: { type: string; [key: string]: unknown }): void {
    const entry: SessionLogEvent = { ...event, atMs: clock.now(), node: nodeId };
    live.log = live.log
      .then(() => store.appendEvent(sessionId, entry).then(() => {}), onError)
      .catch(onError);
  }

  function track(sessionId: string, actor: SessionActor, version: number): Live {
    const live: Live = { actor, version, log: Promise.resolve(), ending: false };
    actor.on('session.decision', (decision) =>
      appendLog(sessionId, live, { ...decision, type: 'engine.decision' }),
    );
    actor.on('session.refillFailed', (failure) =>
      appendLog(sessionId, live, { ...failure, type: 'engine.failed' }),
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
    try {
      await persist(sessionId, live);
    } catch (err) {
      // Someone else wrote the session meanwhile: their copy decides how it ends.
      if (isOmakaseError(err, 'SESSION_STORE_CONFLICT')) return;
      throw err;
    } finally {
      evict(sessionId, live);
      await live.log;
    }
    const reason = live.actor.getSnapshot().context.endReason ?? 'ended';
    // A listener-ended session was answered by its `end` call; the notice is for ends nobody asked for.
    if (reason !== 'ended') notify(sessionId, { type: 'ended', reason });
    listeners.delete(sessionId);
  }

  async function persist(sessionId: string, live: Live): Promise<void> {
    try {
      live.version = await store.save(sessionId, live.actor.getPersistedSnapshot(), live.version);
    } catch (err) {
      if (isOmakaseError(err, 'SESSION_STORE_CONFLICT')) evict(sessionId, live);
      throw err;
    }
  }

  /** The live actor, restored from the store when this node does not hold it (or, if `fresh`, holds an old copy). */
  async function acquire(sessionId: string, fresh = false): Promise<Live> {
    let live = lives.get(sessionId);
    const stored = live && !fresh ? undefined : await store.load(sessionId);
    if (live && stored && stored.version !== live.version) {
      evict(sessionId, live);
      live = undefined;
    }
    if (!live) {
      if (!stored) throw sessionError('SESSION_NOT_FOUND', `No session ${sessionId}: start a new session.`);
      const snapshot = stored.snapshot as { status?: string; context?: SessionContext };
      if (snapshot.status === 'done') throw endedError(sessionId, snapshot.context?.endReason ?? null);
      const actor = createActor(machine, {
        snapshot: stored.snapshot as never,
        clock,
        input: undefined as never,
      });
      live = track(sessionId, actor, stored.version);
      // Timers are not part of a snapshot: re-arm them, or end the session if they are already due.
      await dispatch(sessionId, live, { type: 'session.restored' }, { log: false, saveOnlyIfEnded: true });
    }
    const snapshot = live.actor.getSnapshot();
    if (snapshot.status !== 'active') throw endedError(sessionId, snapshot.context.endReason);
    return live;
  }

  /** Sends one command, waits for its reply, saves, and flushes the log. */
  async function dispatch(
    sessionId: string,
    live: Live,
    command: Command,
    how: { log?: boolean; saveOnlyIfEnded?: boolean } = {},
  ): Promise<SessionReply> {
    const reqId = ++nextReqId;
    const nowMs = clock.now();
    const before = how.log === false ? null : live.actor.getSnapshot().context;
    live.actor.send({ ...command, reqId, nowMs } as SessionEvent);
    // Logged right after the synchronous send, so it keeps its place among decisions and can say how the
    // command was taken (a held `feed.more` is answered later); replay feeds the engine from these fields.
    if (before) appendLog(sessionId, live, { ...command, reqId, nowMs, ...outcome(before, live, reqId) });
    const reply = await replyTo(live.actor, reqId);
    const ended = live.actor.getSnapshot().status !== 'active';
    // Refusals leave the session as it was (but for the reply), so there is nothing to save.
    const changed = how.saveOnlyIfEnded ? ended : reply.ok || ended || reply.code === 'SESSION_ENGINE_FAILED';
    if (changed) await persist(sessionId, live);
    await live.log;
    return reply;
  }

  /** What the log keeps of a command's immediate answer: ok or the code, and the positions the engine withdrew. */
  function outcome(before: SessionContext, live: Live, reqId: number) {
    const after = live.actor.getSnapshot().context;
    const reply = after.reply?.reqId === reqId ? after.reply : undefined;
    if (!reply) return {};
    if (!reply.ok) return { ok: false, code: reply.code };
    const kept = new Set(after.engine?.history.map((h) => h.pos));
    const withdrawn = (before.engine?.history ?? []).map((h) => h.pos).filter((pos) => !kept.has(pos));
    return withdrawn.length > 0 ? { ok: true, withdrawn } : { ok: true };
  }

  function replyTo(actor: SessionActor, reqId: number): Promise<SessionReply> {
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
        const reply = await dispatch(sessionId, live, command, { log: false }).catch((err: unknown) => {
          evict(sessionId, live);
          throw err;
        });
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
