import { sessionError } from './errors.ts';
import type { LiveSession } from './liveSession.ts';
import type { RefreshSlots } from './refreshSlots.ts';
import type { SessionClock } from './sessionClock.ts';
import type { SessionCommand, SessionReply } from './sessionContext.ts';
import type { CommandEntry } from './sessionLog.ts';

/** How a call is logged: `log: false` for commands logged otherwise; `snapshot` saves one after it. */
export interface CallHow {
  log?: boolean;
  snapshot?: boolean;
}

export interface SessionCallerDeps {
  clock: SessionClock;
  /** A snapshot is saved after this many logged events. */
  snapshotEvery: number;
  slots: RefreshSlots;
  /** The writer's clock reading and node, for each log entry. */
  stamp: () => { atMs: number; node: string };
  /** Whether `live` is still this node's copy of its session. */
  holds: (live: LiveSession) => boolean;
}

/** Calls a live copy's actor: sends a command, logs it, and awaits its answer and its log write. */
export class SessionCaller {
  private nextReqId = 0;

  constructor(private readonly deps: SessionCallerDeps) {}

  /** `callNow`, with the refreshes the command makes due held until its caller has the answer (`RefreshSlots`). */
  async call(live: LiveSession, command: SessionCommand, how: CallHow = {}): Promise<SessionReply> {
    const done = this.deps.slots.hold(live.sessionId);
    try {
      return await this.callNow(live, command, how);
    } finally {
      done();
    }
  }

  /**
   * Sends one command, logs it, and waits for its reply and its log write: an answered command is durable.
   * A snapshot follows every `snapshotEvery` logged events, after the answer (or at once when asked); it is
   * not waited for, because the log already holds the command: a failed snapshot drops this copy and the next
   * call reloads it.
   */
  private async callNow(live: LiveSession, command: SessionCommand, how: CallHow): Promise<SessionReply> {
    // Dropped while this call waited its turn (a snapshot after the previous call failed): nothing is sent, and
    // the conflict makes the caller retry on a copy loaded from the store.
    if (!this.deps.holds(live)) {
      throw sessionError(
        'SESSION_STORE_CONFLICT',
        `Session ${live.sessionId}: this copy was dropped; nothing was changed.`,
      );
    }
    const reqId = ++this.nextReqId;
    const nowMs = this.deps.clock.now();
    live.send(command, reqId, nowMs);
    // Logged right after the synchronous send, so it keeps its place among decisions and says how the command
    // was taken (a held `feed.more` is answered later, by the decision that follows it).
    if (how.log !== false)
      live.append(this.commandEntry(command, reqId, nowMs, live.peek(reqId), live)).catch(() => {});
    const reply = await live.reply(reqId);
    // Everything queued so far: the command and, for a held `more`, the decision that answered it.
    await live.settled();
    if (live.active && reply.ok) {
      if (how.snapshot) live.snapshot().catch(() => {});
      else if (live.sinceSnapshot >= this.deps.snapshotEvery) this.snapshotSoon(live);
    }
    return reply;
  }

  /**
   * A periodic snapshot, taken once the caller has its answer: reading the state out and serialising it
   * (about 0.6 ms for a radio session's 85 KB, up to a few ms) would otherwise delay the answer that
   * crossed `snapshotEvery`. It covers whatever is logged when it runs, so nothing is lost by the wait.
   */
  private snapshotSoon(live: LiveSession): void {
    if (live.snapshotDue) return;
    live.snapshotDue = true;
    setImmediate(() => {
      live.snapshotDue = false;
      if (live.active && this.deps.holds(live) && live.sinceSnapshot >= this.deps.snapshotEvery)
        live.snapshot().catch(() => {});
    });
  }

  private commandEntry(
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
    return Object.assign({}, command, { reqId, nowMs }, outcome, this.deps.stamp()) as CommandEntry;
  }
}

/** How many candidates each rule removed for the first pick delivered (the decision's count, for the log). */
function removedBy(live: LiveSession, seqs: readonly number[]): { removed?: Record<string, number> } {
  if (seqs.length === 0) return {};
  const first = live.context.delivered.find((d) => d.seq === seqs[0]);
  return first ? { removed: first.reasons.removed } : {};
}
