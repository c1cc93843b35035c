import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { connect, serve, serveEachTest, service, started } from './wsServerFixtures.ts';

// Opening a session on a socket: hello and its refusals, resume with a token, takeover by a newer socket.

serveEachTest();

/** A hello whose start names an item the catalog lacks (refused ENGINE_UNKNOWN_ITEM). */
const badStart = {
  type: 'hello',
  id: 'bad',
  protocol: PROTOCOL_VERSION,
  start: { intent: { itemId: 'nope' } },
};

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
    client.send(badStart);
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
    client.send(badStart);
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
