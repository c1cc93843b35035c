/**
 * The endless feed page: one session through the client library (adapters/client). Cards load as the end of
 * the feed comes into view, a page at a time; what the reader saw is reported from when each card was really
 * on screen (dwellTracker.ts); withdrawn cards leave the list and are replaced; the connection's state is
 * always in the status line (statusLine.ts). Steering (steering.ts), tags and covers (infoLoader.ts), the
 * keyboard (feedKeys.ts) and the tab's saved session (savedSession.ts) have modules of their own. Bundled for
 * the browser by webApp.ts.
 */
import { OmakaseClient } from '../client/omakaseClient.ts';
import type { InvalidatedMessage, WireItem } from '../protocol.ts';
import { DwellTracker } from './dwellTracker.ts';
import { type CardAction, createCard, showInfo } from './feedCard.ts';
import { focusSibling, installFeedKeys } from './feedKeys.ts';
import { createInfoLoader } from './infoLoader.ts';
import { $, count, feed, retry, sentinel } from './pageElements.ts';
import { forgetSession, type SavedSession, savedSession, saveSession } from './savedSession.ts';
import { clearError, reported, say, showError, showState } from './statusLine.ts';
import { createSteering } from './steering.ts';

/** Items asked for at a time; the next page is asked for only when the last has arrived. */
const PAGE = 10;
/** How far below the view (px) the end of the feed may be when the next page is asked for. */
const AHEAD_PX = 800;
/** Share of a card that must be in view for it to count as on screen. */
const IN_VIEW = 0.6;

interface CardState {
  el: HTMLLIElement;
  item: WireItem;
}

/** What the page holds; also readable from devtools and the browser tests as `window.omakaseFeed`. */
const view = {
  /** Every seq received, in arrival order (withdrawn ones included). */
  received: [] as number[],
  withdrawn: [] as number[],
  cards: new Map<number, CardState>(),
  count: () => view.cards.size,
  state: () => client?.state.state ?? 'idle',
  outstanding: () => client?.outstanding ?? 0,
};
(globalThis as { omakaseFeed?: typeof view }).omakaseFeed = view;

let client: OmakaseClient | undefined;
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

const tracker = new DwellTracker(
  () => performance.now(),
  (f) => {
    if (!client || !view.cards.has(f.seq)) return;
    reported(
      f.kind === 'skipped' ? client.feedback(f.seq, 'skipped', f.atMs) : client.feedback(f.seq, f.kind),
    );
  },
);

const cardObserver = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const seq = Number((entry.target as HTMLElement).dataset.seq);
      tracker.visible(seq, entry.isIntersecting && entry.intersectionRatio >= IN_VIEW);
    }
  },
  // The sticky header covers the top of the view: a card under it is not on screen.
  { threshold: [0, IN_VIEW, 1], rootMargin: '-56px 0px 0px 0px' },
);
setInterval(() => tracker.tick(), 250);
document.addEventListener('visibilitychange', () => tracker.pageHidden(document.hidden));

const info = createInfoLoader((found) => {
  for (const { el, item } of view.cards.values()) if (item.id === found.id) showInfo(el, found, item);
}, showError);
const { steer, loadMoods } = createSteering(() => client);

/** Starts a session for `text`, or takes up the tab's earlier one (`resume`, after a reload). */
function start(text: string, resume?: SavedSession): void {
  if (client) {
    const old = client;
    // The old session is ended rather than left waiting out its grace window.
    reported(old.end());
    old.close();
  }
  for (const { el } of view.cards.values()) cardObserver.unobserve(el);
  feed.replaceChildren();
  view.cards.clear();
  view.received.length = 0;
  view.withdrawn.length = 0;
  clearError();
  if (!resume) forgetSession();
  const c = new OmakaseClient(
    resume
      ? {
          url: wsUrl,
          resume: { sessionId: resume.sessionId, resumeToken: resume.resumeToken, lastSeq: resume.lastSeq },
        }
      : { url: wsUrl, start: { intent: text ? { text } : {} } },
  );
  client = c;
  const keep = () => {
    if (c !== client || !c.sessionId || !c.resumeToken) return;
    saveSession({
      sessionId: c.sessionId,
      resumeToken: c.resumeToken,
      lastSeq: c.lastSeq,
      intent: text,
    });
  };
  let opened = false;
  c.on('welcome', () => {
    opened = true;
    keep();
  });
  c.on('state', (s) => {
    if (c !== client) return;
    showState(s, maybeMore);
    if (s.state !== 'ended') return;
    forgetSession();
    if (resume && !opened) {
      // The tab's earlier session is gone (ended, or its grace window ran out): carry on with a new one.
      start(text);
      say(`The earlier session could not be resumed (${s.code ?? s.reason}); this is a new one.`);
    }
  });
  c.on('item', ({ seq, item }) => {
    if (c !== client) return;
    addCard(seq, item);
    keep();
  });
  c.on('invalidated', (m) => c === client && withdraw(m));
  c.on('starved', ({ retryInMs }) => {
    if (c !== client) return;
    sentinel.textContent =
      retryInMs === undefined
        ? 'Nothing fits your feed right now; a like, a skip or a steer will try again.'
        : `Nothing fits your feed right now; trying again in ${Math.ceil(retryInMs / 1000)} s.`;
  });
  c.on('error', (err) => c === client && showError(err));
  reported(c.connect());
}

function updateCount(): void {
  count.textContent = `${view.cards.size} card${view.cards.size === 1 ? '' : 's'}`;
}

function addCard(seq: number, item: WireItem): void {
  view.received.push(seq);
  if (view.cards.has(seq)) return;
  const el = createCard(seq, item, (action) => act(seq, action));
  view.cards.set(seq, { el, item });
  feed.append(el);
  cardObserver.observe(el);
  info.want(item);
  updateCount();
  showLoading();
  // Laid out first, so that the end of the feed is measured where it now is.
  if (client && client.outstanding === 0) requestAnimationFrame(maybeMore);
}

function showLoading(): void {
  if (client?.state.state !== 'open') return;
  sentinel.textContent = client.outstanding > 0 ? 'Loading…' : 'Scroll for more';
}

function act(seq: number, action: CardAction): void {
  const card = view.cards.get(seq);
  if (!card || !client) return;
  const { el, item } = card;
  const press = (name: string) =>
    el.querySelector(`button[data-act="${name}"]`)?.setAttribute('aria-pressed', 'true');
  switch (action) {
    case 'liked':
    case 'disliked':
      if (el.classList.contains('liked') || el.classList.contains('disliked')) return;
      el.classList.add(action);
      press(action);
      for (const b of el.querySelectorAll<HTMLButtonElement>(
        'button[data-act="liked"], button[data-act="disliked"]',
      )) {
        b.disabled = true;
      }
      tracker.rated(seq, action);
      reported(client.feedback(seq, action));
      say(
        action === 'liked'
          ? `Liked ${item.title}.`
          : `Disliked ${item.title}: less of ${item.artist} for a while.`,
      );
      break;
    case 'skipped':
      if (el.classList.contains('skipped')) return;
      el.classList.add('skipped');
      tracker.skip(seq);
      say(`Skipped ${item.title}.`);
      focusSibling(el, 1);
      break;
    case 'more-like':
      steer({ kind: 'more-like', itemId: item.id }, `more like ${item.title}`);
      break;
    case 'less-artist':
      steer({ kind: 'less-artist', artist: item.artist }, `less of ${item.artist}`);
      break;
  }
}

/** Withdrawn cards leave the list (after a moment struck out) and are replaced by as many new ones. */
function withdraw(m: InvalidatedMessage): void {
  let gone = 0;
  for (const seq of m.seqs) {
    const card = view.cards.get(seq);
    if (!card) continue;
    view.cards.delete(seq);
    view.withdrawn.push(seq);
    tracker.forget(seq);
    cardObserver.unobserve(card.el);
    gone++;
    card.el.classList.add('withdrawn');
    card.el.setAttribute('aria-hidden', 'true');
    if (card.el.contains(document.activeElement)) focusSibling(card.el, 1);
    setTimeout(() => card.el.remove(), 600);
  }
  updateCount();
  if (gone > 0 && client) {
    say(
      `${gone} queued card${gone === 1 ? '' : 's'} no longer fit (${m.reason}); replacing ${gone === 1 ? 'it' : 'them'}.`,
      true,
    );
    client.more(gone);
  }
}

/** Asks for the next page when the end of the feed is near the view and the last page has arrived. */
function maybeMore(): void {
  if (client?.state.state !== 'open' || client.outstanding > 0) return;
  if (sentinel.getBoundingClientRect().top < window.innerHeight + AHEAD_PX) client.more(PAGE);
  showLoading();
}
new IntersectionObserver(() => maybeMore(), { rootMargin: `${AHEAD_PX}px` }).observe(sentinel);

$('start-form').addEventListener('submit', (event) => {
  event.preventDefault();
  start($<HTMLInputElement>('intent').value.trim());
});
retry.addEventListener('click', () => client?.reconnectNow());
installFeedKeys(act);

const initial = new URLSearchParams(location.search).get('intent') ?? '';
$<HTMLInputElement>('intent').value = initial;
reported(loadMoods());
// A reload of the same feed takes its session up again: the taste it learnt, and nothing repeated.
const earlier = savedSession();
start(initial, earlier?.intent === initial ? earlier : undefined);
