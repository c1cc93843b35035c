import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type ClientEvents,
  type ClientItem,
  type ConnectionState,
  OmakaseClient,
  type OmakaseClientOptions,
} from '../../../adapters/client/omakaseClient.ts';
import { createWsServer, type WsServer } from '../../../adapters/ws/wsServer.ts';
import { createEngine } from '../../../engine/engine.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import type { SessionService } from '../../../sessions/sessionService.ts';
import { smallCatalog } from '../../engine/fixtures.ts';
import { FakeSessionService } from '../ws/fakeSessionService.ts';
import { TcpProxy } from './tcpProxy.ts';

/** Resolves with the first `event` that passes `where`, or fails after `timeoutMs`. */
function waitFor<K extends keyof ClientEvents>(
  client: OmakaseClient,
  event: K,
  where: (value: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${event}" event within ${timeoutMs} ms (state ${JSON.stringify(client.state)})`));
    }, timeoutMs);
    const off = client.on(event, (value) => {
      if (!where(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

/** Every item the client hands on, and every state it passes through. */
function record(client: OmakaseClient): { items: ClientItem[]; states: ConnectionState[]; errors: string[] } {
  const log = { items: [] as ClientItem[], states: [] as ConnectionState[], errors: [] as string[] };
  client.on('item', (item) => log.items.push(item));
  client.on('state', (state) => log.states.push(state));
  client.on('error', (err) => log.errors.push(err.code));
  return log;
}

async function itemsUntil(client: OmakaseClient, log: { items: ClientItem[] }, count: number): Promise<void> {
  if (log.items.length >= count) return;
  await waitFor(client, 'item', () => log.items.length >= count);
}

const seqs = (items: ClientItem[]) => items.map((i) => i.seq);
const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

let http: Server;
let ws: WsServer;
let service: SessionService;
let port: number;
const clients: OmakaseClient[] = [];
const proxies: TcpProxy[] = [];

function client(options: Partial<OmakaseClientOptions> & { url?: string } = {}): OmakaseClient {
  const c = new OmakaseClient({
    url: `ws://127.0.0.1:${port}/ws`,
    WebSocket,
    start: { seed: 7 },
    backoff: { initialMs: 20, maxMs: 200 },
    ...options,
  });
  clients.push(c);
  return c;
}

async function proxied(): Promise<{ proxy: TcpProxy; url: string }> {
  const proxy = await TcpProxy.start(port);
  proxies.push(proxy);
  return { proxy, url: `ws://127.0.0.1:${proxy.port}/ws` };
}

beforeAll(async () => {
  const engine = createEngine({
    catalog: smallCatalog({ items: 2000, artists: 200 }),
    scorer: createFallbackScorer(),
  });
  service = createSessionManager({ engine, store: createMemoryStore() });
  http = createServer();
  ws = await createWsServer({ service, server: http, path: '/ws', reasons: true });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const p of proxies.splice(0)) await p.close();
});

afterAll(async () => {
  await ws?.close();
  await new Promise((resolve) => http?.close(resolve));
  await service?.close();
});

describe('OmakaseClient against a real server', () => {
  it('starts a session, grants credit within the limits, and takes feedback and steering', async () => {
    const c = client();
    const log = record(c);
    const welcome = await c.connect();
    expect(c.state).toEqual({ state: 'open', sessionId: welcome.sessionId, resumed: false });
    // 120 is above maxCredit (100): the client grants 100 at once, the rest as the credit is used.
    c.more(120);
    await itemsUntil(c, log, 120);
    expect(seqs(log.items)).toEqual(oneToN(120));
    expect(c.outstanding).toBe(0);
    expect(log.items[0].item.reasons).toBeDefined();

    const invalidated = waitFor(c, 'invalidated');
    // The session keeps only the latest items for feedback: these are among them.
    await c.feedback(115, 'started');
    await c.feedback(115, 'skipped', 1200);
    await c.feedback(116, 'liked');
    // Less of the artist of a queued item withdraws it.
    await c.steer({ kind: 'less-artist', artist: log.items[117].item.artist });
    expect((await invalidated).seqs).toContain(118);
    await expect(c.feedback(99_999, 'liked')).rejects.toMatchObject({ code: 'PROTO_UNKNOWN_SEQ' });
    expect(log.errors).toEqual(['PROTO_UNKNOWN_SEQ']);
    expect(await c.ping()).toBeGreaterThanOrEqual(0);
  });

  it('resumes after the socket is cut: no duplicate, no gap, and every item asked for arrives', async () => {
    const { proxy, url } = await proxied();
    const c = client({ url });
    const log = record(c);
    await c.connect();
    c.more(10);
    await itemsUntil(c, log, 10);
    const token = c.resumeToken;
    c.more(30);
    await itemsUntil(c, log, 15);
    proxy.cut();
    await waitFor(c, 'state', (s) => s.state === 'open' && s.resumed);
    expect(c.resumeToken).not.toBe(token);
    await itemsUntil(c, log, 40);
    expect(seqs(log.items)).toEqual(oneToN(40));
    expect(c.outstanding).toBe(0);
    expect(c.stats.duplicates).toBe(0);
    const states = log.states.map((s) => s.state);
    expect(states).toContain('reconnecting');
    expect(log.errors).toEqual([]);
  });

  it('takes a connection that stops answering as dead (pong timeout), resumes, and resends what was unanswered', async () => {
    const { proxy, url } = await proxied();
    const c = client({ url, heartbeatMs: 50, pongTimeoutMs: 150 });
    const log = record(c);
    await c.connect();
    c.more(5);
    await itemsUntil(c, log, 5);
    proxy.freeze();
    // Sent into a dead route: the server never sees it, so it must go again after the resume.
    const acked = c.feedback(5, 'liked');
    await waitFor(c, 'error', (e) => e.code === 'CLIENT_PONG_TIMEOUT');
    await waitFor(c, 'state', (s) => s.state === 'open' && s.resumed);
    await acked;
    expect(c.stats.resent).toBe(1);
    c.more(5);
    await itemsUntil(c, log, 10);
    expect(seqs(log.items)).toEqual(oneToN(10));
  });

  it('backs off exponentially with jitter while the server cannot be reached, then resumes', async () => {
    const { proxy, url } = await proxied();
    const c = client({ url, backoff: { initialMs: 10, maxMs: 80, factor: 2, jitter: 0.5 }, random: () => 0 });
    const log = record(c);
    await c.connect();
    c.more(3);
    await itemsUntil(c, log, 3);
    proxy.refusing = true;
    proxy.cut();
    await waitFor(c, 'state', (s) => s.state === 'reconnecting' && s.attempt === 5);
    proxy.refusing = false;
    await waitFor(c, 'state', (s) => s.state === 'open' && s.resumed);
    const delays = log.states.flatMap((s) => (s.state === 'reconnecting' ? [s.inMs] : []));
    // random() = 0 takes the whole delay: 10, 20, 40, 80 (the cap), 80 …
    expect(delays.slice(0, 5)).toEqual([10, 20, 40, 80, 80]);
    // With jitter the delay is drawn from [ceiling × (1 − jitter), ceiling].
    const jittered = client({ url, backoff: { initialMs: 100, maxMs: 1000, jitter: 0.5 }, random: () => 1 });
    await jittered.connect();
    proxy.cut();
    const state = await waitFor(jittered, 'state', (s) => s.state === 'reconnecting');
    expect(state).toMatchObject({ inMs: 50 });
  });

  it('stops for good when a newer connection takes the session over (4409), and a bad token is refused', async () => {
    const first = client();
    const firstLog = record(first);
    await first.connect();
    first.more(2);
    await itemsUntil(first, firstLog, 2);
    const second = client({
      resume: { sessionId: first.sessionId!, resumeToken: first.resumeToken!, lastSeq: 1 },
    });
    const secondLog = record(second);
    const ended = waitFor(first, 'state', (s) => s.state === 'ended');
    const welcome = await second.connect();
    expect(welcome.lastSeq).toBe(2);
    expect(await ended).toEqual({ state: 'ended', reason: 'SESSION_TAKEN_OVER', code: 'SESSION_TAKEN_OVER' });
    // The item the second client had not seen is resent, without using its credit.
    await itemsUntil(second, secondLog, 1);
    expect(secondLog.items).toMatchObject([{ seq: 2, resent: true }]);
    expect(first.stats.reconnects).toBe(0);

    const stale = client({ resume: { sessionId: first.sessionId!, resumeToken: 'nope', lastSeq: 0 } });
    await expect(stale.connect()).rejects.toMatchObject({ code: 'SESSION_BAD_RESUME_TOKEN' });
    expect(stale.state).toMatchObject({ state: 'ended', code: 'SESSION_BAD_RESUME_TOKEN' });
  });

  it('ends with the session: end() is acknowledged, then the state is ended', async () => {
    const c = client();
    await c.connect();
    const ended = waitFor(c, 'state', (s) => s.state === 'ended');
    await c.end();
    expect(await ended).toMatchObject({ state: 'ended', reason: 'ended' });
    await expect(c.feedback(1, 'liked')).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});

describe('OmakaseClient when the session runs dry', () => {
  it('asks again after a starved, so loading never stops for good', async () => {
    const fake = new FakeSessionService();
    fake.limit = 3;
    const server = await createWsServer({ service: fake, port: 0 });
    try {
      const c = client({
        url: `ws://127.0.0.1:${server.address().port}`,
        starvedBackoff: { initialMs: 30, maxMs: 60 },
      });
      const log = record(c);
      await c.connect();
      c.more(5);
      const starved = await waitFor(c, 'starved');
      expect(starved.retryInMs).toBeGreaterThan(0);
      expect(log.items).toHaveLength(3);
      fake.limit = Number.POSITIVE_INFINITY;
      await itemsUntil(c, log, 5);
      expect(seqs(log.items).slice(0, 5)).toEqual(oneToN(5));
    } finally {
      await server.close();
    }
  });

  it('tries a bounded number of times in a row, then waits for the application', async () => {
    const fake = new FakeSessionService();
    fake.limit = 1;
    const server = await createWsServer({ service: fake, port: 0 });
    try {
      const c = client({
        url: `ws://127.0.0.1:${server.address().port}`,
        starvedBackoff: { initialMs: 5, maxMs: 10 },
        starvedRetries: 2,
      });
      const starved: (number | undefined)[] = [];
      c.on('starved', (s) => starved.push(s.retryInMs));
      await c.connect();
      c.more(2);
      await waitFor(c, 'starved', (s) => s.retryInMs === undefined);
      expect(starved.map((r) => r === undefined)).toEqual([false, false, true]);
      // Two tries asked for one more item each: the session owes 1 + 2.
      expect(c.outstanding).toBe(3);
    } finally {
      await server.close();
    }
  });
});
