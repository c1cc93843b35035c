/** Where a candidate came from. */
export const SOURCES = ['ann', 'transition', 'explore', 'intent', 'session', 'artist'] as const;
export type Source = (typeof SOURCES)[number];

/** Why an item was picked: enough for a QA reader or a replay to see the decision. */
export interface PickReasons {
  source: Source[];
  /** Model score (or fallback score when `degraded`). */
  score: number;
  /**
   * What feedback given after the model scored this item added to its score before the policy chose
   * (absent when nothing was said since): the listener's latest word, felt at the very next pick.
   */
  correction?: number;
  /** Rank by score among eligible candidates before diversity (0 = best). */
  rank: number;
  /** The value the slate policy maximised (score blended with diversity). */
  mmr: number;
  explored: boolean;
  degraded: boolean;
  model: string;
  /** Rules the pick was checked against and met. */
  rules: string[];
  /** For the whole decision: how many candidates each rule removed. */
  removed: Record<string, number>;
  /** How many candidates its decision retrieved and scored. */
  candidates: number;
  /** The decision (the session's scoring count) whose pool it came from. */
  decision?: number;
}

export interface Pick {
  pos: number;
  id: string;
  title: string;
  artist: string;
  album?: string;
  durationMs: number;
  startMs: number;
  score: number;
  /** Probability this pick had under the policy's exploration (for counterfactual evaluation). */
  propensity: number;
  reasons: PickReasons;
}
