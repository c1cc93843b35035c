/**
 * The infinite-scroll web client: one session over the omakase WebSocket protocol. It asks for more items
 * when the end of the feed scrolls into view (pull-based credit), sends feedback from each card, steers,
 * drops invalidated items, and resumes its session after a dropped connection. Bundled for the browser by
 * webApp.ts; it shares the protocol module with the server.
 */
import {
  CLOSE_CODES,
  type ClientMessage,
  PROTOCOL_VERSION,
  type ServerMessage,
  type WireItem,
} from '../protocol.ts';

const PAGE = 10;
const $ = (id: string) => document.getElementById(id) as HTMLElement;
const feed = $('feed');
const status = $('status');

let socket: WebSocket | undefined;
let session: { sessionId: string; resumeToken: string } | undefined;
let lastSeq = 0;
let requested = 0;
let received = 0;
let nextId = 1;
let pinger: ReturnType<typeof setInterval> | undefined;
const cards = new Map<number, HTMLElement>();

/** A client message before it gets its request id. */
type Outbound = ClientMessage extends infer M ? (M extends ClientMessage ? Omit<M, 'id'> : never) : never;

function send(message: Outbound): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id: nextId++, ...message }));
}

function setStatus(text: string): void {
  status.textContent = text;
}

function connect(start?: { text: string }): void {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  socket = ws;
  ws.onopen = () => {
    const hello = session
      ? { type: 'hello', protocol: PROTOCOL_VERSION, resume: { ...session, lastSeq } }
      : {
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          start: { intent: start?.text ? { text: start.text } : {} },
        };
    send(hello as Outbound);
  };
  ws.onmessage = (event) => onMessage(JSON.parse(String(event.data)) as ServerMessage);
  ws.onclose = (event) => {
    clearInterval(pinger);
    const known = CLOSE_CODES[event.code as keyof typeof CLOSE_CODES];
    if (known && !known.retryable) {
      setStatus(`closed: ${known.name}`);
      session = undefined;
      return;
    }
    // Dropped or restarted: come back and resume where the feed stopped.
    setStatus('reconnecting…');
    setTimeout(() => connect(), 1000);
  };
}

function onMessage(message: ServerMessage): void {
  switch (message.type) {
    case 'welcome':
      session = { sessionId: message.sessionId, resumeToken: message.resumeToken };
      requested = received;
      setStatus(`session ${message.sessionId.slice(0, 8)} · ${cards.size} items`);
      clearInterval(pinger);
      pinger = setInterval(() => send({ type: 'ping' }), message.heartbeatMs);
      maybeMore();
      break;
    case 'item':
      lastSeq = Math.max(lastSeq, message.seq);
      received++;
      if (!cards.has(message.seq)) addCard(message.seq, message.item);
      setStatus(`session ${session?.sessionId.slice(0, 8)} · ${cards.size} items`);
      maybeMore();
      break;
    case 'invalidated':
      for (const seq of message.seqs) {
        const card = cards.get(seq);
        if (!card) continue;
        card.classList.add('withdrawn');
        card.title = `withdrawn: ${message.reason}`;
        setTimeout(() => card.remove(), 1500);
      }
      break;
    case 'ended':
      setStatus(`session ended (${message.reason})`);
      break;
    case 'error':
      setStatus(`error ${message.code}: ${message.message}`);
      break;
    default:
      break;
  }
}

function addCard(seq: number, item: WireItem): void {
  const card = document.createElement('article');
  card.className = `card${item.degraded ? ' degraded' : ''}`;
  card.dataset.seq = String(seq);
  card.dataset.id = item.id;
  const minutes = `${Math.floor(item.durationMs / 60000)}:${String(Math.floor((item.durationMs % 60000) / 1000)).padStart(2, '0')}`;
  card.innerHTML = `<div class="seq">${seq}</div><div><div class="title"></div><div class="meta"></div></div>
    <div class="actions"><button type="button" data-act="skipped" title="skip this">Skip</button><button type="button" data-act="liked" title="more like this">Like</button><button type="button" data-act="disliked" title="not for me">Dislike</button></div>`;
  (card.querySelector('.title') as HTMLElement).textContent = item.title;
  (card.querySelector('.meta') as HTMLElement).textContent =
    `${item.artist}${item.album ? ` · ${item.album}` : ''} · ${minutes}`;
  card.querySelectorAll('button').forEach((button) => {
    button.addEventListener('click', () => {
      const kind = button.dataset.act as 'skipped' | 'liked' | 'disliked';
      send(
        kind === 'skipped' ? { type: 'feedback', seq, kind, atMs: 3000 } : { type: 'feedback', seq, kind },
      );
      card.classList.add(kind);
    });
  });
  cards.set(seq, card);
  feed.append(card);
}

/** Asks for a page when the end of the feed is in view and nothing is outstanding. */
function maybeMore(): void {
  const sentinel = $('sentinel').getBoundingClientRect();
  const nearEnd = sentinel.top < window.innerHeight + 400;
  if (session && nearEnd && received >= requested) {
    requested += PAGE;
    send({ type: 'more', n: PAGE });
  }
}

new IntersectionObserver(() => maybeMore(), { rootMargin: '400px' }).observe($('sentinel'));
$('start').addEventListener('click', () => {
  if (socket) {
    session = undefined;
    socket.onclose = null;
    socket.close();
  }
  feed.replaceChildren();
  cards.clear();
  lastSeq = 0;
  requested = 0;
  received = 0;
  connect({ text: ($('intent') as HTMLInputElement).value });
});
$('calmer').addEventListener('click', () => send({ type: 'steer', steer: { kind: 'mood', tag: 'calm' } }));
$('energy').addEventListener('click', () =>
  send({ type: 'steer', steer: { kind: 'mood', tag: 'energetic' } }),
);
const initial = new URLSearchParams(location.search).get('intent') ?? '';
($('intent') as HTMLInputElement).value = initial;
connect({ text: initial });
