import type { Catalog } from './catalog.ts';
import type { Pick } from './pick.ts';
import type { Feedback, Intent, Profile, SessionState, Steer } from './session.ts';

/**
 * The pure engine: given a session's state, a clock reading and the state's seed, it returns the next
 * picks and why. It holds the catalog, the retrieval indexes and the model; it keeps no per-session state.
 */
export interface Engine {
  readonly catalog: Catalog;
  /** The model id used for scoring (`fallback` when degraded). */
  readonly modelId: string;
  /** A new session. `seed` makes the whole session reproducible. */
  start(options: { seed: number; intent?: Intent; profile?: Profile }): SessionState;
  /**
   * Picks the next `n` items (1..100). The returned state holds them in its history as queued
   * (no outcome yet). Fewer than `n` only when the catalog has nothing left that the rules allow.
   */
  next(state: SessionState, options: { n: number; nowMs: number }): Promise<{ state: SessionState; picks: Pick[] }>;
  /**
   * Records feedback on a picked position. Queued picks (no outcome yet) that conflict with a negative
   * are withdrawn from the history and returned, so the caller can replace them and tell the client.
   * Throws ENGINE_UNKNOWN_POSITION for a position never picked.
   */
  feedback(state: SessionState, feedback: Feedback, nowMs: number): { state: SessionState; withdrawn: number[] };
  /** Applies steering; like `feedback`, withdraws queued picks that no longer fit. */
  steer(state: SessionState, steer: Steer, nowMs: number): { state: SessionState; withdrawn: number[] };
}
