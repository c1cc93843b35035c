import type { Engine } from './engine.ts';
import type { Pick } from './pick.ts';
import type { ScoredPool } from './pool.ts';
import type { SessionState } from './session.ts';

/** A session as a tool drives it, one request at a time: its state, and the pool its picks come from. */
export interface StreamCursor {
  state: SessionState;
  pool: ScoredPool | null;
}

/**
 * The next `n` picks the way a served session takes them: a new decision when the pool is stale or due
 * (the session machine runs that decision in the background as soon as it is due, so it has landed by the
 * next request), then the picks from the pool against the state as it is now. A pool that runs out before
 * `n` is scored again once; fewer than `n` after that means the rules allow no more.
 *
 * @example
 * let cursor = { state: engine.start({ seed: 7 }), pool: null };
 * const { cursor: next, picks } = await nextPicks(engine, cursor, 1, nowMs);
 */
export async function nextPicks(
  engine: Engine,
  cursor: StreamCursor,
  n: number,
  nowMs: number,
): Promise<{ cursor: StreamCursor; picks: Pick[]; decided: number }> {
  let { state, pool } = cursor;
  let decided = 0;
  if (pool === null || engine.poolNeed(state, pool) !== 'fresh') {
    ({ state, pool } = await engine.score(state, { nowMs }));
    decided++;
  }
  let out = engine.pick(state, pool, { n, nowMs });
  if (out.picks.length < n && pool.fromPos !== state.nextPos) {
    ({ state, pool } = await engine.score(state, { nowMs }));
    decided++;
    out = engine.pick(state, pool, { n, nowMs });
  }
  return { cursor: { state: out.state, pool }, picks: out.picks, decided };
}
