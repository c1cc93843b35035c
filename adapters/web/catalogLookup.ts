import type { Catalog } from '../../engine/catalog.ts';
import { resolveIntent } from '../../engine/intent.ts';
import type { WireSteer } from '../protocol.ts';

/** What the page shows of an item beyond the `item` frame: its tags, and a cover when the catalog has one. */
export interface ItemInfo {
  id: string;
  tags: readonly string[];
  year?: number;
  /** An https (or data:) image; the page draws a cover from the id and tags when absent. */
  imageUrl?: string;
}

/** The catalog as the page's helper routes see it. */
export interface CatalogLookup {
  info(id: string): ItemInfo | undefined;
  /** The mood tags the catalog uses, for the steering chips. */
  moods(): string[];
  /** Free text ("more jazz", "less ABBA") as a steer, or undefined when it names nothing in the catalog. */
  steerFor(text: string): WireSteer | undefined;
}

/** Mood words the page offers as chips when the catalog uses them, calm to energetic, then by feeling. */
export const MOOD_WORDS = [
  'calm',
  'mellow',
  'upbeat',
  'energetic',
  'dark',
  'melancholic',
  'bright',
  'happy',
] as const;

const LESS = /^\s*(less|no|not|fewer|without|skip)\b/i;

/**
 * The page's view of a catalog: tags and covers by id, the moods it has, and free-text steering resolved the
 * way a `hello` intent's text is (engine/intent.ts).
 */
export function catalogLookup(catalog: Catalog): CatalogLookup {
  const tags = new Set(catalog.tags());
  return {
    info(id) {
      const item = catalog.get(id);
      if (!item) return undefined;
      const info: ItemInfo = { id, tags: item.tags };
      if (item.year !== undefined) info.year = item.year;
      // The catalog parser checked it: an https or data:image/ URL.
      if (item.imageUrl !== undefined) info.imageUrl = item.imageUrl;
      return info;
    },
    moods: () => MOOD_WORDS.filter((m) => tags.has(m)),
    steerFor(text) {
      const resolved = resolveIntent({ text }, catalog);
      if (resolved.artist !== undefined) {
        return LESS.test(text)
          ? { kind: 'less-artist', artist: resolved.artist }
          : { kind: 'artist', artist: resolved.artist };
      }
      if (resolved.tag !== undefined) {
        return (MOOD_WORDS as readonly string[]).includes(resolved.tag)
          ? { kind: 'mood', tag: resolved.tag }
          : { kind: 'tag', tag: resolved.tag };
      }
      return undefined;
    },
  };
}
