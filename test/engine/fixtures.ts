import { Catalog } from '../../engine/catalog.ts';
import type { CatalogRow } from '../../engine/item.ts';
import { createRng } from '../../engine/rng.ts';

const MOODS = ['calm', 'mellow', 'upbeat', 'energetic'];

/**
 * A small catalog for engine tests: `artists` artists over 8 genres, albums of 5, four moods; tags and
 * artists shape the derived embeddings, so neighbours are meaningful.
 */
export function smallCatalog(options: { items?: number; artists?: number; seed?: number } = {}): Catalog {
  const items = options.items ?? 1200;
  const artists = options.artists ?? 120;
  const rng = createRng(options.seed ?? 1);
  const rows: CatalogRow[] = [];
  for (let i = 0; i < items; i++) {
    const artist = i % artists;
    const genre = `genre${artist % 8}`;
    rows.push({
      id: `t${i}`,
      title: `Track ${i}`,
      artist: `Artist ${artist}`,
      album: `Album ${artist}-${Math.floor(i / artists / 5)}`,
      tags: [genre, MOODS[(artist + Math.floor(i / artists)) % MOODS.length]],
      durationMs: 120_000 + rng.int(240_000),
      year: 1970 + rng.int(55),
      popularity: Math.floor(10_000 / (1 + rng.int(items))),
    });
  }
  return new Catalog(rows);
}
