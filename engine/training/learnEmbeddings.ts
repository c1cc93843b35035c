import { combineWithTags, trainItem2Vec } from '../../models/item2vec.ts';
import type { Catalog } from '../catalog.ts';
import type { CatalogRow } from '../item.ts';
import type { LoggedSequence } from './trainingSet.ts';

/**
 * Item embeddings learned from listening sessions (item2vec: skip-gram with negative sampling over play
 * sequences), blended with each item's tags and artist so rarely played items still land near their kind.
 * Returns catalog rows carrying the new embeddings, ready to write as a catalog file.
 */
export function learnEmbeddings(
  catalog: Catalog,
  sessions: readonly LoggedSequence[],
  options: {
    dim?: number;
    epochs?: number;
    seed: number;
    onProgress?: (done: number, total: number) => void;
  },
): CatalogRow[] {
  const dim = options.dim ?? 32;
  const sequences: Int32Array[] = [];
  const counts = new Float64Array(catalog.size);
  for (const session of sessions) {
    const seq: number[] = [];
    for (const play of session.items) {
      // A skipped or disliked play says the item did not belong there: keep it out of the context.
      if (play.outcome === 'skipped' || play.outcome === 'disliked') continue;
      const i = catalog.indexOf(play.id);
      if (i === undefined) continue;
      seq.push(i);
      counts[i]++;
    }
    if (seq.length > 1) sequences.push(Int32Array.from(seq));
  }
  const learned = trainItem2Vec(sequences, catalog.size, {
    dim,
    window: 5,
    negatives: 5,
    epochs: options.epochs ?? 5,
    seed: options.seed,
    onProgress: options.onProgress,
  });
  const vectors = combineWithTags(
    learned,
    catalog.items.map((item) => item.tags),
    { dim, seed: options.seed, counts, artists: catalog.items.map((item) => item.artist) },
  );
  return catalog.items.map((item, i) => ({
    ...item,
    embedding: Array.from(vectors.subarray(i * dim, (i + 1) * dim), (v) => Math.round(v * 1e6) / 1e6),
  }));
}
