import type { Catalog } from '../../engine/catalog.ts';
import { matchSpoken } from '../../engine/intent.ts';

/** Spoken words said back to the listener are cut to this: a 10 kB slot is not read out. */
const MAX_QUOTED_CHARS = 60;

/** What the listener asked for, as the catalog names it; `intent` is undefined when it names nothing. */
export interface SpokenRequest {
  intent?: { tag: string; artist?: undefined } | { artist: string; tag?: undefined };
  /** The catalog's own tag or artist, to be said ("Playing hip-hop."). */
  name: string;
}

/** Spoken text ("some lofi hip hop") matched to a catalog tag or artist, an artist first. */
export function resolveSpoken(text: string, catalog: Catalog): SpokenRequest {
  const match = matchSpoken(text, catalog);
  if (match.artist !== undefined) return { intent: { artist: match.artist }, name: quoted(match.artist) };
  if (match.tag !== undefined) return { intent: { tag: match.tag }, name: quoted(match.tag) };
  return { name: quoted(text) };
}

/** Text to be said back, cut at a word break to a short phrase. */
export function quoted(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= MAX_QUOTED_CHARS) return flat;
  const cut = flat.slice(0, MAX_QUOTED_CHARS);
  const space = cut.lastIndexOf(' ');
  return `${space > MAX_QUOTED_CHARS / 2 ? cut.slice(0, space) : cut}…`;
}

/**
 * Starting points for "play music" streams: a stream seeded by one of the catalog's better-known items,
 * drawn at random, so launches do not all open on the few items a cold session ranks first.
 */
export function createOpenings(catalog: Catalog, random: () => number): () => { itemId?: string } {
  let pool: string[] | undefined;
  return () => {
    pool ??= catalog.items
      .map((item, i) => ({ id: item.id, popularity: item.popularity, i }))
      .sort((a, b) => b.popularity - a.popularity || a.i - b.i)
      .slice(0, Math.min(catalog.size, Math.max(200, Math.ceil(catalog.size * 0.05))))
      .map((item) => item.id);
    if (pool.length === 0) return {};
    return { itemId: pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))] };
  };
}
