/**
 * The session layer under the ws bench: the real session manager over the demo engine (memory or Redis
 * store), with a count of the engine's decisions, and the in-process measure of heap per session.
 */
import { loadRuntime } from '../adapters/runtime.ts';
import type { Engine } from '../engine/engine.ts';
import { createMemoryStore } from '../sessions/memoryStore.ts';
import { createRedisStore } from '../sessions/redisStore.ts';
import { createSessionManager } from '../sessions/sessionManager.ts';
import type { SessionService } from '../sessions/sessionService.ts';
import { gc } from './processFigures.ts';
import { BATCH } from './wsBenchClients.ts';

let demoEngine: Engine | undefined;
/** Every decision (`engine.score`) the bench's session managers made. */
export const decisions = { calls: 0 };

/**
 * The real session layer: session manager and store (memory, or Redis at `redisUrl`) over the engine as
 * `npm start` builds it (the built-in demo catalog, its transition memory and the shipped ONNX model).
 */
export async function createBenchService(
  redisUrl?: string,
): Promise<{ service: SessionService; description: string }> {
  if (!demoEngine) {
    const engine = (await loadRuntime()).engine;
    demoEngine = {
      ...engine,
      score(state, options) {
        decisions.calls++;
        return engine.score(state, options);
      },
    };
  }
  const prefix = `omakase-bench-${process.pid}`;
  const store = redisUrl
    ? createRedisStore({ url: redisUrl, prefix, ttlMs: 10 * 60_000 })
    : createMemoryStore();
  const manager = createSessionManager({
    engine: demoEngine,
    store,
    onError: (err) => void process.stdout.write(`session error: ${err}\n`),
  });
  const service: SessionService = {
    ...manager,
    async close() {
      await manager.close();
      if (redisUrl) await deleteKeys(redisUrl, `${prefix}:*`);
      await store.close();
    },
  };
  const description = `session manager + ${redisUrl ? 'Redis' : 'memory'} store, engine on the demo catalog (${demoEngine.catalog.size} items), model ${demoEngine.modelId}`;
  return { service, description };
}

/** Removes the bench's own keys (its prefix is unique to this process). */
async function deleteKeys(url: string, pattern: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

/** Heap per session for `count` sessions opened in process through the service (no sockets). */
export async function inProcess(
  service: SessionService,
  count: number,
  options: { page?: boolean } = {},
): Promise<{ heapBytesPerSession: number; msPerStart: number; pagedHeapBytesPerSession?: number }> {
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  gc();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i++)
    ids.push((await service.start({ connectionId: `c${i}`, seed: i })).sessionId);
  const ms = performance.now() - t0;
  await settle();
  gc();
  const after = process.memoryUsage().heapUsed;
  const started = { heapBytesPerSession: Math.round((after - before) / count), msPerStart: ms / count };
  if (!options.page) return started;
  // Each asks for a page of 10, as the web client does: the delivered items stay in its window.
  for (let i = 0; i < count; i++) await service.more(ids[i]!, `c${i}`, BATCH);
  await settle();
  gc();
  const paged = process.memoryUsage().heapUsed;
  return { ...started, pagedHeapBytesPerSession: Math.round((paged - before) / count) };
}
