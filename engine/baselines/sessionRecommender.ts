/** The least a training session must carry for the baselines: its ordered item ids (a `LoggedSession` fits). */
export interface TrainSession {
  id: string;
  items: readonly { id: string }[];
  /** When the session started (ms since the epoch), if known: the time-aware baselines (STAN) read it. */
  startMs?: number;
}

/** What a recommender may know about the moment it is asked, besides the prefix. */
export interface RecommendContext {
  /** The current time (ms since the epoch), if known; STAN decays older neighbour sessions by it. */
  nowMs?: number;
}

/**
 * A next-item recommender judged by the evaluation harness: fitted once on training sessions, then asked
 * for the `k` best next items after a prefix of item ids. Items in `exclude` are never returned.
 */
export interface SessionRecommender {
  readonly name: string;
  fit(train: readonly TrainSession[]): void;
  recommend(
    prefix: readonly string[],
    k: number,
    exclude?: ReadonlySet<string>,
    context?: RecommendContext,
  ): string[];
}
