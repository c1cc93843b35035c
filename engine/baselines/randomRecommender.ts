import { createRng, type Rng } from '../rng.ts';
import { SessionIndex } from './sessionIndex.ts';
import type { SessionRecommender, TrainSession } from './sessionRecommender.ts';

/** Uniformly random training items, seeded: the same seed and the same calls give the same lists. */
export class RandomRecommender implements SessionRecommender {
  readonly name = 'random';
  private index = new SessionIndex([]);
  private rng: Rng;

  constructor(private readonly seed = 1) {
    this.rng = createRng(seed);
  }

  fit(train: readonly TrainSession[]): void {
    this.index = new SessionIndex(train);
    this.rng = createRng(this.seed);
  }

  recommend(_prefix: readonly string[], k: number, exclude?: ReadonlySet<string>): string[] {
    const n = this.index.itemCount;
    const picked = new Set<string>();
    // Rejection sampling is fine while k is far below the catalog; the attempt cap ends it otherwise.
    for (let attempts = 0; picked.size < Math.min(k, n) && attempts < 20 * k + 100; attempts++) {
      const id = this.index.ids[this.rng.int(n)];
      if (!exclude?.has(id)) picked.add(id);
    }
    return [...picked];
  }
}
