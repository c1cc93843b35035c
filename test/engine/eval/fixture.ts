import { Catalog } from '../../../engine/catalog.ts';
import type { CatalogRow } from '../../../engine/item.ts';
import { createRng } from '../../../engine/rng.ts';

/**
 * A small synthetic world: 240 items by 40 artists in 4 genres, and sessions that stay within one genre
 * and walk through it in a fixed order (so transitions and co-occurrence carry signal).
 */
export function syntheticWorld(sessions = 80): {
  catalog: Catalog;
  sessions: { id: string; items: { id: string }[] }[];
} {
  const genres = ['jazz', 'rock', 'pop', 'folk'];
  const rows: CatalogRow[] = [];
  for (let i = 0; i < 240; i++) {
    const genre = genres[i % 4];
    rows.push({
      id: `i${i}`,
      title: `Item ${i}`,
      artist: `${genre}-artist-${Math.floor(i / 4) % 10}`,
      album: `album-${Math.floor(i / 8)}`,
      tags: [genre],
      durationMs: 180_000 + (i % 7) * 10_000,
      popularity: 240 - i,
    });
  }
  const catalog = new Catalog(rows);
  const rng = createRng(99);
  const out: { id: string; items: { id: string }[] }[] = [];
  for (let s = 0; s < sessions; s++) {
    const g = s % 4;
    const members = rows.filter((_, i) => i % 4 === g).map((r) => r.id);
    let at = rng.int(members.length);
    const items: { id: string }[] = [];
    const length = 20 + rng.int(30);
    for (let k = 0; k < length; k++) {
      items.push({ id: members[at] });
      at = (at + 1 + (rng.next() < 0.2 ? rng.int(3) : 0)) % members.length;
    }
    out.push({ id: `s${s}`, items });
  }
  return { catalog, sessions: out };
}
