import type { Engine } from '../engine/engine.ts';
import type { SessionState } from '../engine/session.ts';
import { isOmakaseError } from '../models/omakaseError.ts';
import { deliver, withdraw } from './delivery.ts';
import type { SessionErrorCode } from './errors.ts';
import {
  type CommandStamp,
  RECENT_KEYS,
  recentEntry,
  type ScoreOutput,
  type SessionContext,
  type SessionEmitted,
  type SessionEvent,
  type SessionReply,
} from './sessionContext.ts';

/**
 * What the session machine's actions compute, as pure functions of the context and the event: each command's
 * context update and its reply (`Answer`). The machine (`sessionMachine.ts`) assigns and emits them, one
 * assign per event.
 */

type Ctx = SessionContext;
type Ev = SessionEvent;

/** A context update and the reply it gives (one assign and one emit per command). */
export interface Answer {
  update: Partial<Ctx>;
  reply?: SessionReply;
}

export const ok = (reqId: number, seqs: number[] = [], invalidated: number[] = []): SessionReply => ({
  reqId,
  ok: true,
  seqs,
  invalidated,
});
/** A feedback's or steer's answer, with the positions the engine withdrew (for the log) when there are any. */
export const changed = (reqId: number, invalidated: number[], withdrawn: number[]): SessionReply =>
  withdrawn.length > 0 ? { reqId, ok: true, seqs: [], invalidated, withdrawn } : ok(reqId, [], invalidated);
export const refusal = (reqId: number, code: SessionErrorCode, message: string): SessionReply => ({
  reqId,
  ok: false,
  code,
  message,
});

/** Maps an engine failure on a command to the session code the caller sees. */
export function engineRefusal(reqId: number, err: unknown): SessionReply {
  const message = err instanceof Error ? err.message : String(err);
  if (isOmakaseError(err, 'ENGINE_UNKNOWN_POSITION'))
    return refusal(reqId, 'SESSION_UNKNOWN_SEQ', `${message} Feedback is only kept for recent items.`);
  if (isOmakaseError(err, 'ENGINE_INVALID_REQUEST') || isOmakaseError(err, 'ENGINE_UNKNOWN_ITEM'))
    return refusal(reqId, 'SESSION_INVALID_REQUEST', message);
  return refusal(reqId, 'SESSION_ENGINE_FAILED', `The engine failed: ${message} Retry the call.`);
}

/** The pool's side of the machine: picks at delivery and decisions landing, with the engine they need. */
export function deliveryAnswers(engine: Pick<Engine, 'pick' | 'poolNeed'>) {
  /** The next `n` picks delivered now, or `undefined` when the pool cannot serve them yet (score first). */
  function pickNow(context: Ctx, n: number, reqId: number, nowMs: number): Answer | undefined {
    const state = context.engine!;
    const pool = context.pool;
    if (pool === null || engine.poolNeed(state, pool) === 'stale') return undefined;
    const { state: next, picks } = engine.pick(state, pool, { n, nowMs });
    // Fewer than asked from a pool scored for this very position: the rules allow no more for now.
    const exhausted = picks.length < n && pool.fromPos === state.nextPos;
    if (picks.length < n && !exhausted) return undefined;
    const out = deliver(picks, context.delivered, context.lastSeq, context.settings.historyWindow);
    return {
      update: {
        engine: next,
        delivered: out.delivered,
        lastSeq: out.lastSeq,
        pendingMore: null,
        halted: exhausted ? 'exhausted' : null,
      },
      reply: {
        reqId,
        ok: true,
        seqs: out.seqs,
        invalidated: [],
        ids: picks.map((p) => p.id),
        p: picks.map((p) => p.propensity),
      },
    };
  }

  /** A decision landed (live or from the log): it becomes the pool, and answers a held `more`. */
  function landed(context: Ctx, pool: ScoreOutput['pool'], nowMs: number): Answer {
    const engineState: SessionState = { ...context.engine!, decisions: context.engine!.decisions + 1 };
    const withPool: Ctx = { ...context, engine: engineState, pool };
    const pending = context.pendingMore;
    const answer = pending ? pickNow(withPool, pending.n, pending.reqId, nowMs) : undefined;
    if (!answer) return { update: { engine: engineState, pool, halted: null } };
    return { update: { pool, ...answer.update }, reply: answer.reply };
  }

  return { pickNow, landed };
}

/** Feedback or steering, then withdrawal from the delivered window; the reply lists invalidated seqs. */
export function applyChange(
  context: Ctx,
  command: CommandStamp,
  run: (state: SessionState) => { state: SessionState; withdrawn: number[] },
  stalePool: boolean,
): Answer {
  try {
    const result = run(context.engine!);
    const after = withdraw(context.delivered, result.withdrawn);
    return {
      update: {
        engine: result.state,
        delivered: after.delivered,
        ...(stalePool ? { pool: null } : {}),
        ...remember(context, command as Ev),
        halted: null,
        lastEventAt: command.nowMs,
      },
      reply: changed(command.reqId, after.invalidated, result.withdrawn),
    };
  } catch (err) {
    return { update: { lastEventAt: command.nowMs }, reply: engineRefusal(command.reqId, err) };
  }
}

/** The context's `recent` with this command's idempotency entry, when it has a key. */
export function remember(context: Ctx, event: Ev): Partial<Ctx> {
  const entry = recentEntry(event);
  return entry === undefined ? {} : { recent: [...context.recent, entry].slice(-RECENT_KEYS) };
}

/** A failed decision (live or from the log): no retry until the next command; a held `more` is refused. */
export function stall(context: Ctx, error: unknown): Answer {
  const pending = context.pendingMore;
  return {
    update: { halted: 'stalled', pendingMore: null },
    reply: pending ? engineRefusal(pending.reqId, error) : undefined,
  };
}

export const replyEvent = (reply: SessionReply) => ({ type: 'session.reply' as const, reply });

/** What `commit` needs of xstate's `enqueue`: one assign, then the reply. */
interface Enqueue {
  assign(update: Partial<Ctx>): void;
  emit(event: SessionEmitted): void;
}

/** One assign and the reply: the shape of every command's action. */
export function commit(enqueue: Enqueue, out: Answer): void {
  enqueue.assign(out.update);
  if (out.reply) enqueue.emit(replyEvent(out.reply));
}

export function describeState(context: Ctx): string {
  if (context.disconnectedAt !== null) return 'disconnected: resume it first';
  if (context.engine === null) return 'starting';
  return context.paused ? 'paused' : 'streaming';
}
