import type { Catalog } from '../catalog.ts';
import type { SessionState } from '../session.ts';

/** Items a decision must not consider: played within the freshness window, disliked, by a blocked artist. */
export function exclusions(state: SessionState, catalog: Catalog): (index: number) => boolean {
  const seen = new Set<number>();
  const mark = (id: string) => {
    const i = catalog.indexOf(id);
    if (i !== undefined) seen.add(i);
  };
  for (const h of state.history) mark(h.id);
  for (const id of state.olderIds) mark(id);
  for (const id of state.dislikedIds) mark(id);
  const blocked = new Set(
    state.blockedArtists.filter((b) => b.untilPos > state.nextPos).map((b) => b.artist),
  );
  if (blocked.size === 0) return (i) => seen.has(i);
  return (i) => seen.has(i) || blocked.has(catalog.items[i].artist);
}
