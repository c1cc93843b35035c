import { describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog.ts';
import type { CatalogRow } from '../../engine/item.ts';

/** Items with tags drawn from `tagCount` names, so the 64-bit tag sets are exact or only an estimate. */
function catalogWith(tagCount: number): Catalog {
  const rows: CatalogRow[] = [];
  for (let i = 0; i < 300; i++) {
    const tags = [...new Set([i % tagCount, (i * 7) % tagCount, (i * 31 + 3) % tagCount])].map(
      (t) => `tag${t}`,
    );
    rows.push({
      id: `i${i}`,
      title: `Track ${i}`,
      artist: `artist${i % 17}`,
      album: `album${i % 5}`,
      durationMs: 180_000,
      popularity: i,
      tags,
    } as CatalogRow);
  }
  return new Catalog(rows);
}

describe('Catalog.hasTag', () => {
  for (const tagCount of [40, 150]) {
    it(`answers as the item's tag list does (${tagCount} tags: the tag sets ${tagCount <= 64 ? 'exact' : 'an estimate'})`, () => {
      const catalog = catalogWith(tagCount);
      expect(catalog.tagNames.length).toBe(tagCount);
      let yes = 0;
      for (let i = 0; i < catalog.size; i++) {
        for (let t = 0; t < catalog.tagNames.length; t++) {
          const has = catalog.items[i].tags.includes(catalog.tagNames[t]);
          expect(catalog.hasTag(i, t)).toBe(has);
          if (has) yes++;
        }
      }
      expect(yes).toBeGreaterThan(600);
    });
  }
});
