/**
 * Memory that stays bounded: the real `serve` app (adapters/http/serveApp.ts) on the memory store and the
 * demo catalog and model, over loopback sockets, in rounds. Each round opens SESSIONS sessions, pages 20
 * items with feedback on each, then ends half of them and abandons the other half (socket dropped, the
 * session left to its grace window). Between rounds it waits for every session to be over and swept, forces
 * GC twice and reads the heap. A bounded server's heap is flat after the first rounds; one that keeps every
 * session grows by (sessions × bytes per session) each round.
 *
 *   npm run bench:heap        (HEAP_ROUNDS=8, HEAP_SESSIONS=300, HEAP_ENDED_TTL_MS=1000; set
 *                              HEAP_ENDED_TTL_MS=86400000 to see the store keep every ended session)
 * Last line: one JSON object.
 */
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import { opsConfig, type ServerConfig } from '../adapters/config.ts';
import { createLogger } from '../adapters/http/logger.ts';
import { startServeApp } from '../adapters/http/serveApp.ts';
import { PROTOCOL_VERSION } from '../adapters/protocol.ts';
import { engineHistoryWindow, loadRuntime } from '../adapters/runtime.ts';

const ROUNDS = Number(process.env.HEAP_ROUNDS ?? 8);
const SESSIONS = Number(process.env.HEAP_SESSIONS ?? 300);
const ENDED_TTL_MS = Number(process.env.HEAP_ENDED_TTL_MS ?? 1_000);
const GRACE_MS = 1_000;
const PARALLEL = 50;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:heap does)');

/** One listener: start, 20 items in two pages, feedback on each, then end or walk away. */
async function listener(url: string, seed: number, end: boolean): Promise<number> {
  const ws = new WebSocket(url);
  const frames: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (d) => {
    frames.push(JSON.parse(d.toString()));
    wake?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = async (match: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    for (;;) {
      const i = frames.findIndex(match);
      if (i >= 0) return frames.splice(i, 1)[0];
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  ws.send(JSON.stringify({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, start: { seed } }));
  await next((f) => f.type === 'welcome');
  let items = 0;
  for (let page = 0; page < 2; page++) {
    ws.send(JSON.stringify({ type: 'more', id: `m${page}`, n: 10 }));
    for (let i = 0; i < 10; i++) {
      const item = await next((f) => f.type === 'item' || f.type === 'starved');
      if (item.type !== 'item') break;
      items++;
      const kind = i % 3 === 0 ? 'skipped' : 'completed';
      ws.send(
        JSON.stringify({
          type: 'feedback',
          id: `f${item.seq}`,
          seq: item.seq,
          kind,
          ...(kind === 'skipped' ? { atMs: 4000 } : {}),
        }),
      );
      await next((f) => (f.type === 'ack' || f.type === 'error') && f.id === `f${item.seq}`);
    }
  }
  if (end) {
    ws.send(JSON.stringify({ type: 'end', id: 'e' }));
    await next((f) => f.type === 'ended');
  }
  ws.terminate();
  return items;
}

const config: ServerConfig = { ...(await import('../adapters/config.ts')).configFromEnv({}), port: 0 };
const ops = opsConfig(
  {
    graceMs: String(GRACE_MS),
    endedTtlMs: String(ENDED_TTL_MS),
    sessionStartsPerMinute: '1000000',
    maxSessionsPerPrincipal: '1000000',
    messagesPerSecond: '100000',
    messageBurst: '100000',
    logLevel: 'warn',
  },
  {},
);
// The memory store: this measures the session layer's heap, not a data directory's.
ops.dataDir = '';
const runtime = await loadRuntime({
  config: { historyWindow: engineHistoryWindow(ops.historyWindow) },
});
const app = await startServeApp({ config, ops, runtime, log: createLogger({ level: 'warn' }) });
const store = app.store as unknown as { size(): Promise<number> | number };

const heapMiB = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const rows: { round: number; items: number; heapMiB: number; storedAfter: number; ms: number }[] = [];
const base = heapMiB();
console.log(
  `# baseline heap ${base.toFixed(1)} MiB; ${ROUNDS} rounds × ${SESSIONS} sessions; ended TTL ${ENDED_TTL_MS} ms, grace ${GRACE_MS} ms`,
);
let seed = 1;
for (let round = 1; round <= ROUNDS; round++) {
  const started = performance.now();
  let items = 0;
  for (let i = 0; i < SESSIONS; i += PARALLEL) {
    const batch = Array.from({ length: Math.min(PARALLEL, SESSIONS - i) }, (_, k) =>
      listener(app.url, seed++, (i + k) % 2 === 0),
    );
    items += (await Promise.all(batch)).reduce((a, b) => a + b, 0);
  }
  // Every session over (ended, or its grace run out) and swept: the wait is bounded by grace + TTL + sweep.
  const deadline = Date.now() + GRACE_MS + 2 * ENDED_TTL_MS + 40_000;
  while (app.ws.sessions() > 0 || (ENDED_TTL_MS < 60_000 && (await store.size()) > 0)) {
    if (Date.now() > deadline) break;
    await delay(100);
  }
  const row = {
    round,
    items,
    heapMiB: Number(heapMiB().toFixed(1)),
    storedAfter: await store.size(),
    ms: Math.round(performance.now() - started),
  };
  rows.push(row);
  console.log(
    `round ${round}: ${items} items, heap ${row.heapMiB} MiB, sessions still stored ${row.storedAfter}, ${row.ms} ms`,
  );
}
await app.close();
// Growth per round after the first two (warm-up: JIT, caches, pools), by least squares.
const tail = rows.slice(2);
const mx = tail.reduce((a, r) => a + r.round, 0) / tail.length;
const my = tail.reduce((a, r) => a + r.heapMiB, 0) / tail.length;
const slope =
  tail.reduce((a, r) => a + (r.round - mx) * (r.heapMiB - my), 0) /
  tail.reduce((a, r) => a + (r.round - mx) ** 2, 0);
console.log(
  JSON.stringify({
    rounds: ROUNDS,
    sessionsPerRound: SESSIONS,
    endedTtlMs: ENDED_TTL_MS,
    baselineHeapMiB: Number(base.toFixed(1)),
    heapMiB: rows.map((r) => r.heapMiB),
    storedAfter: rows.map((r) => r.storedAfter),
    growthKiBPerRoundAfterWarmup: Math.round(slope * 1024),
    growthBytesPerSessionAfterWarmup: Math.round((slope * 2 ** 20) / SESSIONS),
  }),
);
