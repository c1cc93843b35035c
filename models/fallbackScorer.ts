import { modelError } from './errors.ts';
import { FEATURE_COUNT, FEATURE_INDEX, type FeatureName } from './featureSchema.ts';
import type { Scorer } from './scorer.ts';

/**
 * The documented fallback blend: hand-set weights over a few features that need no training. Used only when
 * no model is configured or the model cannot run, so its scores are marked degraded.
 */
export const FALLBACK_WEIGHTS: Readonly<Partial<Record<FeatureName, number>>> = {
  sim_query: 1.0,
  transition: 0.6,
  sknn: 0.8,
  sim_pos: 0.5,
  sim_neg: -0.8,
  artist_neg: -0.5,
  popularity: 0.1,
};

/** A linear scorer over FALLBACK_WEIGHTS (id `fallback`, degraded: true). */
export function createFallbackScorer(): Scorer {
  const entries = Object.entries(FALLBACK_WEIGHTS) as [FeatureName, number][];
  const columns = Int32Array.from(entries, ([name]) => FEATURE_INDEX[name]);
  const weights = Float64Array.from(entries, ([, w]) => w);
  return {
    id: 'fallback',
    degraded: true,
    async score(features: Float32Array, count: number): Promise<Float32Array> {
      if (!Number.isInteger(count) || count < 0 || features.length < count * FEATURE_COUNT) {
        throw modelError(
          'MODEL_RUN_FAILED',
          `score() got ${features.length} values for ${count} rows of ${FEATURE_COUNT} features; pass count × ${FEATURE_COUNT} values.`,
          { details: { count, length: features.length } },
        );
      }
      const out = new Float32Array(count);
      for (let r = 0; r < count; r++) {
        const base = r * FEATURE_COUNT;
        let s = 0;
        for (let k = 0; k < columns.length; k++) s += weights[k] * features[base + columns[k]];
        out[r] = s;
      }
      return out;
    },
  };
}
