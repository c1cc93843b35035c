import type { Actor } from 'xstate';
import { isOmakaseError } from '../models/omakaseError.ts';
import { sessionError } from './errors.ts';
import type { EndReason, SessionCommand, SessionEvent, SessionReply } from './sessionContext.ts';
import type { SessionMachine } from './sessionMachine.ts';
import type { SessionLogEvent, SessionStore } from './sessionStore.ts';

type SessionActor = Actor<SessionMachine>;

export function endedError(sessionId: string, reason: EndReason | null) {
  return reason === 'ended'
    ? sessionError('SESSION_ENDED', `Session ${sessionId} has ended; start a new session.`)
    : sessionError(
        'SESSION_EXPIRED',
        `Session ${sessionId} ended (${reason ?? 'expired'}); start a new session.`,
      );
}

/**
 * One node's live copy of a session: its actor, the store version its last write left, its writes (log
 * appends and snapshots) in order, and the replies its commands wait for. The first write that fails drops
 * the copy (`onDrop`): it is stale (another node wrote) or holds what the store lacks, and the next call
 * loads the session from the store again.
 */
export class LiveSession {
  /** The store version after this copy's last write (or at its load). */
  version: number;
  /** The first write that failed. */
  failure: unknown;
  /** Set once the copy is dropped or its session ended: later replies fail with this. */
  private abandoned: { err: unknown } | undefined;
  /** Events logged since the last snapshot. */
  sinceSnapshot = 0;
  /** A periodic snapshot is queued to run after the current answer (`SessionCaller`). */
  snapshotDue = false;
  ending = false;
  /** The adapter's traffic not yet written: it goes out with the next appended event. */
  takeWire: () => readonly unknown[] | undefined = () => undefined;
  private writes: Promise<void> = Promise.resolve();
  private readonly answered = new Map<number, SessionReply>();
  private readonly waiting = new Map<number, { resolve(r: SessionReply): void; reject(e: unknown): void }>();

  constructor(
    readonly sessionId: string,
    readonly actor: SessionActor,
    version: number,
    private readonly store: SessionStore,
    private readonly onDrop: (live: LiveSession, err: unknown) => void,
  ) {
    this.version = version;
    actor.on('session.reply', ({ reply }) => {
      const waiter = this.waiting.get(reply.reqId);
      if (waiter) {
        this.waiting.delete(reply.reqId);
        waiter.resolve(reply);
      } else if (reply.reqId > 0) this.answered.set(reply.reqId, reply);
    });
  }

  get context() {
    return this.actor.getSnapshot().context;
  }

  get active(): boolean {
    return this.actor.getSnapshot().status === 'active';
  }

  /** Sends a stamped command; the reply is taken with `reply(reqId)` (at once, or when it comes). */
  send(command: SessionCommand, reqId: number, nowMs: number): void {
    this.actor.send({ reqId, nowMs, ...command } as SessionEvent);
  }

  /** The reply already given to `reqId`, if any (it stays available to `reply`). */
  peek(reqId: number): SessionReply | undefined {
    return this.answered.get(reqId);
  }

  /** The reply to `reqId`: the session ending or the copy being dropped first rejects it. */
  reply(reqId: number): Promise<SessionReply> {
    const now = this.answered.get(reqId);
    if (now) {
      this.answered.delete(reqId);
      return Promise.resolve(now);
    }
    // A dropped copy answers nothing more: waiting would never end.
    if (this.abandoned) return Promise.reject(this.abandoned.err);
    return new Promise((resolve, reject) => this.waiting.set(reqId, { resolve, reject }));
  }

  /** Fails every call still waiting: the session ended, or the copy was dropped. */
  abandon(err: unknown): void {
    this.abandoned = { err };
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
    this.answered.clear();
  }

  /** Appends one log event after this copy's earlier writes; resolves once it is durable. */
  append(event: object & { type: string; atMs: number }): Promise<void> {
    this.sinceSnapshot++;
    const wire = this.takeWire();
    if (wire) (event as { wire?: readonly unknown[] }).wire = wire;
    return this.write(
      async (version) => (await this.store.append(this.sessionId, event as SessionLogEvent, version)).version,
    );
  }

  /** Saves the state as it is now: it covers every event logged before it. */
  snapshot(): Promise<void> {
    const persisted = this.actor.getPersistedSnapshot();
    this.sinceSnapshot = 0;
    return this.write((version) => this.store.save(this.sessionId, persisted, version));
  }

  /** Resolves when every write queued so far is done; rejects with the first failure. */
  async settled(): Promise<void> {
    await this.writes;
    if (this.failure !== undefined) throw this.failure;
  }

  private write(step: (version: number) => Promise<number>): Promise<void> {
    const done = this.writes.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        this.version = await step(this.version);
      } catch (err) {
        this.failure = err;
        this.onDrop(this, err);
        throw err;
      }
    });
    this.writes = done.catch(() => {});
    return done;
  }
}

/** A write that failed for a reason other than another node's newer copy (a takeover). */
export function worthReporting(err: unknown): boolean {
  return !isOmakaseError(err, 'SESSION_STORE_CONFLICT');
}
