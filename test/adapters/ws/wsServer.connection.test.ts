import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { createWsServer } from '../../../adapters/ws/wsServer.ts';
import { TestClient } from './testClient.ts';
import {
  clients,
  connect,
  serve,
  serveEachTest,
  server,
  serverStillWorks,
  service,
  started,
} from './wsServerFixtures.ts';

// The socket under the protocol: bad frames and limits, a server attached to an http server, the heartbeat.

serveEachTest();

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
