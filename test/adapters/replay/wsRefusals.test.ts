import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { replayWire } from '../../../adapters/replay/wsReplay.ts';
import { engineHistoryWindow } from '../../../adapters/runtime.ts';
import { createWsServer, type WsServer, type WsServerOptions } from '../../../adapters/ws/wsServer.ts';
import { Catalog } from '../../../engine/catalog.ts';
import { createEngine } from '../../../engine/engine.ts';
import type { CatalogRow } from '../../../engine/item.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import type { SessionService } from '../../../sessions/sessionService.ts';
import type { SessionLogEvent, SessionStore } from '../../../sessions/sessionStore.ts';
import { TestClient } from '../ws/testClient.ts';

// Refusals a connection decides from its surroundings (a rate, how many requests wait) are not in the frames
// the client sent: the log records them (`refuse`), and exact replay applies them where they happened.

const rows: CatalogRow[] = Array.from({ length: 300 }, (_, i) => ({
  id: `t${i}`,
  title: `Track ${i}`,
  artist: `Artist ${i % 60}`,
  tags: [['jazz', 'rock', 'calm'][i % 3]],
  durationMs: 180_000,
  popularity: (i * 7919) % 1000,
}));
const engine = createEngine({
  catalog: new Catalog(rows),
  scorer: createFallbackScorer(),
  config: { historyWindow: engineHistoryWindow(100) },
});

let store: SessionStore;
let service: SessionService | undefined;
let server: WsServer | undefined;

async function open(options: Partial<WsServerOptions>): Promise<{ client: TestClient; sid: string }> {
  store = createMemoryStore();
  service = createSessionManager({ engine, store, onError: () => {} });
  server = await createWsServer({ service, port: 0, ...options });
  const client = await TestClient.connect(`ws://127.0.0.1:${server.address().port}`);
  client.send({ type: 'hello', id: 1, protocol: PROTOCOL_VERSION, start: { seed: 3 } });
  const sid = (await client.next('welcome')).sessionId;
  return { client, sid };
}

/** The session's log once the server has seen the socket go (the disconnect carries the last frames). */
async function logOf(sid: string): Promise<SessionLogEvent[]> {
  const deadline = Date.now() + 5000;
  while (!(await store.readEvents(sid)).some((e) => e.event.type === 'client.disconnected')) {
    if (Date.now() > deadline) throw new Error('no client.disconnected in the log');
    await new Promise((r) => setTimeout(r, 10));
  }
  return (await store.readEvents(sid)).map((e) => e.event);
}

function refusals(events: SessionLogEvent[]): unknown[] {
  return events.flatMap((e) =>
    ((e as { wire?: [string, string, unknown][] }).wire ?? [])
      .filter((r) => r[1] === 'refuse')
      .map((r) => r[2]),
  );
}

afterEach(async () => {
  await server?.close();
  await service?.close();
  server = service = undefined;
});

describe('exact replay of refusals the live limits decided', () => {
  it('replays a connection closed for flooding (PROTO_RATE_LIMITED, 4429) frame for frame', async () => {
    const { client, sid } = await open({ serverLimits: { messagesPerSecond: 10, messageBurst: 20 } });
    client.send({ type: 'more', id: 2, n: 3 });
    await client.items(3);
    for (let i = 0; i < 40; i++) client.send({ type: 'ping', id: 100 + i });
    expect(await client.next('error')).toMatchObject({ code: 'PROTO_RATE_LIMITED' });
    expect((await client.closed).code).toBe(4429);
    const events = await logOf(sid);
    expect(refusals(events)).toEqual([expect.objectContaining({ close: 4429, error: 'PROTO_RATE_LIMITED' })]);
    const report = await replayWire(events, engine);
    expect(report.callMismatch).toBeNull();
    expect(report.firstFrameDivergence).toBeNull();
    expect(report.framesMatched).toBe(report.framesRecorded);
  });

  it('replays requests turned away because too many waited (PROTO_TOO_MANY_REQUESTS), and those that were not', async () => {
    const { client, sid } = await open({ limits: { maxPending: 1 } });
    // Sent in one go: the first waits on its decision while the rest arrive.
    for (let i = 0; i < 4; i++) client.send({ type: 'more', id: 10 + i, n: 2 });
    const refused = await client.next('error', (f) => f.code === 'PROTO_TOO_MANY_REQUESTS');
    expect(refused.id).toBeGreaterThan(10);
    client.send({ type: 'ping', id: 20 });
    await client.next('pong', (f) => f.id === 20);
    client.close();
    const events = await logOf(sid);
    expect(refusals(events).length).toBeGreaterThan(0);
    const report = await replayWire(events, engine);
    if (process.env.PEEK)
      console.log(
        JSON.stringify(events.map((e) => [e.type, (e as { wire?: unknown }).wire])),
        JSON.stringify(report.firstFrameDivergence),
      );
    expect(report.callMismatch).toBeNull();
    expect(report.firstFrameDivergence).toBeNull();
    expect(report.framesMatched).toBe(report.framesRecorded);
    expect(report.deliveries.diverged).toBe(0);
  });
});
