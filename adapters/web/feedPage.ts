/**
 * The endless feed page: one session through the client library (adapters/client). Cards load as the end of
 * the feed comes into view, a page at a time; what the reader saw is reported from when each card was really
 * on screen (dwellTracker.ts); withdrawn cards leave the list and are replaced; the connection's state is
 * always in the status line. Bundled for the browser by webApp.ts.
 */
import type { OmakaseClientError } from '../client/clientError.ts';
import { type ConnectionState, OmakaseClient } from '../client/omakaseClient.ts';
import type { InvalidatedMessage, WireItem, WireSteer } from '../protocol.ts';
import type { ItemInfo } from './catalogLookup.ts';
import { DwellTracker } from './dwellTracker.ts';
import { type CardAction, createCard, showInfo } from './feedCard.ts';

/** Items asked for at a time; the next page is asked for only when the last has arrived. */
const PAGE = 10;
/** How far below the view (px) the end of the feed may be when the next page is asked for. */
const AHEAD_PX = 800;
/** Share of a card that must be in view for it to count as on screen. */
const IN_VIEW = 0.6;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const feed = $<HTMLOListElement>('feed');
const sentinel = $('sentinel');
const status = $('status');
const count = $('count');
const retry = $<HTMLButtonElement>('retry');
const alertBox = $('alert');
const notice = $('notice');

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
let countdown: ReturnType<typeof setInterval> | undefined;
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

// Requests answered with an error are reported by the client's `error` event (showError); the promises'
// rejections carry the same error, so they need no second report.
const reported = (p: Promise<unknown>) => {
  p.catch(() => undefined);
};

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

/** Where the tab keeps its session, so that a reload resumes it (sessionStorage: one session per tab). */
const SAVED = 'omakase.session';

interface Saved {
  sessionId: string;
  resumeToken: string;
  lastSeq: number;
  intent: string;
}

function saved(): Saved | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(SAVED) ?? 'null') as Saved | null;
    return value && typeof value.sessionId === 'string' && typeof value.resumeToken === 'string'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a session for `text`, or takes up the tab's earlier one (`resume`, after a reload). */
function start(text: string, resume?: Saved): void {
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
  alertBox.replaceChildren();
  if (!resume) sessionStorage.removeItem(SAVED);
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
    const value: Saved = {
      sessionId: c.sessionId,
      resumeToken: c.resumeToken,
      lastSeq: c.lastSeq,
      intent: text,
    };
    sessionStorage.setItem(SAVED, JSON.stringify(value));
  };
  let opened = false;
  c.on('welcome', () => {
    opened = true;
    keep();
  });
  c.on('state', (s) => {
    if (c !== client) return;
    showState(s);
    if (s.state !== 'ended') return;
    sessionStorage.removeItem(SAVED);
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

function showState(s: ConnectionState): void {
  clearInterval(countdown);
  status.dataset.state = s.state;
  retry.hidden = s.state !== 'reconnecting';
  switch (s.state) {
    case 'idle':
      status.textContent = 'Not connected';
      break;
    case 'connecting':
      status.textContent = s.resuming ? 'Resuming…' : 'Connecting…';
      break;
    case 'open':
      status.textContent = s.resumed ? 'Resumed' : 'Connected';
      maybeMore();
      break;
    case 'reconnecting': {
      const tick = () => {
        const secs = Math.max(0, Math.ceil((s.at - Date.now()) / 1000));
        status.textContent = `Connection lost; reconnecting in ${secs} s`;
      };
      tick();
      countdown = setInterval(tick, 1000);
      break;
    }
    case 'ended':
      status.textContent = `Ended (${s.code ?? s.reason})`;
      sentinel.textContent = 'This session has ended. Press Start for a new one.';
      break;
  }
}

function showError(err: OmakaseClientError | { code: string; message: string }): void {
  const code = document.createElement('code');
  code.textContent = err.code;
  alertBox.replaceChildren(code, `: ${err.message}`);
}

let saidAt = 0;

/** Tells the reader what just happened; `after` adds to a message said a moment ago (a steer, then what it withdrew). */
function say(text: string, after = false): void {
  const now = Date.now();
  notice.textContent = after && now - saidAt < 2000 ? `${notice.textContent} ${text}` : text;
  saidAt = now;
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
  wantInfo(item);
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

function steer(s: WireSteer, label: string): void {
  if (!client) return;
  reported(client.steer(s).then(() => say(`Steering: ${label}.`)));
  for (const chip of document.querySelectorAll('#moods .chip')) {
    const on = s.kind === 'mood' && (chip as HTMLElement).dataset.mood === s.tag;
    chip.setAttribute('aria-pressed', String(on));
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

// ---- tags and covers: one request per burst of items ----

const infoWanted = new Map<string, WireItem>();
let infoScheduled = false;
let catalogMissing = false;

function wantInfo(item: WireItem): void {
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
  if (infoWanted.size > 0) wantInfo(infoWanted.values().next().value as WireItem);
  try {
    const res = await fetch(`/api/items?ids=${batch.map((i) => encodeURIComponent(i.id)).join(',')}`);
    const body = (await res.json()) as { items?: ItemInfo[]; error?: { code: string; message: string } };
    if (body.error) {
      // Without a catalog the cards keep the covers drawn from their ids; nothing is wrong with the feed.
      if (body.error.code === 'WEB_NO_CATALOG') catalogMissing = true;
      else showError(body.error);
      return;
    }
    for (const info of body.items ?? []) {
      for (const { el, item } of view.cards.values()) if (item.id === info.id) showInfo(el, info, item);
    }
  } catch (err) {
    showError({
      code: 'WEB_FETCH_FAILED',
      message: `Could not load tags and covers (${(err as Error).message}).`,
    });
  }
}

// ---- steering: mood chips and free text ----

async function loadMoods(): Promise<void> {
  try {
    const res = await fetch('/api/moods');
    const body = (await res.json()) as { moods?: string[] };
    const group = $('moods');
    for (const mood of body.moods ?? []) {
      const chip = document.createElement('button');
      chip.type = 'button';
      chip.className = 'chip';
      chip.textContent = mood;
      chip.dataset.mood = mood;
      chip.setAttribute('aria-pressed', 'false');
      chip.addEventListener('click', () => steer({ kind: 'mood', tag: mood }, mood));
      group.append(chip);
    }
    if ((body.moods ?? []).length > 0) {
      const clear = document.createElement('button');
      clear.type = 'button';
      clear.className = 'chip';
      clear.textContent = 'clear steering';
      clear.addEventListener('click', () => steer({ kind: 'clear' }, 'cleared'));
      group.append(clear);
    } else {
      group.hidden = true;
    }
  } catch {
    $('moods').hidden = true;
  }
}

$('steer-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('steer-text');
  const text = input.value.trim();
  if (!text) return;
  try {
    const res = await fetch(`/api/steer?text=${encodeURIComponent(text)}`);
    const body = (await res.json()) as { steer?: WireSteer; error?: { code: string; message: string } };
    if (body.error || !body.steer) return showError(body.error ?? { code: 'WEB_NO_MATCH', message: text });
    steer(body.steer, text);
    input.value = '';
  } catch (err) {
    showError({
      code: 'WEB_FETCH_FAILED',
      message: `Could not read the steering text (${(err as Error).message}).`,
    });
  }
});

$('start-form').addEventListener('submit', (event) => {
  event.preventDefault();
  start($<HTMLInputElement>('intent').value.trim());
});
retry.addEventListener('click', () => client?.reconnectNow());

// ---- keyboard ----

function focusSibling(from: Element, step: 1 | -1): void {
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

const initial = new URLSearchParams(location.search).get('intent') ?? '';
$<HTMLInputElement>('intent').value = initial;
reported(loadMoods());
// A reload of the same feed takes its session up again: the taste it learnt, and nothing repeated.
const earlier = saved();
start(initial, earlier?.intent === initial ? earlier : undefined);
