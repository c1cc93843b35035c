import type { Catalog } from './catalog.ts';
import { engineError } from './errors.ts';
import type { Intent } from './session.ts';

/** Longest run of spoken words tried as one tag or artist name ("lo fi hip hop" is four). */
const MAX_NAME_WORDS = 6;
/** Spoken text beyond this is not read (a 10 kB slot is not a request for music). */
export const MAX_SPOKEN_CHARS = 200;

/**
 * The words of a tag, an artist name or spoken text, in one form for all three: accents dropped, `&` read as
 * "and", everything that is not a letter or digit a word break, lower-case. `hip-hop`, `Hip Hop` and
 * `hip hop` give the same words; so do `R&B` and `r and b`.
 *
 * @example
 * spokenWords('Lo-Fi Hip-Hop') // ['lo', 'fi', 'hip', 'hop']
 */
export function spokenWords(text: string): string[] {
  return text
    .slice(0, MAX_SPOKEN_CHARS)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** A spoken name matches a catalog name when their words joined without spaces are equal ("lofi" = "lo-fi"). */
const joined = (words: readonly string[]) => words.join('');

export interface SpokenMatch {
  tag?: string;
  artist?: string;
}

interface Names {
  /** Joined words → the catalog's own spelling, the name with most items winning a tie of spellings. */
  tags: Map<string, string>;
  artists: Map<string, string>;
}

const namesByCatalog = new WeakMap<Catalog, Names>();

function namesOf(catalog: Catalog): Names {
  let names = namesByCatalog.get(catalog);
  if (names) return names;
  const index = (all: Iterable<string>, size: (name: string) => number, minChars: number) => {
    const out = new Map<string, string>();
    for (const name of all) {
      const key = joined(spokenWords(name));
      if (key.length < minChars) continue;
      const had = out.get(key);
      if (had === undefined || size(name) > size(had)) out.set(key, name);
    }
    return out;
  };
  names = {
    tags: index(catalog.tags(), (t) => catalog.byTag(t).length, 1),
    // Two-letter artist names ("U2" aside) match too much ordinary speech.
    artists: index(catalog.artists(), (a) => catalog.byArtist(a).length, 3),
  };
  namesByCatalog.set(catalog, names);
  return names;
}

/**
 * The catalog tag and artist named in spoken text, each the longest one found; an artist's name is more
 * specific than a genre word it may contain, so callers prefer `artist` when both are set.
 *
 * @example
 * matchSpoken('play some lofi hip hop', catalog) // { tag: 'lo-fi hip-hop' }
 */
export function matchSpoken(text: string, catalog: Catalog): SpokenMatch {
  const words = spokenWords(text);
  const { tags, artists } = namesOf(catalog);
  const match: SpokenMatch = {};
  let tagLength = 0;
  let artistLength = 0;
  for (let i = 0; i < words.length; i++) {
    let key = '';
    for (let j = i; j < Math.min(words.length, i + MAX_NAME_WORDS); j++) {
      key += words[j];
      const tag = tags.get(key);
      if (tag !== undefined && key.length > tagLength) {
        match.tag = tag;
        tagLength = key.length;
      }
      const artist = artists.get(key);
      if (artist !== undefined && key.length > artistLength) {
        match.artist = artist;
        artistLength = key.length;
      }
    }
  }
  return match;
}

/** The catalog's spelling of a tag given in any spelling (`Hip Hop` → `hip-hop`); undefined if none. */
export function catalogTag(tag: string, catalog: Catalog): string | undefined {
  if (catalog.byTag(tag).length > 0) return tag;
  const key = joined(spokenWords(tag));
  return namesOf(catalog).tags.get(key);
}

/**
 * Checks an intent against the catalog and turns free text ("play some jazz") into a tag or an artist.
 * Text that names nothing in the catalog leaves a plain "play music" intent: the stream still starts.
 */
export function resolveIntent(intent: Intent, catalog: Catalog): Intent {
  if (intent.itemId !== undefined && catalog.indexOf(intent.itemId) === undefined) {
    throw engineError(
      'ENGINE_UNKNOWN_ITEM',
      `The intent names item "${intent.itemId}", which is not in the catalog.`,
    );
  }
  const tag = intent.tag === undefined ? undefined : catalogTag(intent.tag, catalog);
  if (intent.tag !== undefined && tag === undefined) {
    throw engineError(
      'ENGINE_INVALID_REQUEST',
      `No item has the tag "${intent.tag}"; pick a tag the catalog uses.`,
    );
  }
  if (intent.artist !== undefined && catalog.byArtist(intent.artist).length === 0) {
    throw engineError('ENGINE_INVALID_REQUEST', `The artist "${intent.artist}" is not in the catalog.`);
  }
  const resolved: Intent = { ...intent };
  if (tag !== undefined) resolved.tag = tag;
  if (
    intent.text === undefined ||
    intent.tag !== undefined ||
    intent.artist !== undefined ||
    intent.itemId !== undefined
  ) {
    return resolved;
  }
  const match = matchSpoken(intent.text, catalog);
  if (match.artist !== undefined) resolved.artist = match.artist;
  else if (match.tag !== undefined) resolved.tag = match.tag;
  return resolved;
}
