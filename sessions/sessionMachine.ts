import { assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import type { Engine } from '../engine/engine.ts';
import type { Pick } from '../engine/pick.ts';
import type { Feedback, SessionState } from '../engine/session.ts';
import { isOmakaseError } from '../models/omakaseError.ts';
import type { SessionErrorCode } from './errors.ts';
import { deliver, withdraw } from './lookahead.ts';
import type {
  Command,
  EndReason,
  RefillInput,
  RefillOutput,
  SessionContext,
  SessionEmitted,
  SessionEvent,
  SessionInput,
  SessionReply,
} from './sessionContext.ts';

export type {
  EndReason,
  RefillInput,
  RefillOutput,
  SessionContext,
  SessionEmitted,
  SessionEvent,
  SessionInput,
  SessionReply,
  SessionSettings,
} from './sessionContext.ts';

/** What the machine needs from outside: the engine and a clock reading for background refills. */
export interface SessionMachineDeps {
  engine: Omit<Engine, 'catalog' | 'modelId'>;
  /** Clock reading for refills and timer-driven ends (commands carry their own `nowMs`). */
  now: () => number;
}

const MAX_REFILL = 100;

type Ctx = SessionContext;
type Ev = SessionEvent;
const cmd = (event: Ev): Command => event as Command;
const ok = (reqId: number, seqs: number[] = [], invalidated: number[] = []): SessionReply => ({
  reqId,
  ok: true,
  seqs,
  invalidated,
});
/** A feedback's or steer's answer, with the positions the engine withdrew (for the log) when there are any. */
const changed = (reqId: number, invalidated: number[], withdrawn: number[]): SessionReply =>
  withdrawn.length > 0 ? { reqId, ok: true, seqs: [], invalidated, withdrawn } : ok(reqId, [], invalidated);
const refusal = (reqId: number, code: SessionErrorCode, message: string): SessionReply => ({
  reqId,
  ok: false,
  code,
  message,
});

/** Maps an engine failure on a command to the session code the caller sees. */
function engineRefusal(reqId: number, err: unknown): SessionReply {
  const message = err instanceof Error ? err.message : String(err);
  if (isOmakaseError(err, 'ENGINE_UNKNOWN_POSITION'))
    return refusal(reqId, 'SESSION_UNKNOWN_SEQ', `${message} Feedback is only kept for recent items.`);
  if (isOmakaseError(err, 'ENGINE_INVALID_REQUEST') || isOmakaseError(err, 'ENGINE_UNKNOWN_ITEM'))
    return refusal(reqId, 'SESSION_INVALID_REQUEST', message);
  return refusal(reqId, 'SESSION_ENGINE_FAILED', `The engine failed: ${message} Retry the call.`);
}

/** Picks kept ready before a session's first `more`, and the fewest kept after (within `lookahead`). */
export const MIN_READY = 4;

/**
 * How many picks to keep ready: about two requests' worth, from `MIN_READY` up to `settings.lookahead`. A
 * page of 10 keeps 20 ready; a voice client asking for one at a time keeps 4, so its skips reach a new
 * decision after a few items instead of twenty, and an idle session holds little.
 */
export function readyTarget(context: Ctx): number {
  const { lookahead } = context.settings;
  return Math.min(lookahead, Math.max(MIN_READY, 2 * (context.ask ?? 0)));
}

function refillCount(context: Ctx): number {
  const want = Math.max(
    readyTarget(context) - context.buffer.length,
    (context.pendingMore?.n ?? 0) - context.buffer.length,
  );
  return Math.min(MAX_REFILL, Math.max(1, want));
}

/**
 * A decision landed (live or from the log): its picks join the buffer; fewer than asked means exhausted.
 * A held `more` is answered in the same update once the buffer covers it or the rules allow no more.
 */
function landed(context: Ctx, state: SessionState, picks: Pick[], requested: number): Partial<Ctx> {
  const buffer = [...context.buffer, ...picks];
  const exhausted = picks.length < requested;
  const halted = exhausted ? 'exhausted' : null;
  const pending = context.pendingMore;
  if (!pending || (buffer.length < pending.n && !exhausted)) return { engine: state, buffer, halted };
  const out = deliver(buffer, context.delivered, context.lastSeq, pending.n, context.settings.historyWindow);
  return {
    engine: state,
    buffer: out.buffer,
    halted,
    delivered: out.delivered,
    lastSeq: out.lastSeq,
    pendingMore: null,
    reply: ok(pending.reqId, out.seqs),
  };
}

/** A refill failed (live or from the log): no retry until the next command; a held `more` is refused. */
function stall(context: Ctx, error: unknown): Partial<Ctx> {
  const pending = context.pendingMore;
  return {
    halted: 'stalled',
    pendingMore: null,
    reply: pending ? engineRefusal(pending.reqId, error) : context.reply,
  };
}

/**
 * Engine feedback or steer, then withdrawal from buffer and window; the reply lists invalidated seqs. The
 * command marks the session active either way.
 */
function applyChange(
  context: Ctx,
  command: Command,
  run: (state: SessionState) => { state: SessionState; withdrawn: number[] },
): Partial<Ctx> {
  try {
    const result = run(context.engine!);
    const after = withdraw(context.buffer, context.delivered, result.withdrawn);
    return {
      engine: result.state,
      buffer: after.buffer,
      delivered: after.delivered,
      version: context.version + 1,
      halted: null,
      reply: changed(command.reqId, after.invalidated, result.withdrawn),
      lastEventAt: command.nowMs,
    };
  } catch (err) {
    return { reply: engineRefusal(command.reqId, err), lastEventAt: command.nowMs };
  }
}

/**
 * The session machine: `starting` → `active` (playback `streaming` ⇄ `paused`, alongside a `feed` that keeps
 * the lookahead buffer filled by a named `refill` actor) → `disconnected` (grace) → `ended`. Commands get a
 * reply in `context.reply`, including coded refusals for events the current state does not take.
 *
 * Each event runs at most one `assign`, because xstate copies the whole context per assign: a command's own
 * update also records its time (`lastEventAt`) and its reply. (The context stays under 20 keys for the same
 * reason: see `SessionContext`.)
 */
export function createSessionMachine(deps: SessionMachineDeps) {
  const { engine } = deps;
  return setup({
    types: {} as { context: Ctx; events: Ev; input: SessionInput; emitted: SessionEmitted },
    actors: {
      refill: fromPromise<RefillOutput, RefillInput>(async ({ input }) => {
        const nowMs = deps.now();
        const { state, picks } = await engine.next(input.state, { n: input.n, nowMs });
        return { state, picks, version: input.version, requested: input.n, nowMs };
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
      isPaused: ({ context }) => context.paused,
      startFails: ({ event }) => {
        if (event.type !== 'user.start') return false;
        try {
          engine.start({ seed: event.seed, intent: event.intent, profile: event.profile });
          return false;
        } catch {
          return true;
        }
      },
      badCount: ({ context, event }) =>
        event.type === 'feed.more' &&
        !(Number.isInteger(event.n) && event.n >= 1 && event.n <= context.settings.maxMore),
      bufferCovers: ({ context, event }) => event.type === 'feed.more' && context.buffer.length >= event.n,
      unknownSeq: ({ context, event }) =>
        event.type === 'user.feedback' && !context.delivered.some((d) => d.seq === event.feedback.seq),
      badLastSeq: ({ context, event }) =>
        event.type === 'client.resumed' &&
        !(Number.isInteger(event.lastSeq) && event.lastSeq >= 0 && event.lastSeq <= context.lastSeq),
      needsRefill: ({ context }) =>
        context.engine !== null &&
        !context.replaying &&
        context.halted === null &&
        (context.buffer.length < readyTarget(context) ||
          (context.pendingMore !== null && context.buffer.length < context.pendingMore.n)),
      // Begun on the current state: no feedback or steer since, and no logged decision replayed over it.
      refillFresh: ({ context, event }) => {
        const { output } = event as unknown as { output: RefillOutput };
        return output.version === context.version && output.state.decisions === context.engine!.decisions + 1;
      },
      idleExpired: ({ context, event }) => cmd(event).nowMs - context.lastEventAt >= context.settings.idleMs,
      idleDue: ({ context }) => deps.now() - context.lastEventAt >= context.settings.idleMs,
      graceExpired: ({ context, event }) =>
        context.disconnectedAt !== null &&
        cmd(event).nowMs - context.disconnectedAt >= context.settings.graceMs,
    },
    actions: {
      rejectInvalidEvent: assign(({ event }, params: { state: string }) => ({
        reply: refusal(
          cmd(event).reqId,
          'SESSION_INVALID_EVENT',
          `"${event.type}" is not allowed while the session is ${params.state}.`,
        ),
      })),
      rejectStart: assign(({ event }) => {
        assertType(event, 'user.start');
        try {
          engine.start({ seed: event.seed, intent: event.intent, profile: event.profile });
          return {};
        } catch (err) {
          return { reply: engineRefusal(event.reqId, err) };
        }
      }),
      startEngine: assign(({ event }) => {
        assertType(event, 'user.start');
        return {
          engine: engine.start({ seed: event.seed, intent: event.intent, profile: event.profile }),
          reply: ok(event.reqId),
          lastEventAt: event.nowMs,
        };
      }),
      // Commands only record their time (`lastEventAt`, in their own assign); the idle timer is armed once per
      // active period and, when it fires early, armed again for the rest (re-arming it on every command was a
      // third of the machine's cost per command).
      armIdle: enqueueActions(({ enqueue }) => {
        enqueue.cancel('idle');
        enqueue.raise({ type: 'session.idle' }, { id: 'idle', delay: 'idle' });
      }),
      disarmIdle: enqueueActions(({ enqueue }) => enqueue.cancel('idle')),
      endReplay: assign(({ event }) => ({ replaying: false, reply: ok(cmd(event).reqId) })),
      rejectBadCount: assign(({ context, event }) => ({
        reply: refusal(
          cmd(event).reqId,
          'SESSION_INVALID_REQUEST',
          `Ask for 1 to ${context.settings.maxMore} items at a time (got ${(event as { n?: unknown }).n}).`,
        ),
      })),
      deliverNow: assign(({ context, event }) => {
        assertType(event, 'feed.more');
        const out = deliver(
          context.buffer,
          context.delivered,
          context.lastSeq,
          event.n,
          context.settings.historyWindow,
        );
        return {
          buffer: out.buffer,
          delivered: out.delivered,
          lastSeq: out.lastSeq,
          ask: event.n,
          reply: ok(event.reqId, out.seqs),
          lastEventAt: event.nowMs,
        };
      }),
      holdMore: assign(({ event }) => {
        assertType(event, 'feed.more');
        // Exhaustion may have passed (time moves the radio rules' windows): let this request try once more.
        return {
          pendingMore: { reqId: event.reqId, n: event.n },
          ask: event.n,
          halted: null,
          lastEventAt: event.nowMs,
        };
      }),
      applyRefill: enqueueActions(({ context, event, enqueue }) => {
        const output = (event as unknown as { output: RefillOutput }).output;
        enqueue.assign(landed(context, output.state, output.picks, output.requested));
        enqueue.emit({
          type: 'session.decision',
          nowMs: output.nowMs,
          seed: context.engine!.seed,
          decision: context.engine!.decisions,
          requested: output.requested,
          picks: output.picks,
        });
      }),
      applyLoggedDecision: assign(({ context, event }) => {
        assertType(event, 'log.decision');
        return landed(context, engine.record(context.engine!, event.picks), event.picks, event.requested);
      }),
      applyLoggedFailure: assign(({ context }) =>
        stall(context, new Error('The engine failed (logged refill failure).')),
      ),
      failRefill: enqueueActions(({ context, event, enqueue }) => {
        const error = (event as unknown as { error: unknown }).error;
        enqueue.assign(stall(context, error));
        enqueue.emit({
          type: 'session.refillFailed',
          code: isOmakaseError(error) ? error.code : 'INTERNAL',
          message: error instanceof Error ? error.message : String(error),
        });
      }),
      rejectUnknownSeq: assign(({ event }) => {
        assertType(event, 'user.feedback');
        return {
          reply: refusal(
            event.reqId,
            'SESSION_UNKNOWN_SEQ',
            `No delivered item has seq ${event.feedback.seq} (never sent, withdrawn, or too old); nothing changed.`,
          ),
        };
      }),
      applyFeedback: assign(({ context, event }) => {
        assertType(event, 'user.feedback');
        const { feedback } = event;
        const pos = context.delivered.find((d) => d.seq === feedback.seq)!.pos;
        // Built with all its keys at once: on Node 20 a rest copy plus a spread that adds `pos` costs ~1 µs.
        const change: Feedback =
          feedback.type === 'skipped'
            ? { type: feedback.type, pos, atMs: feedback.atMs }
            : { type: feedback.type, pos };
        return applyChange(context, event, (state) => engine.feedback(state, change, event.nowMs));
      }),
      applySteer: assign(({ context, event }) => {
        assertType(event, 'user.steer');
        return applyChange(context, event, (state) => engine.steer(state, event.steer, event.nowMs));
      }),
      pause: assign(({ event }) => ({
        paused: true,
        reply: ok(cmd(event).reqId),
        lastEventAt: cmd(event).nowMs,
      })),
      play: assign(({ event }) => ({
        paused: false,
        reply: ok(cmd(event).reqId),
        lastEventAt: cmd(event).nowMs,
      })),
      recordDisconnect: assign(({ event }) => ({
        disconnectedAt: cmd(event).nowMs,
        pendingMore: null,
        reply: ok(cmd(event).reqId),
      })),
      rejectBadLastSeq: assign(({ context, event }) => ({
        reply: refusal(
          cmd(event).reqId,
          'SESSION_INVALID_REQUEST',
          `lastSeq must be an integer from 0 to ${context.lastSeq} (the session's last delivered seq).`,
        ),
      })),
      takeOver: assign(({ context, event }) => {
        assertType(event, 'client.resumed');
        const missed = context.delivered.filter((d) => d.seq > event.lastSeq).map((d) => d.seq);
        return {
          owner: event.connectionId,
          tokenHash: event.tokenHash,
          disconnectedAt: null,
          lastEventAt: event.nowMs,
          // A `more` still held for the old connection died with it: the new one asks again.
          pendingMore: null,
          reply: ok(event.reqId, missed),
        };
      }),
      endAs: assign(({ event }, params: { reason: EndReason }) => {
        const reply: SessionReply | null =
          'reqId' in event
            ? params.reason === 'ended'
              ? ok(event.reqId)
              : refusal(
                  event.reqId,
                  'SESSION_EXPIRED',
                  `The session ended (${params.reason}); start a new one.`,
                )
            : null;
        return { endReason: params.reason, pendingMore: null, ...(reply ? { reply } : {}) };
      }),
      announceEnd: emit(({ context }) => ({
        type: 'session.ended' as const,
        reason: context.endReason ?? 'ended',
      })),
    },
  }).createMachine({
    id: 'session',
    context: ({ input }) => ({
      v: 2,
      sessionId: input.sessionId,
      owner: input.owner,
      tokenHash: input.tokenHash,
      settings: {
        ...input.settings,
        historyWindow: Math.max(input.settings.historyWindow, input.settings.maxMore),
      },
      engine: null,
      buffer: [],
      delivered: [],
      lastSeq: 0,
      ask: 0,
      paused: false,
      version: 0,
      halted: null,
      pendingMore: null,
      reply: null,
      lastEventAt: input.nowMs,
      disconnectedAt: null,
      endReason: null,
      replaying: false,
    }),
    initial: 'starting',
    states: {
      starting: {
        on: {
          'user.start': [
            { guard: 'startFails', actions: 'rejectStart' },
            { target: 'active', actions: 'startEngine' },
          ],
          '*': { guard: 'isCommand', actions: { type: 'rejectInvalidEvent', params: { state: 'starting' } } },
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
                on: { 'user.pause': { target: 'paused', actions: 'pause' } },
              },
              paused: {
                on: { 'user.play': { target: 'streaming', actions: 'play' } },
              },
            },
            on: {
              'feed.more': [
                { guard: 'badCount', actions: 'rejectBadCount' },
                { guard: 'bufferCovers', actions: 'deliverNow' },
                { actions: 'holdMore' },
              ],
              'user.feedback': [
                { guard: 'unknownSeq', actions: 'rejectUnknownSeq' },
                { actions: 'applyFeedback' },
              ],
              'user.steer': { actions: 'applySteer' },
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
              '*': {
                guard: 'isCommand',
                actions: {
                  type: 'rejectInvalidEvent',
                  params: ({ context }) => ({ state: context.paused ? 'paused' : 'streaming' }),
                },
              },
            },
          },
          feed: {
            initial: 'idle',
            states: {
              idle: { always: { guard: 'needsRefill', target: 'refilling' } },
              refilling: {
                invoke: {
                  id: 'refill',
                  src: 'refill',
                  input: ({ context }) => ({
                    state: context.engine!,
                    n: refillCount(context),
                    version: context.version,
                  }),
                  onDone: [
                    { guard: 'refillFresh', target: 'idle', actions: 'applyRefill' },
                    // Feedback or steering changed the state meanwhile: pick again (from `idle`) if still needed.
                    { target: 'idle' },
                  ],
                  onError: { target: 'idle', actions: 'failRefill' },
                },
              },
            },
            on: {
              // A store's log tail, replayed into a restored snapshot: decisions as they were taken.
              'log.decision': { actions: 'applyLoggedDecision' },
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
          '*': {
            guard: 'isCommand',
            actions: { type: 'rejectInvalidEvent', params: { state: 'disconnected: resume it first' } },
          },
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
