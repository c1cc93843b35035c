/**
 * Tags and covers for the feed's cards: the items that arrive in one burst are looked up with one request to
 * `/api/items` (at most 100 ids each); without a catalog the cards keep the covers drawn from their ids.
 */
import type { WireItem } from '../protocol.ts';
import type { ItemInfo } from './catalogLookup.ts';

export interface InfoLoader {
  /** Asks for an item's tags and cover, in the next request. */
  want(item: WireItem): void;
}

export function createInfoLoader(
  /** Called with each item's info as it arrives. */
  apply: (info: ItemInfo) => void,
  showError: (err: { code: string; message: string }) => void,
): InfoLoader {
  const infoWanted = new Map<string, WireItem>();
  let infoScheduled = false;
  let catalogMissing = false;

  function want(item: WireItem): void {
    if (catalogMissing) return;
    infoWanted.set(item.id, item);
    if (!infoScheduled) {
      infoScheduled = true;
      setTimeout(loadInfo, 0);
    }
  }

  async function loadInfo(): Promise<void> {
    infoScheduled = false;
    const batch = [...infoWanted.values()].slice(0, 100);
    for (const item of batch) infoWanted.delete(item.id);
    if (infoWanted.size > 0) want(infoWanted.values().next().value as WireItem);
    try {
      const res = await fetch(`/api/items?ids=${batch.map((i) => encodeURIComponent(i.id)).join(',')}`);
      const body = (await res.json()) as { items?: ItemInfo[]; error?: { code: string; message: string } };
      if (body.error) {
        // Without a catalog the cards keep the covers drawn from their ids; nothing is wrong with the feed.
        if (body.error.code === 'WEB_NO_CATALOG') catalogMissing = true;
        else showError(body.error);
        return;
      }
      for (const info of body.items ?? []) apply(info);
    } catch (err) {
      showError({
        code: 'WEB_FETCH_FAILED',
        message: `Could not load tags and covers (${(err as Error).message}).`,
      });
    }
  }

  return { want };
}
