/**
 * What the engine needs from a ranking model: score a batch of candidates in one call.
 * `features` is row-major, `count` rows of `FEATURE_COUNT` float32 columns (see featureSchema.ts).
 */
export interface Scorer {
  /** Name and version for reasons and logs, e.g. `omakase-demo@3`; `fallback` for the simple scorer. */
  readonly id: string;
  /** True for the simple scorer the engine falls back to when the model cannot run. */
  readonly degraded: boolean;
  /**
   * How many leading columns of each row the model reads: a model of an earlier (prefix) schema reads fewer
   * (`PREFIX_SCHEMAS`). Absent: all of them. The engine skips computing a column no model of it reads.
   */
  readonly columns?: number;
  score(features: Float32Array, count: number): Promise<Float32Array>;
}
