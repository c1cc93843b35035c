import type { Engine } from '../engine/engine.ts';
import { sessionError } from './errors.ts';
import type { CommandMismatch } from './replay.ts';
import { replayActor } from './replayActor.ts';
import { type SessionReply, selectors } from './sessionContext.ts';
import { type CommandEntry, loggedPoolReader, loggedPools, type SessionLog } from './sessionLog.ts';
import type { SessionEvent } from './sessionMachine.ts';
import type { DeliveredItem, SessionOpened, SessionService } from './sessionService.ts';

/** The service call each logged command answers. */
const CALL_OF: Record<string, string> = {
  'user.start': 'start',
  'client.resumed': 'resume',
  'feed.more': 'more',
  'user.feedback': 'feedback',
  'user.steer': 'steer',
  'user.pause': 'pause',
  'user.play': 'play',
  'user.end': 'end',
  'client.disconnected': 'disconnected',
};

interface Call {
  method: string;
  args: unknown[];
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** A delivery as logged and as the replay made it. */
export interface ReplayedDelivery {
  logIndex: number;
  expected: { ids: string[]; p?: number[] };
  got: DeliveredItem[];
}

/** What the adapter's driver gives the walk: how to make the adapter act, and how to let it. */
export interface ReplayDriver {
  /** Feeds the adapter its next recorded input (a frame, a close); false when none is left. */
  feed(): boolean;
  /** Lets the adapter run until it waits on something (its promise jobs, then one turn of the loop). */
  settle(): Promise<void>;
  /**
   * The log has an entry of `type` and the adapter, with no input left, did not make its call: true applies
   * it from the log alone (the voice adapter: a session ended by a request recorded in the next session's
   * log). Absent or false: the walk stops there with a `CallMismatch`.
   */
  unprompted?(type: string): boolean;
}

/** Why the walk stopped before the end of the log: the adapter did not make the call the log has next. */
export interface CallMismatch {
  logIndex: number;
  expected: string;
  got: string;
}

/**
 * A `SessionService` that answers an adapter from a session's log: every call the adapter makes must be the
 * one the log has next (its type and content); it is applied to the session machine with the logged clock
 * reading, and the logged decisions are applied where the log has them. `walk` drives it: the adapter is fed
 * its recorded inputs only when the log waits for a call, so it acts when it did live.
 *
 * @example
 * const replay = createReplayService(readLog(events), engine, { sessionId, graceMs });
 * const mismatch = await replay.walk({ feed, settle });
 */
export function createReplayService(
  log: SessionLog,
  engine: Engine,
  session: { sessionId: string; graceMs: number },
) {
  const actor = replayActor(engine, log.start, session.sessionId);
  const readPool = loggedPoolReader(engine.catalog, loggedPools(log));
  const waiting = new Map<number, (reply: SessionReply) => void>();
  actor.on('session.reply', ({ reply }) => {
    const done = waiting.get(reply.reqId);
    if (done) {
      waiting.delete(reply.reqId);
      done(reply);
    }
  });
  actor.start();
  const calls: Call[] = [];
  const deliveries: ReplayedDelivery[] = [];
  let reqId = 0;
  const listeners = new Set<(notice: never) => void>();
  /** Set by `refuseRest`: every call from then on is refused with it. */
  let over: unknown;

  const call =
    (method: string) =>
    (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        if (over !== undefined) reject(over);
        else calls.push({ method, args, resolve, reject });
      });
  const service: SessionService = {
    start: call('start') as SessionService['start'],
    resume: call('resume') as SessionService['resume'],
    more: call('more') as SessionService['more'],
    feedback: call('feedback') as SessionService['feedback'],
    steer: call('steer') as SessionService['steer'],
    pause: call('pause') as SessionService['pause'],
    play: call('play') as SessionService['play'],
    end: call('end') as SessionService['end'],
    disconnected: (...args) => {
      void call('disconnected')(...args);
    },
    subscribe: (_id, listener) => {
      listeners.add(listener as never);
      return () => listeners.delete(listener as never);
    },
    async close() {},
  };

  /** Sends one command; `onReply` runs when the machine answers (at once, or when a logged decision lands). */
  const send = (command: Record<string, unknown>, onReply: (reply: SessionReply) => void) => {
    const id = ++reqId;
    waiting.set(id, onReply);
    actor.send({ ...command, reqId: id } as unknown as SessionEvent);
  };
  const refusal = (reply: SessionReply) =>
    reply.ok
      ? undefined
      : sessionError(reply.code, reply.message, { details: { sessionId: session.sessionId } });

  /** Applies a logged command to the machine and answers the adapter's call with what the machine says. */
  const answer = (c: Call, entry: CommandEntry | typeof log.start, logIndex: number) => {
    const {
      atMs: _a,
      node: _n,
      ok: _ok,
      code: _c,
      reqId: _r,
      repeat: _rp,
      wire: _w,
      ids,
      p,
      withdrawn: _wd,
      removed: _rm,
      connectionId: _ci,
      model: _m,
      provenance: _pv,
      ...command
    } = entry as unknown as Record<string, unknown>;
    if (entry.type === 'user.start') command.nowMs = entry.atMs;
    if (entry.type === 'client.resumed')
      command.connectionId = (entry as { connectionId: string }).connectionId;
    send(command, (reply) => {
      if (entry.type === 'user.feedback' || entry.type === 'user.steer') judgeChange(entry, logIndex, reply);
      const refused = refusal(reply);
      if (refused && entry.type !== 'client.disconnected') return c.reject(refused);
      const context = actor.getSnapshot().context;
      const seqs = reply.ok ? reply.seqs : [];
      switch (entry.type) {
        case 'user.start':
        case 'client.resumed':
          return c.resolve({
            sessionId: session.sessionId,
            resumeToken: '…',
            status: selectors.status(context),
            lastSeq: entry.type === 'user.start' ? 0 : context.lastSeq,
            missed: entry.type === 'user.start' ? [] : selectors.delivered(context, seqs),
            graceMs: session.graceMs,
          } satisfies SessionOpened);
        case 'feed.more': {
          const got = selectors.delivered(context, seqs);
          const logged = ids ? { ids: ids as string[], p: p as number[] } : answeredAt.get(logIndex);
          if (logged) deliveries.push({ logIndex, expected: logged, got });
          return c.resolve(got);
        }
        case 'user.feedback':
        case 'user.steer':
          return c.resolve({ invalidated: reply.ok ? reply.invalidated : [] });
        default:
          return c.resolve(undefined);
      }
    });
  };

  /** Feedback and steers applied, and those whose effect was not the logged one (refused, or other withdrawals). */
  const changes = { count: 0, mismatches: [] as CommandMismatch[] };
  const judgeChange = (
    entry: Extract<CommandEntry, { type: 'user.feedback' | 'user.steer' }>,
    logIndex: number,
    reply: SessionReply,
  ) => {
    // Refused live (the log keeps it for the adapter's sake): refused again is its logged effect.
    if (entry.ok === false) {
      if (reply.ok)
        changes.mismatches.push({ logIndex, type: entry.type, expected: 'refused', got: 'accepted' });
      return;
    }
    changes.count++;
    const mismatch = changeMismatch(entry.withdrawn, reply);
    if (mismatch) changes.mismatches.push({ logIndex, type: entry.type, ...mismatch });
  };

  /** The logged answer of each held `feed.more` (by its log index), from the decision that answered it. */
  const answeredAt = new Map<number, { ids: string[]; p?: number[] }>();
  const heldAt = new Map<number, number>();
  for (const { index, entry } of log.entries) {
    if (entry.type === 'feed.more' && !entry.ids && entry.ok !== false) heldAt.set(entry.reqId, index);
    if (entry.type === 'engine.pool' && entry.answered) {
      const at = heldAt.get(entry.answered.reqId);
      if (at !== undefined) answeredAt.set(at, entry.answered);
    }
  }

  /** Waits until the adapter makes a call of `method`, feeding it its inputs one at a time meanwhile. */
  const callOf = async (method: string, driver: ReplayDriver): Promise<Call | undefined> => {
    for (;;) {
      const i = calls.findIndex((c) => c.method === method);
      if (i >= 0) return calls.splice(i, 1)[0];
      if (driver.feed()) {
        await driver.settle();
        continue;
      }
      await driver.settle();
      if (!calls.some((c) => c.method === method)) return undefined;
    }
  };

  return {
    service,
    deliveries,
    changes,
    actor,
    /** Walks the log to its end, or to the first call the adapter did not make; resolves that mismatch. */
    async walk(driver: ReplayDriver): Promise<CallMismatch | undefined> {
      const all = [{ index: 0, entry: log.start }, ...log.entries] as const;
      for (const { index, entry } of all) {
        if (entry.type === 'engine.pool') {
          actor.send({
            type: 'log.pool',
            pool: readPool(entry.pool),
            nowMs: entry.nowMs,
          });
          await driver.settle();
          continue;
        }
        if (entry.type === 'engine.failed') {
          actor.send({ type: 'log.refillFailed' });
          await driver.settle();
          continue;
        }
        const method = CALL_OF[entry.type];
        const c = await callOf(method, driver);
        if (!c && driver.unprompted?.(entry.type)) {
          answer({ method, args: [], resolve() {}, reject() {} }, entry as CommandEntry, index);
          await driver.settle();
          continue;
        }
        if (!c) {
          const pending = calls.map((x) => x.method).join(', ') || 'nothing';
          return { logIndex: index, expected: `a ${method} call (${entry.type})`, got: pending };
        }
        const differs = argsDiffer(entry as CommandEntry, c.args);
        if (differs)
          return { logIndex: index, expected: `${entry.type} ${differs.expected}`, got: differs.got };
        answer(c, entry as CommandEntry, index);
        await driver.settle();
      }
      // Inputs recorded after the last entry (a final close): fed, so the adapter ends as it did.
      while (driver.feed()) await driver.settle();
      return undefined;
    },
    /** Refuses the calls still waiting, and every later one, with `err` (the log has no answer for them). */
    refuseRest(err: unknown) {
      over = err;
      for (const c of calls.splice(0)) c.reject(err);
    },
    stop: () => actor.stop(),
  };
}

/**
 * How a feedback's or steer's answer in the replay differs from the logged one: refused where the log has it
 * taken, or other positions withdrawn. Undefined when it had the logged effect.
 */
export function changeMismatch(
  logged: readonly number[] | undefined,
  reply: SessionReply | undefined,
): { expected: string; got: string } | undefined {
  if (!reply) return { expected: 'answered', got: 'no answer' };
  if (!reply.ok) return { expected: 'accepted', got: `refused: ${reply.code} ${reply.message}` };
  const got = [...(reply.withdrawn ?? [])].sort((a, b) => a - b).join(', ');
  const expected = [...(logged ?? [])].sort((a, b) => a - b).join(', ');
  return got === expected ? undefined : { expected: `withdrew [${expected}]`, got: `withdrew [${got}]` };
}

/** The content a call must share with its logged command (its n, feedback, steer). */
function argsDiffer(entry: CommandEntry, args: unknown[]): { expected: string; got: string } | undefined {
  const compare = (expected: unknown, got: unknown) => {
    const e = JSON.stringify(expected);
    const g = JSON.stringify(got);
    return e === g ? undefined : { expected: e, got: g };
  };
  switch (entry.type) {
    case 'feed.more':
      return compare(entry.n, args[2]);
    case 'user.feedback':
      return compare(entry.feedback, args[2]);
    case 'user.steer':
      return compare(entry.steer, args[2]);
    default:
      return undefined;
  }
}
