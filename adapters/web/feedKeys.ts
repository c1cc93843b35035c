/**
 * The feed page's keyboard: j and k move between cards, w opens a card's "why", and l, d, s, m, a act on the
 * focused card as its buttons do. Keys typed into a form field are left alone.
 */
import type { CardAction } from './feedCard.ts';
import { feed } from './pageElements.ts';

/** Moves the focus `step` cards on from `from` (to the first card when `from` is not one). */
export function focusSibling(from: Element, step: 1 | -1): void {
  const cards = [...feed.querySelectorAll<HTMLElement>('.card:not(.withdrawn)')];
  const at = cards.indexOf(from as HTMLElement);
  const next = cards[at < 0 ? 0 : Math.max(0, Math.min(cards.length - 1, at + step))];
  next?.focus();
  next?.scrollIntoView({ block: 'nearest' });
}

const KEYS: Record<string, CardAction> = {
  l: 'liked',
  d: 'disliked',
  s: 'skipped',
  m: 'more-like',
  a: 'less-artist',
};

/** Listens for the keys; `act` runs a card's action on the card with that seq. */
export function installFeedKeys(act: (seq: number, action: CardAction) => void): void {
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target as HTMLElement;
    if (target.closest('input, textarea, select')) return;
    const card = target.closest<HTMLElement>('.card');
    if (event.key === 'j' || event.key === 'k') {
      event.preventDefault();
      if (card) focusSibling(card, event.key === 'j' ? 1 : -1);
      else feed.querySelector<HTMLElement>('.card:not(.withdrawn)')?.focus();
      return;
    }
    if (!card) return;
    const seq = Number(card.dataset.seq);
    if (event.key === 'w') {
      const why = card.querySelector('details');
      if (why) why.open = !why.open;
    } else if (KEYS[event.key]) {
      act(seq, KEYS[event.key]);
    }
  });
}
