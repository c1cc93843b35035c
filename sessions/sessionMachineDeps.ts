import type { Engine } from '../engine/engine.ts';
import type { RefreshRun } from './refreshQueue.ts';

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
