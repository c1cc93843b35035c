import { steerKey } from '../engine/pool.ts';
import {
  recentEntry,
  type ScoreOutput,
  type SessionContext,
  type SessionEvent,
  stampOf,
} from './sessionContext.ts';
import type { SessionMachineDeps } from './sessionMachineDeps.ts';

type Args = { context: SessionContext; event: SessionEvent };

/** The machine's named guards, as pure functions of the context and the event (and the clock for `idleDue`). */
export function sessionGuards(
  deps: Pick<SessionMachineDeps, 'now'> & { engine: Pick<SessionMachineDeps['engine'], 'poolNeed'> },
) {
  const { engine } = deps;
  return {
    started: ({ context }: Args) => context.engine !== null,
    isCommand: ({ event }: Args) => 'reqId' in event,
    isRepeat: ({ context, event }: Args) => {
      const entry = recentEntry(event);
      return entry !== undefined && context.recent.includes(entry);
    },
    isPaused: ({ context }: Args) => context.paused,
    unknownSeq: ({ context, event }: Args) =>
      event.type === 'user.feedback' && !context.delivered.some((d) => d.seq === event.feedback.seq),
    badLastSeq: ({ context, event }: Args) =>
      event.type === 'client.resumed' &&
      !(Number.isInteger(event.lastSeq) && event.lastSeq >= 0 && event.lastSeq <= context.lastSeq),
    needsScore: ({ context }: Args) =>
      context.engine !== null &&
      !context.replaying &&
      context.halted === null &&
      (context.pendingMore !== null || engine.poolNeed(context.engine, context.pool) !== 'fresh'),
    // Begun before steering made the pool stale: dropped (a new decision follows from `idle`).
    scoreCurrent: ({ context, event }: Args) => {
      const { output } = event as unknown as { output: ScoreOutput };
      const state = context.engine!;
      return output.pool.decision === state.decisions && output.pool.steer === steerKey(state.steers);
    },
    idleExpired: ({ context, event }: Args) =>
      stampOf(event).nowMs - context.lastEventAt >= context.settings.idleMs,
    idleDue: ({ context }: Args) => deps.now() - context.lastEventAt >= context.settings.idleMs,
    graceExpired: ({ context, event }: Args) =>
      context.disconnectedAt !== null &&
      stampOf(event).nowMs - context.disconnectedAt >= context.settings.graceMs,
  };
}
