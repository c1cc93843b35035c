/** One playable item of a catalog, as the engine sees it after loading. */
export interface Item {
  id: string;
  title: string;
  artist: string;
  /** Album title; items without an album are never grouped with each other by the album rules. */
  album?: string;
  /** Genres and moods, lower-case (e.g. `jazz`, `calm`). */
  tags: string[];
  durationMs: number;
  year?: number;
  /** Any non-negative number; only its order and log scale matter. */
  popularity: number;
  /** Where a player streams the item from (an https URL); the voice adapter's template is the fallback. */
  streamUrl?: string;
  /** A cover image for the item (an https URL, or a `data:image/` one); the page draws one when absent. */
  imageUrl?: string;
}

/** A catalog row as written in the JSONL file format (docs/data-format.md). */
export interface CatalogRow extends Item {
  /** Unit-normalised on load; if absent for every row, the engine derives one from tags and artist. */
  embedding?: number[];
}
