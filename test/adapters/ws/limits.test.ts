import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { createWsServer, type WsServer, type WsServerOptions } from '../../../adapters/ws/wsServer.ts';
import { FakeSessionService } from './fakeSessionService.ts';
import { TestClient } from './testClient.ts';

let service: FakeSessionService;
let server: WsServer | undefined;
let url: string;
const clients: TestClient[] = [];

async function serve(options: Partial<WsServerOptions> = {}): Promise<WsServer> {
  await server?.close();
  server = await createWsServer({ service, port: 0, ...options });
  url = `ws://127.0.0.1:${server.address().port}`;
  return server;
}

async function connect(options?: ConstructorParameters<typeof TestClient>[1]): Promise<TestClient> {
  const client = await TestClient.connect(url, options);
  clients.push(client);
  return client;
}

async function hello(client: TestClient, extra: Record<string, unknown> = {}): Promise<void> {
  client.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, start: { seed: 1 }, ...extra });
}

/** Waits (never sleeps a fixed time) until `done()` holds, or fails after `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeEach(() => {
  service = new FakeSessionService();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate();
  await server?.close();
  server = undefined;
});

describe('liveness and outbound memory', () => {
  it('terminates a client that sends app pings but never answers WS pings: only a pong counts as alive', async () => {
    // Long enough between heartbeats that app pings keep coming in while the server waits for a pong, even
    // on a loaded machine where a 5 ms interval fires late.
    const s = await serve({ heartbeatMs: 120 });
    const chatty = await connect({ autoPong: false });
    await hello(chatty);
    await chatty.next('welcome');
    let n = 0;
    const timer = setInterval(
      () => chatty.ws.readyState === chatty.ws.OPEN && chatty.send({ type: 'ping', id: n++ }),
      5,
    );
    try {
      expect((await chatty.closed).code).toBe(1006);
    } finally {
      clearInterval(timer);
    }
    expect(n).toBeGreaterThan(3);
    await until(() => s.connections() === 0, 'the socket to go');
  });

  it('closes a client that sends and never reads once its unread frames pass maxBufferedBytes, whatever their kind', async () => {
    const s = await serve({
      serverLimits: { maxBufferedBytes: 64 * 1024, messagesPerSecond: 1e9, messageBurst: 1e9 },
    });
    const client = await connect();
    await hello(client);
    await client.next('welcome');
    // The client stops reading: pongs (not items) pile up, first in the kernel's buffers, then in the server's.
    (client.ws as unknown as { _socket: Socket })._socket.pause();
    const id = 'p'.repeat(64);
    let sent = 0;
    while (s.connections() > 0 && sent < 400_000) {
      for (let i = 0; i < 2_000; i++) client.send({ type: 'ping', id });
      sent += 2_000;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => s.connections() === 0, 'the slow reader to be closed');
    expect(sent).toBeLessThan(400_000);
  });
});

describe('limits', () => {
  it('closes a connection that floods frames with PROTO_RATE_LIMITED and 4429; others carry on', async () => {
    await serve({ serverLimits: { messagesPerSecond: 10, messageBurst: 20 } });
    const calm = await connect();
    await hello(calm);
    await calm.next('welcome');
    const flood = await connect();
    await hello(flood);
    await flood.next('welcome');
    for (let i = 0; i < 40; i++) flood.send({ type: 'ping', id: i });
    expect(await flood.next('error')).toMatchObject({ code: 'PROTO_RATE_LIMITED', retryable: true });
    expect((await flood.closed).code).toBe(4429);
    calm.send({ type: 'more', id: 'm', n: 1 });
    expect(await calm.next('item')).toMatchObject({ seq: 1 });
  });

  it('refuses connections past the per-address and total caps with PROTO_OVERLOADED and 1013, and admits again once one closes', async () => {
    const s = await serve({ serverLimits: { maxConnectionsPerAddress: 2 } });
    const a = await connect();
    await connect();
    const third = await connect();
    expect(await third.next('error')).toMatchObject({ code: 'PROTO_OVERLOADED', retryable: true });
    expect((await third.closed).code).toBe(1013);
    a.close();
    await until(() => s.connections() === 1, 'the first socket to close');
    const again = await connect();
    await hello(again);
    await again.next('welcome');

    await serve({ serverLimits: { maxConnections: 1 } });
    await connect();
    const over = await connect();
    expect((await over.closed).code).toBe(1013);
  });

  it('limits open sessions per principal and the rate at which one starts them (1013)', async () => {
    await serve({ serverLimits: { maxSessionsPerPrincipal: 1 } });
    const first = await connect();
    await hello(first);
    await first.next('welcome');
    const second = await connect();
    await hello(second);
    expect(await second.next('error')).toMatchObject({ id: 'h', code: 'PROTO_OVERLOADED' });
    expect((await second.closed).code).toBe(1013);
    first.close();
    await first.closed;
    const third = await connect();
    await hello(third);
    // The count is released when the socket closes: the next session may open.
    await third
      .next('welcome', () => true, 3_000)
      .catch(async () => {
        throw new Error(`no welcome: ${JSON.stringify(third.frames)}`);
      });

    await serve({ serverLimits: { sessionStartsPerMinute: 2 } });
    for (let i = 0; i < 2; i++) {
      const ok = await connect();
      await hello(ok);
      await ok.next('welcome');
      ok.close();
    }
    const tooFast = await connect();
    await hello(tooFast);
    expect(await tooFast.next('error')).toMatchObject({ code: 'PROTO_RATE_LIMITED', retryable: true });
    expect((await tooFast.closed).code).toBe(1013);
  });

  it('refuses new sessions with 1013 while refreshes wait too long, and serves open ones', async () => {
    let waitMs = 0;
    service.refreshWaitMs = () => waitMs;
    await serve({ serverLimits: { overloadRefreshWaitMs: 5_000 } });
    const open = await connect();
    await hello(open);
    await open.next('welcome');
    waitMs = 5_001;
    const late = await connect();
    await hello(late);
    expect(await late.next('error')).toMatchObject({
      code: 'PROTO_OVERLOADED',
      message: expect.stringContaining('decisions behind'),
    });
    expect((await late.closed).code).toBe(1013);
    open.send({ type: 'more', id: 'm', n: 1 });
    expect(await open.next('item')).toMatchObject({ seq: 1 });
    waitMs = 0;
    const after = await connect();
    await hello(after);
    await after.next('welcome');
  });

  it('refuses new sessions with 1013 while the event loop is overloaded, and serves open ones', async () => {
    const s = await serve({ serverLimits: { overloadLagMs: 100 } });
    const open = await connect();
    await hello(open);
    await open.next('welcome');
    // Block the loop (as a burst of heavy decisions would) until the server's own probe sees it.
    const deadline = Date.now() + 10_000;
    while (s.eventLoopLagMs() <= 100 && Date.now() < deadline) {
      const until = Date.now() + 250;
      while (Date.now() < until) {}
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(s.eventLoopLagMs()).toBeGreaterThan(100);
    const late = await connect();
    await hello(late);
    expect(await late.next('error')).toMatchObject({ code: 'PROTO_OVERLOADED' });
    expect((await late.closed).code).toBe(1013);
    open.send({ type: 'more', id: 'm', n: 1 });
    expect(await open.next('item')).toMatchObject({ seq: 1 });
  });
});

describe('the protocol as documented', () => {
  it('answers a hello with a protocol out of any range with PROTO_VERSION_UNSUPPORTED and 4406', async () => {
    await serve();
    for (const protocol of [2_000_000, -1, 1.5]) {
      const client = await connect();
      client.send({ type: 'hello', id: 'h', protocol, start: { future: true } });
      expect(await client.next('error')).toMatchObject({ id: 'h', code: 'PROTO_VERSION_UNSUPPORTED' });
      expect((await client.closed).code).toBe(4406);
    }
    const wrongType = await connect();
    wrongType.send({ type: 'hello', id: 'h', protocol: '1' });
    expect(await wrongType.next('error')).toMatchObject({ code: 'PROTO_INVALID_FIELD' });
  });

  it('answers any second hello on an open connection with PROTO_ALREADY_OPEN, even a malformed one', async () => {
    await serve();
    const client = await connect();
    await hello(client);
    await client.next('welcome');
    client.send({ type: 'hello', id: 'again', protocol: 2_000_000 });
    client.send({ type: 'hello', id: 'bad', protocol: 1, start: { nope: 1 } });
    expect(await client.next('error')).toMatchObject({ id: 'again', code: 'PROTO_ALREADY_OPEN' });
    expect(await client.next('error')).toMatchObject({ id: 'bad', code: 'PROTO_ALREADY_OPEN' });
    client.send({ type: 'more', id: 'm', n: 1 });
    expect(await client.next('item')).toMatchObject({ seq: 1 });
  });

  it('keeps the session when a malformed frame comes right behind a hello still being answered', async () => {
    await serve();
    const client = await connect();
    await hello(client);
    client.sendRaw('{"type":');
    const welcome = await client.next('welcome');
    expect(await client.next('error')).toMatchObject({ code: 'PROTO_MALFORMED_JSON' });
    client.send({ type: 'more', id: 'm', n: 2 });
    expect((await client.items(2)).map((i) => i.seq)).toEqual([1, 2]);
    expect(service.sessions.get(welcome.sessionId)?.owner).toBeDefined();
  });

  it('answers parse errors in order, behind the requests queued before them', async () => {
    await serve();
    const client = await connect();
    await hello(client);
    await client.next('welcome');
    const order: string[] = [];
    client.ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      order.push(`${f.type}:${f.id}`);
    });
    client.send({ type: 'pause', id: 'p' });
    client.send({ type: 'more', id: 'x', n: 0 });
    client.send({ type: 'play', id: 'q' });
    client.sendRaw('[]');
    await client.settle();
    expect(order.filter((o) => !o.startsWith('pong'))).toEqual([
      'ack:p',
      'error:x',
      'ack:q',
      'error:undefined',
    ]);
  });

  it('closes a resume by another principal with SESSION_FORBIDDEN and 4403', async () => {
    // Principals here are client addresses: the two clients differ by the proxy hop the server trusts.
    await serve({ trustProxy: true });
    const owner = await connect({ headers: { 'x-forwarded-for': '10.0.0.1' } });
    await hello(owner);
    const welcome = await owner.next('welcome');
    owner.close();
    const thief = await connect({ headers: { 'x-forwarded-for': '10.0.0.2' } });
    thief.send({
      type: 'hello',
      id: 'r',
      protocol: PROTOCOL_VERSION,
      resume: { sessionId: welcome.sessionId, resumeToken: welcome.resumeToken, lastSeq: 0 },
    });
    expect(await thief.next('error')).toMatchObject({ id: 'r', code: 'SESSION_FORBIDDEN', retryable: false });
    expect((await thief.closed).code).toBe(4403);
    const back = await connect({ headers: { 'x-forwarded-for': '10.0.0.1' } });
    back.send({
      type: 'hello',
      id: 'r',
      protocol: PROTOCOL_VERSION,
      resume: { sessionId: welcome.sessionId, resumeToken: welcome.resumeToken, lastSeq: 0 },
    });
    expect(await back.next('welcome')).toMatchObject({ sessionId: welcome.sessionId });
  });
});
