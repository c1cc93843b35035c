import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { replayWire } from '../../../adapters/replay/wsReplay.ts';
import { engineHistoryWindow } from '../../../adapters/runtime.ts';
import { createWsServer, type WsServer } from '../../../adapters/ws/wsServer.ts';
import { Catalog } from '../../../engine/catalog.ts';
import { createEngine } from '../../../engine/engine.ts';
import type { CatalogRow } from '../../../engine/item.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import type { SessionService } from '../../../sessions/sessionService.ts';
import type { SessionLogEvent, SessionStore } from '../../../sessions/sessionStore.ts';
import { TestClient } from '../ws/testClient.ts';

const tags = ['jazz', 'rock', 'pop', 'calm', 'dance', 'folk'];
const rows: CatalogRow[] = Array.from({ length: 600 }, (_, i) => ({
  id: `t${i}`,
  title: `Track ${i}`,
  artist: `Artist ${i % 90}`,
  album: `Album ${i % 180}`,
  tags: [tags[i % tags.length], tags[(i * 5) % tags.length]],
  durationMs: 150_000 + ((i * 7919) % 150_000),
  popularity: (i * 104_729) % 1000,
}));
const engine = createEngine({
  catalog: new Catalog(rows),
  scorer: createFallbackScorer(),
  config: { historyWindow: engineHistoryWindow(100) },
});

let store: SessionStore;
let service: SessionService;
let server: WsServer;
let events: SessionLogEvent[];
let sessionId: string;

beforeAll(async () => {
  store = createMemoryStore();
  service = createSessionManager({ engine, store, onError: () => {} });
  server = await createWsServer({ service, port: 0, reasons: true });
  const client = await TestClient.connect(`ws://127.0.0.1:${server.address().port}`);
  client.send({
    type: 'hello',
    id: 1,
    protocol: PROTOCOL_VERSION,
    start: { seed: 5, intent: { tag: 'jazz' } },
  });
  sessionId = (await client.next('welcome')).sessionId;
  client.send({ type: 'more', id: 2, n: 6 });
  const first = await client.items(6);
  client.send({ type: 'feedback', id: 3, seq: first[1].seq, kind: 'disliked' });
  client.send({ type: 'feedback', id: 4, seq: first[2].seq, kind: 'skipped', atMs: 3000 });
  await client.next('ack', (f) => f.id === 4);
  client.send({ type: 'steer', id: 5, steer: { kind: 'tag', tag: 'calm' } });
  await client.next('ack', (f) => f.id === 5);
  client.send({ type: 'ping', id: 6 });
  client.send({ type: 'more', id: 7, n: 12 });
  await client.items(12);
  client.send({ type: 'feedback', id: 8, seq: 999, kind: 'liked' });
  await client.next('error', (f) => f.id === 8);
  client.send({ type: 'pause', id: 9 });
  client.send({ type: 'play', id: 10 });
  await client.next('ack', (f) => f.id === 10);
  client.close();
  // The disconnect is logged (with the last frames) once the server saw the close.
  const deadline = Date.now() + 5000;
  while (!(await store.readEvents(sessionId)).some((e) => e.event.type === 'client.disconnected')) {
    if (Date.now() > deadline) throw new Error('no client.disconnected in the log');
    await new Promise((r) => setTimeout(r, 10));
  }
  events = (await store.readEvents(sessionId)).map((e) => e.event);
});

afterAll(async () => {
  await server.close();
  await service.close();
});

describe('exact replay of a WebSocket session', () => {
  it('re-drives the real connection: every frame it sends hashes as recorded, every delivery as logged', async () => {
    const report = await replayWire(events, engine);
    if (process.env.PEEK) console.log(JSON.stringify({ ...report, delivered: report.delivered.length }));
    expect(report.recorded).toBe(true);
    expect(report.callMismatch).toBeNull();
    expect(report.firstFrameDivergence).toBeNull();
    // welcome, 18 items, acks, pong, the error for seq 999, at least.
    expect(report.framesRecorded).toBeGreaterThan(24);
    expect(report.framesMatched).toBe(report.framesRecorded);
    expect(report.deliveries.diverged).toBe(0);
    expect(report.deliveries.compared).toBeGreaterThan(1);
    expect(report.frames.ok).toBe(true);
  });

  it('replays a session its server drained (SIGTERM): the close the server made is in the log', async () => {
    const drainStore = createMemoryStore();
    const drainService = createSessionManager({ engine, store: drainStore, onError: () => {} });
    const drained = await createWsServer({ service: drainService, port: 0 });
    const client = await TestClient.connect(`ws://127.0.0.1:${drained.address().port}`);
    client.send({ type: 'hello', id: 1, protocol: PROTOCOL_VERSION, start: { seed: 8 } });
    const sid = (await client.next('welcome')).sessionId;
    client.send({ type: 'more', id: 2, n: 3 });
    await client.items(3);
    await drained.drain();
    const deadline = Date.now() + 5000;
    while (!(await drainStore.readEvents(sid)).some((e) => e.event.type === 'client.disconnected')) {
      if (Date.now() > deadline) throw new Error('no client.disconnected in the log');
      await new Promise((r) => setTimeout(r, 10));
    }
    const log = (await drainStore.readEvents(sid)).map((e) => e.event);
    const result = await replayWire(log, engine);
    expect(result.callMismatch).toBeNull();
    expect(result.firstFrameDivergence).toBeNull();
    await drained.close();
    await drainService.close();
  });

  it('logs no secret: the resume token is neither in the frames in nor in the hashes out', () => {
    const text = JSON.stringify(events);
    expect(text).toContain('"open"');
    expect(text).not.toMatch(/resumeToken":"[A-Za-z0-9_-]{20,}/);
  });

  it('finds a tampered decision at the first frame it changes, with both sides', async () => {
    const tampered = structuredClone(events);
    const pool = tampered.find((e) => e.type === 'engine.pool') as unknown as {
      pool: { ids: string[]; scores: number[] };
    };
    // The best candidate scored last: the first pick changes.
    pool.pool.scores[0] = -1e6;
    const report = await replayWire(tampered, engine);
    expect(report.firstFrameDivergence).not.toBeNull();
    expect(report.firstFrameDivergence!.expected?.type).toBe('item');
    expect(report.firstFrameDivergence!.got?.text).toMatch(/^\{"type":"item"/);
    expect(report.deliveries.diverged).toBeGreaterThan(0);
  });

  it('finds a client frame the log says was different (a call the connection did not make)', async () => {
    const tampered = structuredClone(events);
    const more = tampered.find((e) => e.type === 'feed.more') as unknown as { n: number };
    more.n += 1;
    const report = await replayWire(tampered, engine);
    expect(report.callMismatch).toMatchObject({ expected: expect.stringContaining('feed.more') });
  });
});
