import type { Engine } from '../engine/engine.ts';
import type { ScoredPool } from '../engine/pool.ts';
import type { SessionState } from '../engine/session.ts';

/**
 * A logged decision's candidate set scored again by `engine` (another model, or the same one to check drift)
 * at the state it was scored at: the same items, in the order the new scores give them, keeping the logged
 * pool's numbering (decision, position, signal count, steering) so the slate policy treats it as that decision.
 *
 * @example
 * const again = await rescoredPool(other, walked.scoredAt, walked.pool, walked.entry.nowMs);
 */
export async function rescoredPool(
  engine: Engine,
  state: SessionState,
  logged: ScoredPool,
  nowMs: number,
): Promise<ScoredPool> {
  const { pool } = await engine.scoreCandidates(state, logged.items, { nowMs, sources: logged.sources });
  return {
    ...pool,
    decision: logged.decision,
    fromPos: logged.fromPos,
    signal: logged.signal,
    steer: logged.steer,
    candidates: logged.candidates,
  };
}

/**
 * Kendall's tau-b between two scorings of the same items (aligned arrays): 1 for the same order, −1 for the
 * reverse, ties counted as neither; 1 when fewer than two items (nothing to disagree on).
 *
 * @example
 * kendallTau([3, 2, 1], [30, 20, 10]); // 1
 * kendallTau([3, 2, 1], [10, 20, 30]); // -1
 */
export function kendallTau(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(a[i]! - a[j]!);
      const db = Math.sign(b[i]! - b[j]!);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denominator === 0 ? 1 : (concordant - discordant) / denominator;
}
