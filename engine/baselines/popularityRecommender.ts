import { SessionIndex } from './sessionIndex.ts';
import type { SessionRecommender, TrainSession } from './sessionRecommender.ts';

/** The most played training items, whatever the session: the floor every method must clear. */
export class PopularityRecommender implements SessionRecommender {
  readonly name = 'popularity';
  private index = new SessionIndex([]);

  fit(train: readonly TrainSession[]): void {
    this.index = new SessionIndex(train);
  }

  recommend(_prefix: readonly string[], k: number, exclude?: ReadonlySet<string>): string[] {
    const out: string[] = [];
    for (const idx of this.index.byPopularity) {
      if (out.length >= k) break;
      const id = this.index.ids[idx];
      if (!exclude?.has(id)) out.push(id);
    }
    return out;
  }
}
