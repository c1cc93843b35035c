import { fromPromise } from 'xstate';
import { sessionError } from './errors.ts';
import type { ScoreInput, ScoreOutput, SessionContext } from './sessionContext.ts';
import type { SessionMachineDeps } from './sessionMachineDeps.ts';

/**
 * The machine's named `score` actor: one decision (a scored pool) for the session's state. A refresh of a
 * pool that still serves waits for its slot first (`SessionMachineDeps.refreshSlot`).
 */
export function scoreActor(deps: Pick<SessionMachineDeps, 'engine' | 'now' | 'refreshSlot'>) {
  const { engine } = deps;
  return fromPromise<ScoreOutput, ScoreInput>(async ({ input, signal }) => {
    const nowMs = deps.now();
    if (!input.refresh || !deps.refreshSlot)
      return { pool: (await engine.score(input.state, { nowMs })).pool, nowMs };
    const run = await deps.refreshSlot(input.sessionId, signal);
    // Stopped while waiting: nothing receives the output of a stopped actor.
    if (run === undefined) throw sessionError('SESSION_ENDED', 'The session stopped before its refresh.');
    return run(async () => ({ pool: (await engine.score(input.state, { nowMs })).pool, nowMs }));
  });
}

/** The `score` actor's input for a session in `feed.scoring`. */
export function scoreInput(engine: Pick<SessionMachineDeps['engine'], 'poolNeed'>) {
  return ({ context }: { context: SessionContext }): ScoreInput => ({
    state: context.engine!,
    sessionId: context.sessionId,
    refresh: context.pendingMore === null && engine.poolNeed(context.engine!, context.pool) === 'due',
  });
}
