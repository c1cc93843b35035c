import type { Catalog } from '../catalog.ts';
import type { Steer } from '../session.ts';

/**
 * What the listener's steering orders, as a test on catalog items: "play more by X" (`artist`), "something
 * calmer" (`mood`), "some rock" (`tag`). Items that meet every such steer lead: a decision keeps them in its
 * pool whatever their score, and a pick ranks them first (the spacing rules still apply), so the very next
 * item answers the order instead of leaving it to the model to weigh. Undefined without such steering, or
 * when no item of the catalog meets it all (then the steers only move the query).
 */
export function steerLead(
  catalog: Catalog,
  steers: readonly { steer: Steer }[],
): ((index: number) => boolean) | undefined {
  const tests: ((index: number) => boolean)[] = [];
  for (const { steer } of steers) {
    if (steer.kind === 'artist') {
      const members = catalog.byArtist(steer.artist);
      if (members.length === 0) continue;
      const artist = catalog.artistIds[members[0]];
      tests.push((i) => catalog.artistIds[i] === artist);
    } else if (steer.kind === 'tag' || steer.kind === 'mood') {
      const tag = catalog.tagNumber(steer.tag);
      if (tag === undefined) continue;
      const { tagIds, tagOffsets } = catalog;
      tests.push((i) => {
        for (let t = tagOffsets[i]; t < tagOffsets[i + 1]; t++) if (tagIds[t] === tag) return true;
        return false;
      });
    }
  }
  if (tests.length === 0) return undefined;
  const lead = (i: number) => tests.every((test) => test(i));
  // Steering nothing in the catalog meets (calm death metal) cannot lead; the query still moves.
  const members = steers.find(
    (s) => s.steer.kind === 'artist' || s.steer.kind === 'tag' || s.steer.kind === 'mood',
  );
  const pool =
    members?.steer.kind === 'artist'
      ? catalog.byArtist(members.steer.artist)
      : members && (members.steer.kind === 'tag' || members.steer.kind === 'mood')
        ? catalog.byTag(members.steer.tag)
        : [];
  return pool.some(lead) ? lead : undefined;
}
