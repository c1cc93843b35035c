import { emit, enqueueActions, fromPromise, setup } from 'xstate';
import type { Engine } from '../engine/engine.ts';
import { steerKey } from '../engine/pool.ts';
import type { Feedback } from '../engine/session.ts';
import { isOmakaseError } from '../models/omakaseError.ts';
import { sessionError } from './errors.ts';
import type { RefreshRun } from './refreshQueue.ts';
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
  type CommandStamp,
  type EndReason,
  recentEntry,
  type ScoreInput,
  type ScoreOutput,
  type SessionContext,
  type SessionEmitted,
  type SessionEvent,
  type SessionInput,
} from './sessionContext.ts';

export type {
  EndReason,
  ScoreInput,
  ScoreOutput,
  SessionContext,
  SessionEmitted,
  SessionEvent,
  SessionInput,
  SessionReply,
  SessionSettings,
} from './sessionContext.ts';

/** What the machine needs from outside: the engine and a clock reading for background decisions. */
export interface SessionMachineDeps {
  engine: Pick<Engine, 'start' | 'score' | 'pick' | 'poolNeed' | 'feedback' | 'steer'>;
  /** Clock reading for decisions and timer-driven ends (commands carry their own `nowMs`). */
  now: () => number;
  /**
   * When a refresh (a decision for a pool that still serves) may begin its work; absent: at once. The
   * manager grants it once the command that made the pool due is answered and the node's refresh queue
   * gives it a turn, so the decision's synchronous work delays neither that answer nor anyone else's
   * (`RefreshQueue`). It resolves with the function to run the decision with (the queue counts its
   * synchronous part against the loop turn's budget), or with undefined when `signal` aborted first: the
   * session stopped, and the refresh is not made.
   */
  refreshSlot?: (sessionId: string, signal: AbortSignal) => Promise<RefreshRun | undefined>;
}

type Ctx = SessionContext;
type Ev = SessionEvent;
const stamp = (event: Ev): CommandStamp => event as CommandStamp;
/**
 * The session machine: `starting` → `active` (playback `streaming` ⇄ `paused`, alongside a `feed` whose
 * named `score` actor keeps a scored candidate pool) → `disconnected` (grace) → `ended`.
 *
 * Picks are decided at delivery: a `feed.more` picks from the pool there and then, against the session as
 * it is, so feedback and steering acknowledged before it shape it. Only a missing or stale pool (the first
 * `more`, a steer) makes a `more` wait for a decision. Every command is answered by an emitted
 * `session.reply`, including coded refusals for events the current state does not take.
 *
 * Each event runs at most one `assign`, because xstate copies the whole context per assign (and the context
 * stays under 20 keys for the same reason: see `SessionContext`).
 */
export function createSessionMachine(deps: SessionMachineDeps) {
  const { engine } = deps;
  const { pickNow, landed } = deliveryAnswers(engine);

  return setup({
    types: {} as { context: Ctx; events: Ev; input: SessionInput; emitted: SessionEmitted },
    actors: {
      score: fromPromise<ScoreOutput, ScoreInput>(async ({ input, signal }) => {
        const nowMs = deps.now();
        if (!input.refresh || !deps.refreshSlot)
          return { pool: (await engine.score(input.state, { nowMs })).pool, nowMs };
        const run = await deps.refreshSlot(input.sessionId, signal);
        // Stopped while waiting: nothing receives the output of a stopped actor.
        if (run === undefined) throw sessionError('SESSION_ENDED', 'The session stopped before its refresh.');
        return run(async () => ({ pool: (await engine.score(input.state, { nowMs })).pool, nowMs }));
      }),
    },
    delays: {
      idle: ({ context }) => Math.max(0, context.lastEventAt + context.settings.idleMs - deps.now()),
      grace: ({ context, event }) => {
        const now = 'nowMs' in event ? event.nowMs : 0;
        return Math.max(0, (context.disconnectedAt ?? now) + context.settings.graceMs - now);
      },
    },
    guards: {
      isCommand: ({ event }) => 'reqId' in event,
      isRepeat: ({ context, event }) => {
        const entry = recentEntry(event);
        return entry !== undefined && context.recent.includes(entry);
      },
      isPaused: ({ context }) => context.paused,
      unknownSeq: ({ context, event }) =>
        event.type === 'user.feedback' && !context.delivered.some((d) => d.seq === event.feedback.seq),
      badLastSeq: ({ context, event }) =>
        event.type === 'client.resumed' &&
        !(Number.isInteger(event.lastSeq) && event.lastSeq >= 0 && event.lastSeq <= context.lastSeq),
      needsScore: ({ context }) =>
        context.engine !== null &&
        !context.replaying &&
        context.halted === null &&
        (context.pendingMore !== null || engine.poolNeed(context.engine, context.pool) !== 'fresh'),
      // Begun before steering made the pool stale: dropped (a new decision follows from `idle`).
      scoreCurrent: ({ context, event }) => {
        const { output } = event as unknown as { output: ScoreOutput };
        const state = context.engine!;
        return output.pool.decision === state.decisions && output.pool.steer === steerKey(state.steers);
      },
      idleExpired: ({ context, event }) =>
        stamp(event).nowMs - context.lastEventAt >= context.settings.idleMs,
      idleDue: ({ context }) => deps.now() - context.lastEventAt >= context.settings.idleMs,
      graceExpired: ({ context, event }) =>
        context.disconnectedAt !== null &&
        stamp(event).nowMs - context.disconnectedAt >= context.settings.graceMs,
    },
    actions: {
      rejectInvalidEvent: enqueueActions(({ context, event, enqueue }) => {
        enqueue.emit(
          replyEvent(
            refusal(
              stamp(event).reqId,
              'SESSION_INVALID_EVENT',
              `"${event.type}" is not allowed while the session is ${describeState(context)}.`,
            ),
          ),
        );
      }),
      start: enqueueActions(({ event, enqueue }) => {
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
      armIdle: enqueueActions(({ enqueue }) => {
        enqueue.cancel('idle');
        enqueue.raise({ type: 'session.idle' }, { id: 'idle', delay: 'idle' });
      }),
      disarmIdle: enqueueActions(({ enqueue }) => enqueue.cancel('idle')),
      endReplay: enqueueActions(({ event, enqueue }) =>
        commit(enqueue, { update: { replaying: false }, reply: ok(stamp(event).reqId) }),
      ),
      more: enqueueActions(({ context, event, enqueue }) => {
        assertType(event, 'feed.more');
        if (!(Number.isInteger(event.n) && event.n >= 1 && event.n <= context.settings.maxMore)) {
          enqueue.emit(
            replyEvent(
              refusal(
                event.reqId,
                'SESSION_INVALID_REQUEST',
                `Ask for 1 to ${context.settings.maxMore} items at a time (got ${event.n}).`,
              ),
            ),
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
      applyDecision: enqueueActions(({ context, event, enqueue }) => {
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
      applyLoggedDecision: enqueueActions(({ context, event, enqueue }) => {
        assertType(event, 'log.pool');
        commit(enqueue, landed(context, event.pool, event.nowMs));
      }),
      applyLoggedFailure: enqueueActions(({ context, enqueue }) =>
        commit(enqueue, stall(context, new Error('The engine failed (logged failure).'))),
      ),
      failDecision: enqueueActions(({ context, event, enqueue }) => {
        const error = (event as unknown as { error: unknown }).error;
        enqueue.emit({
          type: 'session.refillFailed',
          code: isOmakaseError(error) ? error.code : 'INTERNAL',
          message: error instanceof Error ? error.message : String(error),
        });
        commit(enqueue, stall(context, error));
      }),
      rejectUnknownSeq: enqueueActions(({ event, enqueue }) => {
        assertType(event, 'user.feedback');
        enqueue.emit(
          replyEvent(
            refusal(
              event.reqId,
              'SESSION_UNKNOWN_SEQ',
              `No delivered item has seq ${event.feedback.seq} (never sent, withdrawn, or too old); nothing changed.`,
            ),
          ),
        );
      }),
      applyFeedback: enqueueActions(({ context, event, enqueue }) => {
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
      applySteer: enqueueActions(({ context, event, enqueue }) => {
        assertType(event, 'user.steer');
        commit(
          enqueue,
          applyChange(context, event, (state) => engine.steer(state, event.steer, event.nowMs), true),
        );
      }),
      pause: enqueueActions(({ context, event, enqueue }) =>
        commit(enqueue, {
          update: { paused: true, lastEventAt: stamp(event).nowMs, ...remember(context, event) },
          reply: ok(stamp(event).reqId),
        }),
      ),
      play: enqueueActions(({ context, event, enqueue }) =>
        commit(enqueue, {
          update: { paused: false, lastEventAt: stamp(event).nowMs, ...remember(context, event) },
          reply: ok(stamp(event).reqId),
        }),
      ),
      // A request sent again with its key and content (its answer was lost): answered, applied once.
      answerRepeat: enqueueActions(({ event, enqueue }) =>
        commit(enqueue, {
          update: { lastEventAt: stamp(event).nowMs },
          reply: { reqId: stamp(event).reqId, ok: true, seqs: [], invalidated: [], repeat: true },
        }),
      ),
      recordDisconnect: enqueueActions(({ event, enqueue }) =>
        commit(enqueue, {
          update: { disconnectedAt: stamp(event).nowMs, pendingMore: null },
          reply: ok(stamp(event).reqId),
        }),
      ),
      rejectBadLastSeq: enqueueActions(({ context, event, enqueue }) => {
        enqueue.emit(
          replyEvent(
            refusal(
              stamp(event).reqId,
              'SESSION_INVALID_REQUEST',
              `lastSeq must be an integer from 0 to ${context.lastSeq} (the session's last delivered seq).`,
            ),
          ),
        );
      }),
      takeOver: enqueueActions(({ context, event, enqueue }) => {
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
      endAs: enqueueActions(({ event, enqueue }, params: { reason: EndReason }) => {
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
      announceEnd: emit(({ context }) => ({
        type: 'session.ended' as const,
        reason: context.endReason ?? 'ended',
      })),
    },
  }).createMachine({
    id: 'session',
    context: ({ input }) => ({
      v: 3,
      sessionId: input.sessionId,
      owner: input.owner,
      principal: input.principal,
      tokenHash: input.tokenHash,
      settings: {
        ...input.settings,
        historyWindow: Math.max(input.settings.historyWindow, input.settings.maxMore),
      },
      engine: null,
      pool: null,
      delivered: [],
      lastSeq: 0,
      paused: false,
      halted: null,
      pendingMore: null,
      lastEventAt: input.nowMs,
      disconnectedAt: null,
      endReason: null,
      replaying: input.replaying ?? false,
      recent: [],
    }),
    initial: 'starting',
    states: {
      starting: {
        always: { guard: ({ context }) => context.engine !== null, target: 'active' },
        on: {
          // Started once, in the action; a refused start stays here with the engine still null.
          'user.start': { actions: 'start' },
          '*': { guard: 'isCommand', actions: 'rejectInvalidEvent' },
        },
      },
      active: {
        type: 'parallel',
        entry: 'armIdle',
        exit: 'disarmIdle',
        states: {
          // Every command is taken here (never in `feed`), so the catch-all below fires only when no
          // transition in this region takes the event.
          playback: {
            initial: 'route',
            states: {
              route: { always: [{ guard: 'isPaused', target: 'paused' }, { target: 'streaming' }] },
              streaming: {
                on: {
                  'user.pause': [
                    { guard: 'isRepeat', actions: 'answerRepeat' },
                    { target: 'paused', actions: 'pause' },
                  ],
                  'user.play': { guard: 'isRepeat', actions: 'answerRepeat' },
                },
              },
              paused: {
                on: {
                  'user.play': [
                    { guard: 'isRepeat', actions: 'answerRepeat' },
                    { target: 'streaming', actions: 'play' },
                  ],
                  'user.pause': { guard: 'isRepeat', actions: 'answerRepeat' },
                },
              },
            },
            on: {
              'feed.more': { actions: 'more' },
              'user.feedback': [
                { guard: 'isRepeat', actions: 'answerRepeat' },
                { guard: 'unknownSeq', actions: 'rejectUnknownSeq' },
                { actions: 'applyFeedback' },
              ],
              'user.steer': [{ guard: 'isRepeat', actions: 'answerRepeat' }, { actions: 'applySteer' }],
              'user.end': {
                target: '#session.ended',
                actions: { type: 'endAs', params: { reason: 'ended' } },
              },
              'client.disconnected': { target: '#session.disconnected', actions: 'recordDisconnect' },
              'client.resumed': [
                { guard: 'badLastSeq', actions: 'rejectBadLastSeq' },
                { actions: 'takeOver' },
              ],
              'session.restored': [
                {
                  guard: 'idleExpired',
                  target: '#session.ended',
                  actions: { type: 'endAs', params: { reason: 'idle' } },
                },
                { actions: ['endReplay', 'armIdle'] },
              ],
              'session.idle': [
                {
                  guard: 'idleDue',
                  target: '#session.ended',
                  actions: { type: 'endAs', params: { reason: 'idle' } },
                },
                { actions: 'armIdle' },
              ],
              '*': { guard: 'isCommand', actions: 'rejectInvalidEvent' },
            },
          },
          feed: {
            initial: 'idle',
            states: {
              idle: { always: { guard: 'needsScore', target: 'scoring' } },
              scoring: {
                invoke: {
                  id: 'score',
                  src: 'score',
                  input: ({ context }) => ({
                    state: context.engine!,
                    sessionId: context.sessionId,
                    refresh:
                      context.pendingMore === null &&
                      engine.poolNeed(context.engine!, context.pool) === 'due',
                  }),
                  onDone: [
                    { guard: 'scoreCurrent', target: 'idle', actions: 'applyDecision' },
                    // Steering made it stale meanwhile: decide again (from `idle`) if still needed.
                    { target: 'idle' },
                  ],
                  onError: { target: 'idle', actions: 'failDecision' },
                },
              },
            },
            on: {
              // A store's log tail, replayed into a restored snapshot: decisions as they were scored.
              'log.pool': { actions: 'applyLoggedDecision' },
              'log.refillFailed': { actions: 'applyLoggedFailure' },
            },
          },
        },
      },
      disconnected: {
        after: {
          grace: { target: 'ended', actions: { type: 'endAs', params: { reason: 'grace-expired' } } },
        },
        on: {
          'client.resumed': [
            {
              guard: 'graceExpired',
              target: 'ended',
              actions: { type: 'endAs', params: { reason: 'grace-expired' } },
            },
            { guard: 'badLastSeq', actions: 'rejectBadLastSeq' },
            { target: 'active', actions: 'takeOver' },
          ],
          'session.restored': [
            {
              guard: 'graceExpired',
              target: 'ended',
              actions: { type: 'endAs', params: { reason: 'grace-expired' } },
            },
            // Re-entering re-arms the grace timer for the time that is left.
            { target: 'disconnected', reenter: true, actions: 'endReplay' },
          ],
          '*': { guard: 'isCommand', actions: 'rejectInvalidEvent' },
        },
      },
      ended: { type: 'final', entry: 'announceEnd' },
    },
  });
}

export type SessionMachine = ReturnType<typeof createSessionMachine>;

function assertType<T extends Ev['type']>(event: Ev, type: T): asserts event is Extract<Ev, { type: T }> {
  if (event.type !== type) throw new Error(`Expected ${type}, got ${event.type}`);
}
