import { afterEach, beforeEach, expect } from 'vitest';
import { PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { createWsServer, type WsServer, type WsServerOptions } from '../../../adapters/ws/wsServer.ts';
import { FakeSessionService } from './fakeSessionService.ts';
import { TestClient } from './testClient.ts';

/** Helpers for the ws server tests (wsServer*.test.ts): a real server on port 0 over a FakeSessionService. */

/** The running test's service and server: set before each test by `serveEachTest`, replaced by `serve`. */
export let service: FakeSessionService;
export let server: WsServer;
let url: string;
/** Every client a test opened (by `connect`, or pushed here); closed after each test. */
export const clients: TestClient[] = [];

export async function serve(options: Partial<WsServerOptions> = {}): Promise<void> {
  await server?.close();
  server = await createWsServer({ service, port: 0, ...options });
  url = `ws://127.0.0.1:${server.address().port}`;
}

export async function connect(options?: ConstructorParameters<typeof TestClient>[1]): Promise<TestClient> {
  const client = await TestClient.connect(url, options);
  clients.push(client);
  return client;
}

/** A connected client with a started session. */
export async function started(): Promise<{ client: TestClient; sessionId: string; resumeToken: string }> {
  const client = await connect();
  client.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, start: { seed: 1 } });
  const welcome = await client.next('welcome');
  return { client, sessionId: welcome.sessionId, resumeToken: welcome.resumeToken };
}

/** The server still serves a fresh session end to end. */
export async function serverStillWorks(): Promise<void> {
  const { client } = await started();
  client.send({ type: 'more', id: 'ok', n: 2 });
  const items = await client.items(2);
  expect(items.map((i) => i.seq)).toEqual([1, 2]);
}

/** A fresh service and server before each test of the calling file; its clients and server closed after. */
export function serveEachTest(): void {
  beforeEach(async () => {
    service = new FakeSessionService();
    await serve();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await server.close();
  });
}
