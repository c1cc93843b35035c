import { emit, enqueueActions } from 'xstate';
import type { Feedback } from '../engine/session.ts';
import { isOmakaseError } from '../models/omakaseError.ts';
import type { SessionErrorCode } from './errors.ts';
import {
  applyChange,
  commit,
  deliveryAnswers,
  describeState,
  engineRefusal,
  ok,
  refusal,
  remember,
  replyEvent,
  stall,
} from './sessionAnswers.ts';
import {
  type EndReason,
  type ScoreOutput,
  type SessionContext,
  type SessionEmitted,
  type SessionEvent,
  stampOf as stamp,
} from './sessionContext.ts';
import type { SessionMachineDeps } from './sessionMachineDeps.ts';

type Ctx = SessionContext;
type Ev = SessionEvent;
/** The machine's named delays an action may raise an event after. */
type Delay = 'idle' | 'grace';

/** A coded refusal of the event: the reply alone, nothing in the context changes. */
function refuse(
  enqueue: { emit(event: SessionEmitted): void },
  reqId: number,
  code: SessionErrorCode,
  message: string,
): void {
  enqueue.emit(replyEvent(refusal(reqId, code, message)));
}

/** xstate's `enqueueActions`, typed for this machine's context, events, delays and emitted events. */
const act = <P extends { reason: EndReason } | undefined = undefined>(
  collect: Parameters<typeof enqueueActions<Ctx, Ev, P, Ev, never, never, never, Delay, SessionEmitted>>[0],
) => enqueueActions<Ctx, Ev, P, Ev, never, never, never, Delay, SessionEmitted>(collect);

/**
 * The session machine's named actions (at most one `assign` per event: see `createSessionMachine`); what
 * each command changes and answers is computed in `sessionAnswers.ts`.
 */
export function sessionActions(deps: Pick<SessionMachineDeps, 'engine'>) {
  const { engine } = deps;
  const { pickNow, landed } = deliveryAnswers(engine);

  return {
    rejectInvalidEvent: act(({ context, event, enqueue }) => {
      refuse(
        enqueue,
        stamp(event).reqId,
        'SESSION_INVALID_EVENT',
        `"${event.type}" is not allowed while the session is ${describeState(context)}.`,
      );
    }),
    start: act(({ event, enqueue }) => {
      assertType(event, 'user.start');
      try {
        const state = engine.start({ seed: event.seed, intent: event.intent, profile: event.profile });
        commit(enqueue, { update: { engine: state, lastEventAt: event.nowMs }, reply: ok(event.reqId) });
      } catch (err) {
        enqueue.emit(replyEvent(engineRefusal(event.reqId, err)));
      }
    }),
    // Commands only record their time (`lastEventAt`, in their own assign); the idle timer is armed once per
    // active period and, when it fires early, armed again for the rest (re-arming it on every command was a
    // third of the machine's cost per command).
    armIdle: act(({ enqueue }) => {
      enqueue.cancel('idle');
      enqueue.raise({ type: 'session.idle' }, { id: 'idle', delay: 'idle' });
    }),
    disarmIdle: act(({ enqueue }) => enqueue.cancel('idle')),
    endReplay: act(({ event, enqueue }) =>
      commit(enqueue, { update: { replaying: false }, reply: ok(stamp(event).reqId) }),
    ),
    more: act(({ context, event, enqueue }) => {
      assertType(event, 'feed.more');
      if (!(Number.isInteger(event.n) && event.n >= 1 && event.n <= context.settings.maxMore)) {
        refuse(
          enqueue,
          event.reqId,
          'SESSION_INVALID_REQUEST',
          `Ask for 1 to ${context.settings.maxMore} items at a time (got ${event.n}).`,
        );
        return;
      }
      const now = pickNow(context, event.n, event.reqId, event.nowMs);
      if (now) {
        commit(enqueue, { update: { ...now.update, lastEventAt: event.nowMs }, reply: now.reply });
        return;
      }
      // No pool that can serve it (none yet, steering made it stale, or used up): wait for a decision.
      // Exhaustion may have passed (time moves the radio rules' windows): this request tries once more.
      enqueue.assign({
        pendingMore: { reqId: event.reqId, n: event.n },
        halted: null,
        lastEventAt: event.nowMs,
        ...(context.pool !== null ? { pool: null } : {}),
      });
    }),
    applyDecision: act(({ context, event, enqueue }) => {
      const output = (event as unknown as { output: ScoreOutput }).output;
      const out = landed(context, output.pool, output.nowMs);
      enqueue.assign(out.update);
      const answered = out.reply?.ok && out.reply.ids ? out.reply : undefined;
      enqueue.emit({
        type: 'session.decision',
        nowMs: output.nowMs,
        pool: output.pool,
        ...(answered ? { answered: { reqId: answered.reqId, ids: answered.ids!, p: answered.p! } } : {}),
      });
      if (out.reply) enqueue.emit(replyEvent(out.reply));
    }),
    applyLoggedDecision: act(({ context, event, enqueue }) => {
      assertType(event, 'log.pool');
      commit(enqueue, landed(context, event.pool, event.nowMs));
    }),
    applyLoggedFailure: act(({ context, enqueue }) =>
      commit(enqueue, stall(context, new Error('The engine failed (logged failure).'))),
    ),
    failDecision: act(({ context, event, enqueue }) => {
      const error = (event as unknown as { error: unknown }).error;
      enqueue.emit({
        type: 'session.refillFailed',
        code: isOmakaseError(error) ? error.code : 'INTERNAL',
        message: error instanceof Error ? error.message : String(error),
      });
      commit(enqueue, stall(context, error));
    }),
    rejectUnknownSeq: act(({ event, enqueue }) => {
      assertType(event, 'user.feedback');
      refuse(
        enqueue,
        event.reqId,
        'SESSION_UNKNOWN_SEQ',
        `No delivered item has seq ${event.feedback.seq} (never sent, withdrawn, or too old); nothing changed.`,
      );
    }),
    applyFeedback: act(({ context, event, enqueue }) => {
      assertType(event, 'user.feedback');
      const { feedback } = event;
      const pos = context.delivered.find((d) => d.seq === feedback.seq)!.pos;
      const change: Feedback =
        feedback.type === 'skipped'
          ? { type: feedback.type, pos, atMs: feedback.atMs }
          : { type: feedback.type, pos };
      commit(
        enqueue,
        applyChange(context, event, (state) => engine.feedback(state, change, event.nowMs), false),
      );
    }),
    applySteer: act(({ context, event, enqueue }) => {
      assertType(event, 'user.steer');
      commit(
        enqueue,
        applyChange(context, event, (state) => engine.steer(state, event.steer, event.nowMs), true),
      );
    }),
    pause: act(({ context, event, enqueue }) =>
      commit(enqueue, {
        update: { paused: true, lastEventAt: stamp(event).nowMs, ...remember(context, event) },
        reply: ok(stamp(event).reqId),
      }),
    ),
    play: act(({ context, event, enqueue }) =>
      commit(enqueue, {
        update: { paused: false, lastEventAt: stamp(event).nowMs, ...remember(context, event) },
        reply: ok(stamp(event).reqId),
      }),
    ),
    // A request sent again with its key and content (its answer was lost): answered, applied once.
    answerRepeat: act(({ event, enqueue }) =>
      commit(enqueue, {
        update: { lastEventAt: stamp(event).nowMs },
        reply: { reqId: stamp(event).reqId, ok: true, seqs: [], invalidated: [], repeat: true },
      }),
    ),
    recordDisconnect: act(({ event, enqueue }) =>
      commit(enqueue, {
        update: { disconnectedAt: stamp(event).nowMs, pendingMore: null },
        reply: ok(stamp(event).reqId),
      }),
    ),
    rejectBadLastSeq: act(({ context, event, enqueue }) => {
      refuse(
        enqueue,
        stamp(event).reqId,
        'SESSION_INVALID_REQUEST',
        `lastSeq must be an integer from 0 to ${context.lastSeq} (the session's last delivered seq).`,
      );
    }),
    takeOver: act(({ context, event, enqueue }) => {
      assertType(event, 'client.resumed');
      const missed = context.delivered.filter((d) => d.seq > event.lastSeq).map((d) => d.seq);
      commit(enqueue, {
        update: {
          owner: event.connectionId,
          tokenHash: event.tokenHash,
          disconnectedAt: null,
          lastEventAt: event.nowMs,
          // A `more` still held for the old connection died with it: the new one asks again.
          pendingMore: null,
        },
        reply: ok(event.reqId, missed),
      });
    }),
    endAs: act<{ reason: EndReason }>(({ event, enqueue }, params) => {
      const update: Partial<Ctx> = { endReason: params.reason, pendingMore: null };
      if (!('reqId' in event)) {
        enqueue.assign(update);
        return;
      }
      commit(enqueue, {
        update,
        reply:
          params.reason === 'ended'
            ? ok(event.reqId)
            : refusal(
                event.reqId,
                'SESSION_EXPIRED',
                `The session ended (${params.reason}); start a new one.`,
              ),
      });
    }),
    announceEnd: emit<Ctx, Ev, undefined, Ev, SessionEmitted>(({ context }) => ({
      type: 'session.ended' as const,
      reason: context.endReason ?? 'ended',
    })),
  };
}

function assertType<T extends Ev['type']>(event: Ev, type: T): asserts event is Extract<Ev, { type: T }> {
  if (event.type !== type) throw new Error(`Expected ${type}, got ${event.type}`);
}
