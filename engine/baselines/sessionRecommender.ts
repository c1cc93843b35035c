/** The least a training session must carry for the baselines: its ordered item ids (a `LoggedSession` fits). */
export interface TrainSession {
  id: string;
  items: readonly { id: string }[];
}

/**
 * A next-item recommender judged by the evaluation harness: fitted once on training sessions, then asked
 * for the `k` best next items after a prefix of item ids. Items in `exclude` are never returned.
 */
export interface SessionRecommender {
  readonly name: string;
  fit(train: readonly TrainSession[]): void;
  recommend(prefix: readonly string[], k: number, exclude?: ReadonlySet<string>): string[];
}
