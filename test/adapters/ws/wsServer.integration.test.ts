import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { engineHistoryWindow } from '../../../adapters/runtime.ts';
import { createWsServer, type WsServer } from '../../../adapters/ws/wsServer.ts';
import { Catalog } from '../../../engine/catalog.ts';
import { createEngine } from '../../../engine/engine.ts';
import type { CatalogRow } from '../../../engine/item.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import type { SessionService } from '../../../sessions/sessionService.ts';
import { TestClient } from './testClient.ts';

// The real stack under the server: session manager, memory store, engine on a small generated catalog.
const tags = ['jazz', 'rock', 'pop', 'calm', 'dance', 'folk'];
const rows: CatalogRow[] = Array.from({ length: 400 }, (_, i) => ({
  id: `t${i}`,
  title: `Track ${i}`,
  artist: `Artist ${i % 60}`,
  album: `Album ${i % 120}`,
  tags: [tags[i % tags.length], tags[(i * 5) % tags.length]],
  durationMs: 150_000 + ((i * 7919) % 150_000),
  popularity: (i * 104_729) % 1000,
}));
// As `serve` builds it: the engine's history covers the session's kept window.
const engine = createEngine({
  catalog: new Catalog(rows),
  scorer: createFallbackScorer(),
  config: { historyWindow: engineHistoryWindow(100) },
});
const ids = new Set(rows.map((r) => r.id));

let service: SessionService;
let server: WsServer;
let url: string;
const clients: TestClient[] = [];

async function connect(): Promise<TestClient> {
  const client = await TestClient.connect(url);
  clients.push(client);
  return client;
}

async function started(seed = 1) {
  const client = await connect();
  client.send({
    type: 'hello',
    id: 'h',
    protocol: PROTOCOL_VERSION,
    start: { seed, intent: { tag: 'jazz' } },
  });
  const welcome = await client.next('welcome');
  return { client, sessionId: welcome.sessionId, resumeToken: welcome.resumeToken };
}

beforeEach(async () => {
  service = createSessionManager({ engine, store: createMemoryStore(), onError: () => {} });
  server = await createWsServer({ service, port: 0 });
  url = `ws://127.0.0.1:${server.address().port}`;
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
  await service.close();
});

describe('ws server over the session manager and the engine', () => {
  it('streams catalog items against credit, acks feedback, refuses a seq never sent', async () => {
    const { client } = await started();
    client.send({ type: 'more', id: 'm1', n: 5 });
    client.send({ type: 'more', id: 'm2', n: 7 });
    const items = await client.items(12);
    expect(items.map((i) => i.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(items.filter((i) => i.re === 'm1')).toHaveLength(5);
    for (const { item } of items) expect(ids.has(item.id)).toBe(true);
    expect(new Set(items.map((i) => i.item.id)).size).toBe(12);
    await client.settle();
    expect(client.frames.filter((f) => f.type === 'item')).toEqual([]);

    client.send({ type: 'feedback', id: 'f1', seq: 1, kind: 'started' });
    client.send({ type: 'feedback', id: 'f2', seq: 1, kind: 'skipped', atMs: 5000 });
    expect((await client.next('ack')).id).toBe('f1');
    expect((await client.next('ack')).id).toBe('f2');
    client.send({ type: 'feedback', id: 'f3', seq: 13, kind: 'liked' });
    expect((await client.next('error')).code).toBe('PROTO_UNKNOWN_SEQ');
    client.send({ type: 'steer', id: 's', steer: { kind: 'tag', tag: 'rock' } });
    expect((await client.next('ack')).id).toBe('s');
  });

  it('leaves the socket in its handshake when the session layer refuses a start', async () => {
    const client = await connect();
    client.send({
      type: 'hello',
      id: 'bad',
      protocol: PROTOCOL_VERSION,
      start: { intent: { itemId: 'nope' } },
    });
    const error = await client.next('error');
    expect(error).toMatchObject({ id: 'bad', retryable: false });
    expect(error.code).toMatch(/^(SESSION|ENGINE)_/);
    client.send({ type: 'hello', id: 'good', protocol: PROTOCOL_VERSION });
    expect((await client.next('welcome')).id).toBe('good');
  });

  it('a request sent again with its id after a resume is acknowledged and applied once', async () => {
    const first = await started(3);
    first.client.send({ type: 'pause', id: 'p1' });
    expect((await first.client.next('ack')).id).toBe('p1');
    first.client.close();
    await first.client.closed;
    // The client never saw that ack (say): it resumes and sends the pause again, with the same id.
    const client = await connect();
    const resume = { sessionId: first.sessionId, resumeToken: first.resumeToken, lastSeq: 0 };
    client.send({ type: 'hello', id: 'r', protocol: PROTOCOL_VERSION, resume });
    expect((await client.next('welcome')).status).toBe('paused');
    client.send({ type: 'pause', id: 'p1' });
    expect((await client.next('ack')).id).toBe('p1');
    // Applied twice, a pause would be refused: the session is already paused. A new id is a new pause.
    client.send({ type: 'pause', id: 'p2' });
    expect((await client.next('error')).code).toBe('SESSION_INVALID_EVENT');
  });

  it('resumes after a dropped socket with missed items and a rotated token', async () => {
    const first = await started(2);
    first.client.send({ type: 'more', id: 'm', n: 6 });
    const sent = await first.client.items(6);
    first.client.close();
    await first.client.closed;

    const client = await connect();
    const resume = { sessionId: first.sessionId, resumeToken: first.resumeToken, lastSeq: 3 };
    client.send({ type: 'hello', id: 'r', protocol: PROTOCOL_VERSION, resume });
    const welcome = await client.next('welcome');
    expect(welcome.lastSeq).toBe(6);
    expect(welcome.resumeToken).not.toBe(first.resumeToken);
    const missed = await client.items(3);
    expect(missed.map((i) => [i.seq, i.item.id, i.re])).toEqual(
      sent.slice(3).map((i) => [i.seq, i.item.id, undefined]),
    );
    client.send({ type: 'more', id: 'm2', n: 2 });
    expect((await client.items(2)).map((i) => i.seq)).toEqual([7, 8]);

    const stale = await connect();
    stale.send({ type: 'hello', id: 'old', protocol: PROTOCOL_VERSION, resume });
    expect(await stale.next('error')).toMatchObject({
      id: 'old',
      code: 'SESSION_BAD_RESUME_TOKEN',
      retryable: false,
    });
    expect((await stale.closed).code).toBe(4410);
  });

  it('hands the session to the newer connection and closes the older with 4409', async () => {
    const older = await started(3);
    const newer = await connect();
    const resume = { sessionId: older.sessionId, resumeToken: older.resumeToken, lastSeq: 0 };
    newer.send({ type: 'hello', id: 'r', protocol: PROTOCOL_VERSION, resume });
    await newer.next('welcome');
    expect((await older.client.next('error')).code).toBe('SESSION_TAKEN_OVER');
    expect((await older.client.closed).code).toBe(4409);
    newer.send({ type: 'more', id: 'm', n: 3 });
    expect((await newer.items(3)).map((i) => i.seq)).toEqual([1, 2, 3]);
  });

  it('ends on end (4000) and refuses a later resume with SESSION_ENDED (4410)', async () => {
    const { client, sessionId, resumeToken } = await started(4);
    client.send({ type: 'end', id: 'e' });
    expect((await client.next('ended')).id).toBe('e');
    expect((await client.closed).code).toBe(4000);
    const again = await connect();
    again.send({
      type: 'hello',
      id: 'r',
      protocol: PROTOCOL_VERSION,
      resume: { sessionId, resumeToken, lastSeq: 0 },
    });
    expect((await again.next('error')).code).toBe('SESSION_ENDED');
    expect((await again.closed).code).toBe(4410);
  });

  it('feedback reaches exactly the items a resume re-sends: the last historyWindow delivered', async () => {
    const { client, sessionId, resumeToken } = await started(9);
    const delivered: number[] = [];
    for (let i = 0; i < 3; i++) {
      client.send({ type: 'more', id: `m${i}`, n: 50 });
      for (const item of await client.items(50)) delivered.push(item.seq);
    }
    expect(delivered.at(-1)).toBe(150);
    client.close();
    await client.closed;
    const back = await connect();
    back.send({
      type: 'hello',
      id: 'r',
      protocol: PROTOCOL_VERSION,
      resume: { sessionId, resumeToken, lastSeq: 0 },
    });
    await back.next('welcome');
    await back.settle();
    const resent = back.frames.filter((f) => f.type === 'item').map((f) => f.seq as number);
    back.frames.length = 0;
    const oldestResent = Math.min(...resent);
    back.send({ type: 'feedback', id: 'kept', seq: oldestResent, kind: 'completed' });
    expect(await back.next('ack')).toMatchObject({ id: 'kept' });
    back.send({ type: 'feedback', id: 'gone', seq: oldestResent - 1, kind: 'completed' });
    expect(await back.next('error')).toMatchObject({ id: 'gone', code: 'SESSION_UNKNOWN_SEQ' });
    expect(resent.length).toBe(100);
  });
});
