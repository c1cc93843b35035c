/**
 * What the reader saw of each card, from when it was really on screen: `started` once a card has been in
 * view for a moment, then `completed` or `skipped` (with how long it was read) when it leaves the view.
 * Pure bookkeeping with an injected clock; the page feeds it IntersectionObserver entries.
 */

/** In view this long (ms, summed over visits) before a card counts as seen: `started`. */
export const STARTED_MS = 1000;
/** Read this long before it left the view: `completed`; less is a `skipped` at the time read. */
export const COMPLETED_MS = 4000;

export type DwellFeedback =
  | { seq: number; kind: 'started' }
  | { seq: number; kind: 'completed' }
  | { seq: number; kind: 'skipped'; atMs: number };

interface Card {
  dwellMs: number;
  since: number | undefined;
  started: boolean;
  done: boolean;
  liked: boolean;
}

export class DwellTracker {
  private readonly cards = new Map<number, Card>();
  private hidden = false;

  constructor(
    private readonly now: () => number,
    private readonly send: (feedback: DwellFeedback) => void,
  ) {}

  /** A card entered or left the view. */
  visible(seq: number, inView: boolean): void {
    const card = this.card(seq);
    if (card.done) return;
    if (inView && !this.hidden) {
      card.since ??= this.now();
      return;
    }
    if (!inView) {
      this.pause(card);
      this.checkStarted(seq, card);
      if (card.started) this.finish(seq, card);
    }
  }

  /** Called on a timer while cards are in view: sends `started` for those seen long enough. */
  tick(): void {
    for (const [seq, card] of this.cards) this.checkStarted(seq, card);
  }

  /**
   * The reader rated the card. A dislike is the last word on it (a later `skipped` would overwrite it); a
   * liked card that leaves the view is `completed`, however briefly it was read.
   */
  rated(seq: number, kind: 'liked' | 'disliked'): void {
    const card = this.card(seq);
    if (kind === 'disliked') {
      this.pause(card);
      card.done = true;
    } else {
      card.liked = true;
    }
  }

  /** The tab was hidden or shown again: time with the page hidden is not reading time. */
  pageHidden(hidden: boolean): void {
    this.hidden = hidden;
    for (const card of this.cards.values()) {
      if (hidden) this.pause(card);
    }
  }

  /** How long the card has been read, in ms. */
  dwell(cardOrSeq: Card | number): number {
    const card = typeof cardOrSeq === 'number' ? this.cards.get(cardOrSeq) : cardOrSeq;
    if (!card) return 0;
    return card.dwellMs + (card.since === undefined ? 0 : this.now() - card.since);
  }

  /** The reader skipped the card with its button: `skipped` at the time read, and nothing more for it. */
  skip(seq: number): void {
    const card = this.card(seq);
    if (card.done) return;
    this.pause(card);
    card.done = true;
    this.send({ seq, kind: 'skipped', atMs: Math.round(card.dwellMs) });
  }

  /** The card is gone (withdrawn): nothing more is said about it. */
  forget(seq: number): void {
    this.cards.delete(seq);
  }

  private checkStarted(seq: number, card: Card): void {
    if (!card.started && !card.done && this.dwell(card) >= STARTED_MS) {
      card.started = true;
      this.send({ seq, kind: 'started' });
    }
  }

  private finish(seq: number, card: Card): void {
    card.done = true;
    if (card.liked || card.dwellMs >= COMPLETED_MS) this.send({ seq, kind: 'completed' });
    else this.send({ seq, kind: 'skipped', atMs: Math.round(card.dwellMs) });
  }

  private pause(card: Card): void {
    if (card.since === undefined) return;
    card.dwellMs += this.now() - card.since;
    card.since = undefined;
  }

  private card(seq: number): Card {
    let card = this.cards.get(seq);
    if (!card) {
      card = { dwellMs: 0, since: undefined, started: false, done: false, liked: false };
      this.cards.set(seq, card);
    }
    return card;
  }
}
