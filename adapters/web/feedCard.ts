/**
 * One card of the feed: cover, title, artist, album, tags, the reader's buttons and "Why this?" from the
 * item's reasons (sent in the item frame, so it needs no second request). DOM only; feedPage.ts wires it.
 */
import type { WireItem } from '../protocol.ts';
import type { ItemInfo } from './catalogLookup.ts';
import { coverDataUrl } from './cover.ts';

export type CardAction = 'liked' | 'disliked' | 'skipped' | 'more-like' | 'less-artist';

const SOURCES: Record<string, string> = {
  ann: 'close to what you have been enjoying',
  transition: 'often played after your recent tracks',
  session: 'in sessions like yours',
  intent: 'matches what you asked for',
  explore: 'a little exploration',
};

const minutes = (ms: number) =>
  `${Math.floor(ms / 60000)}:${String(Math.floor((ms % 60000) / 1000)).padStart(2, '0')}`;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** The card's element (an `<li>` holding an `<article>`); `onAction` is called with the button pressed. */
export function createCard(
  seq: number,
  item: WireItem,
  onAction: (action: CardAction) => void,
): HTMLLIElement {
  const titleId = `card-title-${seq}`;
  const li = el('li', { className: `card${item.degraded ? ' is-degraded' : ''}` });
  li.dataset.seq = String(seq);
  li.dataset.id = item.id;
  li.dataset.artist = item.artist;
  li.tabIndex = 0;
  li.setAttribute('aria-labelledby', titleId);

  const cover = el('img', { className: 'cover', alt: '', width: 88, height: 88, decoding: 'async' });
  const title = el('h2', { id: titleId }, el('span', { className: 'seq' }, `#${seq}`), item.title);
  const meta = el('p', { className: 'meta' }, el('span', { className: 'artist' }, item.artist));
  if (item.album) meta.append(` · ${item.album}`);
  meta.append(` · ${minutes(item.durationMs)}`);
  if (item.degraded) meta.append(' · ', el('span', { className: 'degraded' }, 'fallback ranking'));
  const tags = el('ul', { className: 'tags' });
  tags.setAttribute('aria-label', 'Tags');
  const body = el('div', { className: 'body' }, title, meta, tags);

  const actions = el('div', { className: 'actions' });
  actions.setAttribute('role', 'group');
  actions.setAttribute('aria-label', `Feedback on ${item.title}`);
  const button = (act: CardAction, label: string, pressable: boolean, aria?: string) => {
    const b = el('button', { type: 'button', textContent: label });
    b.dataset.act = act;
    if (pressable) b.setAttribute('aria-pressed', 'false');
    if (aria) b.setAttribute('aria-label', aria);
    b.addEventListener('click', () => onAction(act));
    return b;
  };
  actions.append(
    button('liked', 'Like', true),
    button('disliked', 'Dislike', true),
    button('skipped', 'Skip', false),
    button('more-like', 'More like this', false),
    button('less-artist', 'Less of this artist', false, `Less of ${item.artist}`),
  );

  const why = el('details', { className: 'why' }, el('summary', { textContent: 'Why this?' }), whyList(item));
  li.append(cover, body, actions, why);
  showInfo(li, { id: item.id, tags: [] }, item);
  return li;
}

/** Fills in tags and cover once the catalog has answered (or with what is known when it cannot). */
export function showInfo(card: HTMLElement, info: ItemInfo, item: Pick<WireItem, 'title' | 'artist'>): void {
  const cover = card.querySelector('img.cover') as HTMLImageElement;
  const label = `Cover of ${item.title} by ${item.artist}`;
  cover.src = info.imageUrl ?? coverDataUrl(info.id, info.tags.length > 0 ? info.tags : [item.artist], label);
  cover.alt = info.imageUrl ? label : '';
  const tags = card.querySelector('.tags') as HTMLElement;
  tags.replaceChildren(...info.tags.map((t) => el('li', { textContent: t })));
}

function whyList(item: WireItem): HTMLElement {
  const r = item.reasons as
    | {
        source?: string[];
        score?: number;
        rank?: number;
        candidates?: number;
        explored?: boolean;
        rules?: string[];
        model?: string;
        degraded?: boolean;
      }
    | undefined;
  if (!r) return el('p', { textContent: 'The server sent no reasons for this pick.' });
  const dl = el('dl');
  const row = (term: string, value: string) =>
    dl.append(el('dt', { textContent: term }), el('dd', { textContent: value }));
  const sources = (r.source ?? []).map((s) => SOURCES[s] ?? s);
  if (sources.length > 0) row('Because', sources.join('; '));
  if (typeof r.score === 'number') row('Score', r.score.toFixed(3));
  if (typeof r.rank === 'number') {
    row('Ranked', `${r.rank + 1}${typeof r.candidates === 'number' ? ` of ${r.candidates} candidates` : ''}`);
  }
  if (r.explored) row('Exploring', 'yes: picked to learn what you like');
  if (r.rules && r.rules.length > 0) row('Rules met', r.rules.join(', '));
  if (r.model) row('Model', r.degraded && !r.model.includes('fallback') ? `${r.model} (fallback)` : r.model);
  return dl;
}
