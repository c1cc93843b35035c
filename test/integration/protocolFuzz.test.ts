import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineHistoryWindow } from '../../adapters/runtime.ts';
import { createWsServer, type WsServer } from '../../adapters/ws/wsServer.ts';
import { runFuzz } from '../../bench/protocolFuzz.ts';
import { createEngine } from '../../engine/engine.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../sessions/memoryStore.ts';
import { createSessionManager } from '../../sessions/sessionManager.ts';
import type { SessionService } from '../../sessions/sessionService.ts';
import { smallCatalog } from '../engine/fixtures.ts';

// The short run of the fuzzer (`npm run bench:fuzz` is the full count, against a `serve` process): the real
// server, session manager, memory store and engine, over loopback sockets.
let service: SessionService;
let server: WsServer;

beforeAll(async () => {
  const engine = createEngine({
    catalog: smallCatalog({ items: 2000, artists: 200 }),
    scorer: createFallbackScorer(),
    config: { historyWindow: engineHistoryWindow(100) },
  });
  service = createSessionManager({ engine, store: createMemoryStore(), onError: () => {} });
  server = await createWsServer({
    service,
    port: 0,
    serverLimits: {
      messagesPerSecond: 1e6,
      messageBurst: 1e6,
      sessionStartsPerMinute: 1e6,
      maxSessionsPerPrincipal: 1e5,
    },
  });
});

afterAll(async () => {
  await server.close();
  await service.close();
});

describe('protocol fuzzer (short run)', () => {
  it('answers every bad frame with its documented code, closes only with documented codes, and canaries stream on', async () => {
    const result = await runFuzz({
      url: `ws://127.0.0.1:${server.address().port}`,
      frames: 2_000,
      seed: 7,
      connections: 4,
      canaries: 2,
    });
    expect(result.problems).toEqual([]);
    expect(result.canaryProblems).toEqual([]);
    expect(result.frames).toBeGreaterThanOrEqual(2_000);
    expect(result.parseErrorsAnsweredWithTheirCode).toBeGreaterThan(500);
    expect(result.requestsAnswered).toBeGreaterThan(100);
    expect(result.canaryItems).toBeGreaterThan(20);
    // Every fuzz socket was closed by one side or the other: none is left behind.
    expect(server.connections()).toBeLessThanOrEqual(2);
  }, 120_000);
});
