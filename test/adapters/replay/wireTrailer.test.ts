import { afterAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../../adapters/protocol.ts';
import { replayWire, wireRecords } from '../../../adapters/replay/wsReplay.ts';
import { createWsServer, type WsServer } from '../../../adapters/ws/wsServer.ts';
import { createEngine } from '../../../engine/engine.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { readLog, WIRE_TRAILER } from '../../../sessions/sessionLog.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import type { SessionService } from '../../../sessions/sessionService.ts';
import { isEndedSnapshot } from '../../../sessions/sessionStore.ts';
import { createWireTrailer } from '../../../sessions/wireTrailer.ts';
import { smallCatalog } from '../../engine/fixtures.ts';
import { TestClient } from '../ws/testClient.ts';

const engine = createEngine({
  catalog: smallCatalog({ items: 400, artists: 60 }),
  scorer: createFallbackScorer(),
});
const open: { server: WsServer; service: SessionService }[] = [];

afterAll(async () => {
  for (const { server, service } of open) {
    await server.close();
    await service.close();
  }
});

describe('frames sent after the last log entry', () => {
  it('the ack and `ended` of an `end` are written as a final adapter.wire entry and replayed exactly', async () => {
    const store = createMemoryStore();
    const service = createSessionManager({ engine, store, onError: () => {} });
    const server = await createWsServer({ service, port: 0, trailer: createWireTrailer(store) });
    open.push({ server, service });
    const client = await TestClient.connect(`ws://127.0.0.1:${server.address().port}`);
    client.send({ type: 'hello', id: 1, protocol: PROTOCOL_VERSION, start: { seed: 3 } });
    const { sessionId } = await client.next('welcome');
    client.send({ type: 'more', id: 2, n: 4 });
    await client.items(4);
    client.send({ type: 'end', id: 3 });
    await client.next('ended');
    const deadline = Date.now() + 5000;
    while (!(await store.readEvents(sessionId)).some((e) => e.event.type === WIRE_TRAILER)) {
      if (Date.now() > deadline) throw new Error('no adapter.wire entry in the log');
      await new Promise((r) => setTimeout(r, 10));
    }
    const events = (await store.readEvents(sessionId)).map((e) => e.event);
    const log = readLog(events);
    expect(log.trailers).toHaveLength(1);
    const outs = wireRecords(log).filter((r) => r.kind === 'out');
    expect(outs.slice(-2).map((r) => (r.payload as string[])[0])).toEqual(['ack', 'ended']);
    // The store still holds the ended session: a resume hears SESSION_ENDED as before.
    expect(isEndedSnapshot((await store.load(sessionId))?.snapshot)).toBe(true);
    await expect(
      service.resume({ connectionId: 'x', sessionId, resumeToken: 'nope', lastSeq: 0 }),
    ).rejects.toMatchObject({ code: 'SESSION_ENDED' });

    const report = await replayWire(events, engine);
    expect(report.firstFrameDivergence).toBeNull();
    expect(report.callMismatch).toBeNull();
    // welcome, 4 items, the end's ack and ended: every one recorded, every one replayed identical.
    expect(report.framesRecorded).toBe(7);
    expect(report.framesMatched).toBe(7);

    // A changed `ended` frame hash is found: the trailer's records are compared, not only carried.
    const tampered = structuredClone(events);
    const trailer = tampered.find((e) => e.type === WIRE_TRAILER) as unknown as {
      wire: [string, string, [string, string]][];
    };
    trailer.wire[trailer.wire.length - 1][2][1] = '0000000000000000';
    const again = await replayWire(tampered, engine);
    expect(again.firstFrameDivergence).toMatchObject({ frame: 6, expected: { type: 'ended' } });
  });

  it('writes nothing while the session lives: a trailer only follows an ended snapshot', async () => {
    const store = createMemoryStore();
    const service = createSessionManager({ engine, store, onError: () => {} });
    const { sessionId } = await service.start({ connectionId: 'c1', seed: 1 });
    const trailer = createWireTrailer(store, { waitMs: 30 });
    expect(await trailer(sessionId, [['c1', 'out', ['ack', 'ffff']]])).toBe(false);
    expect((await store.readEvents(sessionId)).some((e) => e.event.type === WIRE_TRAILER)).toBe(false);
    await service.close();
  });
});
