import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { createWsServer, type WsServer, type WsServerOptions } from '../../../adapters/ws/wsServer.ts';
import { FakeSessionService } from './fakeSessionService.ts';
import { TestClient } from './testClient.ts';

let service: FakeSessionService;
let server: WsServer;
let url: string;
const clients: TestClient[] = [];

async function serve(options: Partial<WsServerOptions> = {}): Promise<void> {
  await server?.close();
  server = await createWsServer({ service, port: 0, ...options });
  url = `ws://127.0.0.1:${server.address().port}`;
}

async function connect(options?: ConstructorParameters<typeof TestClient>[1]): Promise<TestClient> {
  const client = await TestClient.connect(url, options);
  clients.push(client);
  return client;
}

/** A connected client with a started session. */
async function started(): Promise<{ client: TestClient; sessionId: string; resumeToken: string }> {
  const client = await connect();
  client.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, start: { seed: 1 } });
  const welcome = await client.next('welcome');
  return { client, sessionId: welcome.sessionId, resumeToken: welcome.resumeToken };
}

/** The server still serves a fresh session end to end. */
async function serverStillWorks(): Promise<void> {
  const { client } = await started();
  client.send({ type: 'more', id: 'ok', n: 2 });
  const items = await client.items(2);
  expect(items.map((i) => i.seq)).toEqual([1, 2]);
}

beforeEach(async () => {
  service = new FakeSessionService();
  await serve();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

describe('handshake', () => {
  it('answers hello with welcome: session, token, limits, heartbeat, grace', async () => {
    const client = await connect();
    client.send({ type: 'hello', id: 'h1', protocol: PROTOCOL_VERSION, start: { intent: { tag: 'jazz' } } });
    const welcome = await client.next('welcome');
    expect(welcome).toMatchObject({
      id: 'h1',
      protocol: PROTOCOL_VERSION,
      sessionId: 's1',
      lastSeq: 0,
      graceMs: 60_000,
    });
    expect(welcome.resumeToken).toBe('t-s1-0');
    expect(welcome.limits).toEqual(DEFAULT_LIMITS);
    expect(welcome.heartbeatMs).toBeGreaterThan(0);
  });

  it('closes with 4408 when no hello comes within the time box', async () => {
    await serve({ handshakeTimeoutMs: 50 });
    const client = await connect();
    expect((await client.closed).code).toBe(4408);
  });

  it('refuses a request before hello with PROTO_HELLO_REQUIRED and closes 4400', async () => {
    const client = await connect();
    client.send({ type: 'more', id: 'm', n: 1 });
    expect(await client.next('error')).toMatchObject({
      id: 'm',
      code: 'PROTO_HELLO_REQUIRED',
      retryable: false,
    });
    expect((await client.closed).code).toBe(4400);
  });

  it('closes 4400 when the first frame is not valid JSON', async () => {
    const client = await connect();
    client.sendRaw('hello?');
    expect((await client.next('error')).code).toBe('PROTO_MALFORMED_JSON');
    expect((await client.closed).code).toBe(4400);
  });

  it('refuses another protocol version with PROTO_VERSION_UNSUPPORTED and closes 4406', async () => {
    const client = await connect();
    client.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION + 1 });
    expect((await client.next('error')).code).toBe('PROTO_VERSION_UNSUPPORTED');
    expect((await client.closed).code).toBe(4406);
  });

  it('keeps the socket in its handshake after a refused start, so a corrected hello works', async () => {
    const client = await connect();
    client.send({
      type: 'hello',
      id: 'bad',
      protocol: PROTOCOL_VERSION,
      start: { intent: { itemId: 'nope' } },
    });
    expect(await client.next('error')).toMatchObject({
      id: 'bad',
      code: 'ENGINE_UNKNOWN_ITEM',
      retryable: false,
    });
    client.send({ type: 'hello', id: 'good', protocol: PROTOCOL_VERSION });
    expect((await client.next('welcome')).id).toBe('good');
  });

  it('handles requests pipelined behind hello once it is answered', async () => {
    const client = await connect();
    client.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION });
    client.send({ type: 'more', id: 'm', n: 2 });
    await client.next('welcome');
    expect((await client.items(2)).map((i) => [i.seq, i.re])).toEqual([
      [1, 'm'],
      [2, 'm'],
    ]);
  });

  it('answers a request pipelined behind a refused start with PROTO_HELLO_REQUIRED, socket still open', async () => {
    const client = await connect();
    client.send({
      type: 'hello',
      id: 'bad',
      protocol: PROTOCOL_VERSION,
      start: { intent: { itemId: 'nope' } },
    });
    client.send({ type: 'more', id: 'm', n: 2 });
    expect((await client.next('error', (e) => e.id === 'm')).code).toBe('PROTO_HELLO_REQUIRED');
    client.send({ type: 'hello', id: 'good', protocol: PROTOCOL_VERSION });
    expect((await client.next('welcome')).id).toBe('good');
  });

  it('answers a second hello with PROTO_ALREADY_OPEN and keeps the session', async () => {
    const { client } = await started();
    client.send({ type: 'hello', id: 'h2', protocol: PROTOCOL_VERSION });
    expect(await client.next('error')).toMatchObject({ id: 'h2', code: 'PROTO_ALREADY_OPEN' });
    client.send({ type: 'more', id: 'm', n: 1 });
    expect((await client.next('item')).seq).toBe(1);
  });
});

describe('credit and items', () => {
  it('sends exactly the items asked for, in seq order, each naming its more', async () => {
    const { client, sessionId } = await started();
    client.send({ type: 'more', id: 'm1', n: 3 });
    client.send({ type: 'more', id: 'm2', n: 2 });
    const items = await client.items(5);
    expect(items.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(items.map((i) => i.re)).toEqual(['m1', 'm1', 'm1', 'm2', 'm2']);
    expect(items[0].item).toMatchObject({
      id: 'item-1',
      title: 'Title 1',
      durationMs: 180_000,
      degraded: false,
    });
    expect(items[0].item.reasons).toBeUndefined();
    await client.settle();
    expect(client.frames.filter((f) => f.type === 'item')).toEqual([]);
    expect(service.asked.get(sessionId)).toBe(5);
  });

  it('fetches large credit in chunks and never asks the session for more than the credit', async () => {
    await serve({ chunk: 4 });
    const { client, sessionId } = await started();
    client.send({ type: 'more', id: 'm', n: 23 });
    const items = await client.items(23);
    expect(items.at(-1)?.seq).toBe(23);
    await client.settle();
    expect(service.asked.get(sessionId)).toBe(23);
  });

  it('stops fetching while a slow reader leaves frames buffered, and catches up when it reads again', async () => {
    await serve({ chunk: 1, highWaterBytes: 64 * 1024 });
    service.titleChars = 512 * 1024;
    const { client, sessionId } = await started();
    const socket = (client.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    client.send({ type: 'more', id: 'm1', n: 50 });
    client.send({ type: 'more', id: 'm2', n: 50 });
    // Wait until the server stops asking for items: 100 items of 512 KiB are far more than socket buffers hold.
    let last = -1;
    let stableTurns = 0;
    const deadline = Date.now() + 5000;
    while ((last <= 0 || stableTurns < 200) && Date.now() < deadline) {
      const now = service.asked.get(sessionId) ?? 0;
      stableTurns = now === last ? stableTurns + 1 : 0;
      last = now;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(last).toBeGreaterThan(0);
    expect(last).toBeLessThan(100);
    socket.resume();
    const items = await client.items(100);
    expect(items.at(-1)?.seq).toBe(100);
    expect(service.asked.get(sessionId)).toBe(100);
  });

  it('sends reasons when configured to', async () => {
    await serve({ reasons: true });
    const { client } = await started();
    client.send({ type: 'more', id: 'm', n: 1 });
    expect((await client.next('item')).item.reasons).toMatchObject({ model: 'fake', source: ['ann'] });
  });

  it('says starved when the session runs dry, and keeps the rest of the credit', async () => {
    service.limit = 3;
    const { client } = await started();
    client.send({ type: 'more', id: 'm', n: 5 });
    await client.items(3);
    expect(await client.next('starved')).toMatchObject({ credit: 2, re: 'm' });
  });

  it('refuses credit above maxCredit with PROTO_CREDIT_EXCEEDED (retryable)', async () => {
    service.limit = 0;
    const { client } = await started();
    client.send({ type: 'more', id: 'a', n: 50 });
    client.send({ type: 'more', id: 'b', n: 50 });
    client.send({ type: 'more', id: 'c', n: 1 });
    expect(await client.next('error')).toMatchObject({
      id: 'c',
      code: 'PROTO_CREDIT_EXCEEDED',
      retryable: true,
    });
  });
});

describe('feedback, steer, pause, play, end', () => {
  it('acks feedback once the session recorded it, then sends what it invalidated', async () => {
    const { client } = await started();
    client.send({ type: 'more', id: 'm', n: 3 });
    await client.items(3);
    client.send({ type: 'feedback', id: 'f1', seq: 1, kind: 'completed' });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'f1' });
    client.send({ type: 'feedback', id: 'f2', seq: 2, kind: 'disliked' });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'f2' });
    expect(await client.next('invalidated')).toEqual({
      type: 'invalidated',
      seqs: [3],
      reason: 'feedback',
      id: 'f2',
    });
  });

  it('acks steer, pause and play', async () => {
    const { client } = await started();
    client.send({ type: 'steer', id: 's', steer: { kind: 'tag', tag: 'jazz' } });
    client.send({ type: 'pause', id: 'p' });
    client.send({ type: 'play', id: 'q' });
    expect((await client.next('ack')).id).toBe('s');
    expect((await client.next('ack')).id).toBe('p');
    expect((await client.next('ack')).id).toBe('q');
  });

  it('ends the session on end: ack, ended, close 4000, no grace window', async () => {
    const { client, sessionId } = await started();
    client.send({ type: 'end', id: 'e' });
    expect((await client.next('ack')).id).toBe('e');
    expect(await client.next('ended')).toMatchObject({ reason: 'ended', id: 'e' });
    expect((await client.closed).code).toBe(4000);
    expect(service.disconnects.filter((d) => d.sessionId === sessionId)).toEqual([]);
  });

  it('forwards notices: invalidated, and ended with close 4000', async () => {
    const { client, sessionId } = await started();
    service.notify(sessionId, { type: 'invalidated', seqs: [4, 5], reason: 'refill' });
    expect(await client.next('invalidated')).toEqual({ type: 'invalidated', seqs: [4, 5], reason: 'refill' });
    service.notify(sessionId, { type: 'ended', reason: 'idle' });
    expect((await client.next('ended')).reason).toBe('idle');
    expect((await client.closed).code).toBe(4000);
  });

  it('closes with 4000 when a request finds the session gone (expired)', async () => {
    const { client, sessionId } = await started();
    const session = service.sessions.get(sessionId);
    if (session) session.ended = true;
    client.send({ type: 'pause', id: 'p' });
    expect(await client.next('error')).toMatchObject({ id: 'p', code: 'SESSION_EXPIRED', retryable: false });
    expect((await client.closed).code).toBe(4000);
    await serverStillWorks();
  });

  it('tells the session when the socket goes away', async () => {
    const { client, sessionId } = await started();
    client.close();
    await service.disconnectedOnce(sessionId);
    expect(service.disconnects).toEqual([{ sessionId, connectionId: expect.any(String) }]);
  });
});

describe('bad input', () => {
  const cases: [string, string | Record<string, unknown>, string][] = [
    ['malformed JSON', '{"type":', 'PROTO_MALFORMED_JSON'],
    ['a non-object', '42', 'PROTO_INVALID_MESSAGE'],
    ['an unknown type', { type: 'rewind', id: 'x' }, 'PROTO_UNKNOWN_TYPE'],
    ['a missing id', { type: 'more', n: 1 }, 'PROTO_MISSING_ID'],
    ['a wrong field type', { type: 'feedback', id: 'x', seq: '1', kind: 'liked' }, 'PROTO_INVALID_FIELD'],
    ['more with n = 0', { type: 'more', id: 'x', n: 0 }, 'PROTO_MORE_OUT_OF_RANGE'],
    ['more with n > maxMore', { type: 'more', id: 'x', n: 51 }, 'PROTO_MORE_OUT_OF_RANGE'],
    [
      'feedback for a seq never sent',
      { type: 'feedback', id: 'x', seq: 9, kind: 'liked' },
      'PROTO_UNKNOWN_SEQ',
    ],
  ];
  for (const [name, frame, code] of cases) {
    it(`answers ${name} with ${code}; the socket and the server carry on`, async () => {
      const { client } = await started();
      client.sendRaw(typeof frame === 'string' ? frame : JSON.stringify(frame));
      const error = await client.next('error');
      expect(error.code).toBe(code);
      expect(error.retryable).toBe(false);
      if (typeof frame !== 'string' && 'id' in frame) expect(error.id).toBe('x');
      client.send({ type: 'more', id: 'after', n: 1 });
      expect(await client.next('item')).toMatchObject({ seq: 1, re: 'after' });
      await serverStillWorks();
    });
  }

  it('answers a binary frame with PROTO_MALFORMED_JSON', async () => {
    const { client } = await started();
    client.sendRaw(Buffer.from([1, 2, 3]));
    expect((await client.next('error')).code).toBe('PROTO_MALFORMED_JSON');
  });

  it('closes with 1009 on a frame above maxPayload; other sessions carry on', async () => {
    const { client } = await started();
    client.send({ type: 'ping', id: 'x'.repeat(DEFAULT_LIMITS.maxPayload) });
    expect((await client.closed).code).toBe(1009);
    await serverStillWorks();
  });

  it('refuses requests beyond maxPending with PROTO_TOO_MANY_REQUESTS', async () => {
    await serve({ limits: { maxPending: 2 } });
    const { client } = await started();
    for (let i = 0; i < 10; i++) client.send({ type: 'pause', id: i });
    expect(await client.next('error')).toMatchObject({ code: 'PROTO_TOO_MANY_REQUESTS', retryable: true });
  });

  it('sends an unexpected failure as INTERNAL without its message, drops the credit, and carries on', async () => {
    const { client } = await started();
    service.failNextMore = new Error('db password is hunter2');
    client.send({ type: 'more', id: 'm', n: 3 });
    const error = await client.next('error');
    expect(error).toMatchObject({ id: 'm', code: 'INTERNAL', retryable: true });
    expect(JSON.stringify(error)).not.toContain('hunter2');
    client.send({ type: 'more', id: 'm2', n: 1 });
    expect((await client.next('item')).re).toBe('m2');
  });
});

describe('resume and takeover', () => {
  it('resumes with a rotated token and re-sends the missed items without using credit', async () => {
    const first = await started();
    first.client.send({ type: 'more', id: 'm', n: 5 });
    await first.client.items(5);
    first.client.close();
    await service.disconnectedOnce(first.sessionId);

    const client = await connect();
    const resume = { sessionId: first.sessionId, resumeToken: first.resumeToken, lastSeq: 2 };
    client.send({ type: 'hello', id: 'r', protocol: PROTOCOL_VERSION, resume });
    const welcome = await client.next('welcome');
    expect(welcome).toMatchObject({ id: 'r', sessionId: first.sessionId, lastSeq: 5 });
    expect(welcome.resumeToken).not.toBe(first.resumeToken);
    const missed = await client.items(3);
    expect(missed.map((i) => [i.seq, i.re])).toEqual([
      [3, undefined],
      [4, undefined],
      [5, undefined],
    ]);
    client.send({ type: 'more', id: 'm2', n: 1 });
    expect(await client.next('item')).toMatchObject({ seq: 6, re: 'm2' });
    client.send({ type: 'feedback', id: 'f', seq: 5, kind: 'liked' });
    expect((await client.next('ack')).id).toBe('f');
  });

  it('refuses a resume with a wrong token: the session code, then close 4410', async () => {
    const first = await started();
    const client = await connect();
    const resume = { sessionId: first.sessionId, resumeToken: 'guess', lastSeq: 0 };
    client.send({ type: 'hello', id: 'r', protocol: PROTOCOL_VERSION, resume });
    expect(await client.next('error')).toMatchObject({
      id: 'r',
      code: 'SESSION_BAD_RESUME_TOKEN',
      retryable: false,
    });
    expect((await client.closed).code).toBe(4410);
    first.client.send({ type: 'more', id: 'm', n: 1 });
    expect((await first.client.next('item')).seq).toBe(1);
  });

  it('gives a session to the newer of two connections and closes the older with 4409', async () => {
    const older = await started();
    const newer = await connect();
    const resume = { sessionId: older.sessionId, resumeToken: older.resumeToken, lastSeq: 0 };
    newer.send({ type: 'hello', id: 'r', protocol: PROTOCOL_VERSION, resume });
    await newer.next('welcome');
    expect((await older.client.next('error')).code).toBe('SESSION_TAKEN_OVER');
    expect((await older.client.closed).code).toBe(4409);
    newer.send({ type: 'more', id: 'm', n: 2 });
    expect((await newer.items(2)).map((i) => i.seq)).toEqual([1, 2]);
    await newer.settle();
    expect(service.disconnects).toEqual([]);
  });
});

describe('attached to an existing http server', () => {
  it('serves only its path, and leaves the http server running on close', async () => {
    const http = createServer((_req, res) => res.end('page'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const attached = await createWsServer({ service, server: http, path: '/ws' });
    const base = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const wrong = new TestClient(`${base}/elsewhere`);
      await expect(wrong.opened).rejects.toThrow(/404/);
      const client = await TestClient.connect(`${base}/ws`);
      clients.push(client);
      client.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION });
      await client.next('welcome');
      await attached.close();
      expect((await client.closed).code).toBe(1001);
      expect(http.listening).toBe(true);
    } finally {
      await attached.close();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});

describe('heartbeat', () => {
  it('terminates a peer that stops answering pings; a live one and the app ping carry on', async () => {
    await serve({ heartbeatMs: 20 });
    const { client: live } = await started();
    const dead = await connect({ autoPong: false });
    dead.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION });
    await dead.next('welcome');
    expect((await dead.closed).code).toBe(1006);
    live.send({ type: 'ping', id: 7 });
    expect(await live.next('pong')).toEqual({ type: 'pong', id: 7 });
    expect(server.connections()).toBe(1);
  });
});
