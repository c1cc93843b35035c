import { setup } from 'xstate';
import { scoreActor, scoreInput } from './scoreActor.ts';
import { sessionActions } from './sessionActions.ts';
import type { SessionContext, SessionEmitted, SessionEvent, SessionInput } from './sessionContext.ts';
import { sessionDelays } from './sessionDelays.ts';
import { sessionGuards } from './sessionGuards.ts';
import type { SessionMachineDeps } from './sessionMachineDeps.ts';

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
export type { SessionMachineDeps } from './sessionMachineDeps.ts';

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
  return setup({
    types: {} as {
      context: SessionContext;
      events: SessionEvent;
      input: SessionInput;
      emitted: SessionEmitted;
    },
    actors: { score: scoreActor(deps) },
    delays: sessionDelays(deps),
    guards: sessionGuards(deps),
    actions: sessionActions(deps),
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
        always: { guard: 'started', target: 'active' },
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
                  input: scoreInput(deps.engine),
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
