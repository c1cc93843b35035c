import { Catalog } from '../../../engine/catalog.ts';
import { createEngine } from '../../../engine/engine.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { smallCatalog } from '../../engine/fixtures.ts';

/** An engine on a catalog whose every title is a script tag and every artist an attribute break-out. */
export function hostileEngine() {
  const rows = smallCatalog({ items: 300, artists: 30 }).items.map((item) => ({
    ...item,
    title: `<script>alert("${item.id}")</script>`,
    artist: `"><img src=x onerror=alert(1)> ${item.artist}`,
  }));
  return createEngine({ catalog: new Catalog(rows), scorer: createFallbackScorer() });
}
