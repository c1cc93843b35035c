import type { Catalog } from '../catalog.ts';
import type { SessionState } from '../session.ts';

/** Items a decision must not consider: played within the freshness window, disliked, by a blocked artist. */
export function exclusions(state: SessionState, catalog: Catalog): (index: number) => boolean {
  // One flag per item: a decision probes thousands of items, and a typed array answers faster than a set.
  const excluded = new Uint8Array(catalog.size);
  const mark = (id: string) => {
    const i = catalog.indexOf(id);
    if (i !== undefined) excluded[i] = 1;
  };
  for (const h of state.history) mark(h.id);
  for (const id of state.olderIds) mark(id);
  for (const id of state.dislikedIds) mark(id);
  for (const b of state.blockedArtists) {
    if (b.untilPos <= state.nextPos) continue;
    for (const i of catalog.byArtist(b.artist)) excluded[i] = 1;
  }
  return (i) => excluded[i] === 1;
}
