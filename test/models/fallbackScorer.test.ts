import { describe, expect, it } from 'vitest';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import { FEATURE_COUNT, FEATURE_INDEX } from '../../models/featureSchema.ts';

describe('createFallbackScorer', () => {
  it('is the degraded fallback', () => {
    const s = createFallbackScorer();
    expect(s.id).toBe('fallback');
    expect(s.degraded).toBe(true);
  });

  it('ranks a row with high sim_query above one with high sim_neg, and penalises disliked artists', async () => {
    const rows = new Float32Array(3 * FEATURE_COUNT);
    rows[0 * FEATURE_COUNT + FEATURE_INDEX.sim_query] = 0.9;
    rows[1 * FEATURE_COUNT + FEATURE_INDEX.sim_neg] = 0.9;
    rows[2 * FEATURE_COUNT + FEATURE_INDEX.sim_query] = 0.9;
    rows[2 * FEATURE_COUNT + FEATURE_INDEX.artist_neg] = 0.9;
    const [liked, disliked, badArtist] = await createFallbackScorer().score(rows, 3);
    expect(liked).toBeGreaterThan(disliked);
    expect(liked).toBeGreaterThan(badArtist);
  });

  it('refuses a batch shorter than count rows with MODEL_RUN_FAILED', async () => {
    await expect(createFallbackScorer().score(new Float32Array(FEATURE_COUNT), 2)).rejects.toMatchObject({
      code: 'MODEL_RUN_FAILED',
    });
  });
});
