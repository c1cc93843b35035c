import type { Catalog } from './catalog.ts';
import { engineError } from './errors.ts';
import type { Intent } from './session.ts';

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
  if (intent.tag !== undefined && catalog.byTag(intent.tag.toLowerCase()).length === 0) {
    throw engineError(
      'ENGINE_INVALID_REQUEST',
      `No item has the tag "${intent.tag}"; pick a tag the catalog uses.`,
    );
  }
  if (intent.artist !== undefined && catalog.byArtist(intent.artist).length === 0) {
    throw engineError('ENGINE_INVALID_REQUEST', `The artist "${intent.artist}" is not in the catalog.`);
  }
  const resolved: Intent = { ...intent };
  if (resolved.tag !== undefined) resolved.tag = resolved.tag.toLowerCase();
  if (
    intent.text === undefined ||
    intent.tag !== undefined ||
    intent.artist !== undefined ||
    intent.itemId !== undefined
  ) {
    return resolved;
  }
  const text = ` ${intent.text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
  let bestTag: string | undefined;
  for (const tag of catalog.tags()) {
    if (text.includes(` ${tag} `) && (bestTag === undefined || tag.length > bestTag.length)) bestTag = tag;
  }
  let bestArtist: string | undefined;
  for (const artist of catalog.artists()) {
    const name = ` ${artist.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
    if (
      name.trim().length > 2 &&
      text.includes(name) &&
      (bestArtist === undefined || artist.length > bestArtist.length)
    ) {
      bestArtist = artist;
    }
  }
  // An artist's name is more specific than a genre word it may contain.
  if (bestArtist !== undefined) resolved.artist = bestArtist;
  else if (bestTag !== undefined) resolved.tag = bestTag;
  return resolved;
}
