import type { Catalog } from '../catalog.ts';
import type { Steer } from '../session.ts';

/**
 * What the listener's steering orders, as a test on catalog items: "play more by X" (`artist`), "something
 * calmer" (`mood`), "some rock" (`tag`). Items that meet every such steer lead: a decision keeps them in its
 * pool whatever their score, and a pick ranks them first (the spacing rules still apply), so the very next
 * item answers the order instead of leaving it to the model to weigh. When no item of the catalog meets them
 * all, the newest leads alone. Undefined without such steering (then the steers only move the query).
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
      tests.push((i) => catalog.hasTag(i, tag));
    }
  }
  if (tests.length === 0) return undefined;
  // A loop, not `tests.every`: this runs for every candidate of every pick, and a callback per call allocates.
  const lead = (i: number) => {
    for (const test of tests) if (!test(i)) return false;
    return true;
  };
  const leading = steers.filter(
    (s) => s.steer.kind === 'artist' || s.steer.kind === 'tag' || s.steer.kind === 'mood',
  );
  const membersOf = (steer: Steer) =>
    steer.kind === 'artist'
      ? catalog.byArtist(steer.artist)
      : steer.kind === 'tag' || steer.kind === 'mood'
        ? catalog.byTag(steer.tag)
        : [];
  if (leading.length > 0 && membersOf(leading[0].steer).some(lead)) return lead;
  // Steering nothing in the catalog meets all of (calm death metal): the newest steer leads alone; if nothing
  // meets even that, the query still moves.
  const newest = tests.at(-1)!;
  return leading.length > 1 && membersOf(leading.at(-1)!.steer).some(newest) ? newest : undefined;
}
