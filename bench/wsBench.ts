/**
 * WebSocket server throughput and memory: N concurrent sessions over real loopback sockets (each client the
 * project's client library, adapters/client), each pulling
 * items (`more` n=10) and acking every item with feedback, for a fixed number of rounds; items/s, p50/p99 of
 * more→first item and more→last item, heap and RSS per connected session. In the same run a bare `ws` echo
 * server answers the same frames with frames of the same size, so throughput is also a ratio to the
 * transport's ceiling, and the omakase server runs over an instant service (its own cost, without the
 * session layer). Both servers write the frames one tick produces in one socket write (cork at the tick's
 * first frame, uncork on the next tick), so the ceiling batches as the server does. Then 100,000 sessions
 * opened in process (no sockets) for heap per session. The clients run in a worker thread (their own heap
 * and core). Last line: one JSON object; on Linux it also holds the server thread's CPU time per item for
 * each phase (from /proc, steadier than items/s on a shared machine).
 *
 *   npm run bench:ws     (BENCH_WS_SESSIONS, BENCH_WS_ROUNDS, BENCH_WS_INPROC override the sizes; each
 *                         session started scores its first pool, so 100,000 take a few minutes;
 *                         BENCH_WS_REDIS_URL=redis://127.0.0.1:6379 runs the full stack on the Redis store)
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import WebSocket, { WebSocketServer } from 'ws';
import type { WebSocketConstructor } from '../adapters/client/clientTypes.ts';
import { OmakaseClient } from '../adapters/client/omakaseClient.ts';
import { DEFAULT_LIMITS, PROTOCOL_VERSION } from '../adapters/protocol.ts';
import { loadRuntime } from '../adapters/runtime.ts';
import { createWsServer } from '../adapters/ws/wsServer.ts';
import type { Engine } from '../engine/engine.ts';
import { createMemoryStore } from '../sessions/memoryStore.ts';
import { createRedisStore } from '../sessions/redisStore.ts';
import { createSessionManager } from '../sessions/sessionManager.ts';
import type { DeliveredItem, SessionService } from '../sessions/sessionService.ts';

const SESSIONS = Number(process.env.BENCH_WS_SESSIONS ?? 200);
/** The full-stack phase's store: Redis at this URL (a prefix of its own, deleted after), else memory. */
const REDIS_URL = process.env.BENCH_WS_REDIS_URL;
const ROUNDS = Number(process.env.BENCH_WS_ROUNDS ?? 20);
const BATCH = 10;
const INPROC = Number(process.env.BENCH_WS_INPROC ?? 100_000);
/** Sessions started, then paged once (a page of 10 delivered, with its reasons kept for feedback). */
const INPROC_FILLED = Number(process.env.BENCH_WS_INPROC_FILLED ?? 1_000);

/**
 * The server's protective limits, lifted: 200 clients on one address asking as fast as they can are what the
 * limits refuse (`docs/operations.md`), and this bench measures throughput, not the limits.
 */
const UNLIMITED = {
  maxConnections: 1e9,
  maxConnectionsPerAddress: 1e9,
  messagesPerSecond: 1e9,
  messageBurst: 1e9,
  maxSessionsPerPrincipal: 1e9,
  sessionStartsPerMinute: 1e9,
  maxInFlight: 1e9,
  overloadLagMs: 0,
  overloadRefreshWaitMs: 0,
};

interface DriverResult {
  items: number;
  /** CPU time of the clients' thread over the rounds. */
  clientCpuMs: number;
  wallMs: number;
  firstUs: { p50: number; p99: number };
  lastUs: { p50: number; p99: number };
}

const quantile = (xs: number[], q: number): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

// ---- the clients (worker thread) ----

async function drive(url: string, sessions: number, rounds: number): Promise<void> {
  const port = parentPort!;
  const firsts: number[] = [];
  const lasts: number[] = [];
  let items = 0;
  // Every client is the project's client library (adapters/client), as the page and the tests use it.
  const clients = await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      const client = new OmakaseClient({
        url,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        start: { seed: s },
      });
      await client.connect();
      return client;
    }),
  );
  port.postMessage({ ready: true });
  await new Promise((resolve) => port.once('message', resolve));
  const t0 = performance.now();
  const cpu0 = threadCpuMs('thread-self');
  await Promise.all(
    clients.map(async (client) => {
      for (let r = 0; r < rounds; r++) {
        const start = performance.now();
        const seqs: number[] = [];
        await new Promise<void>((resolve) => {
          const off = client.on('item', ({ seq }) => {
            if (seqs.length === 0) firsts.push((performance.now() - start) * 1000);
            seqs.push(seq);
            if (seqs.length === BATCH) {
              off();
              resolve();
            }
          });
          client.more(BATCH);
        });
        lasts.push((performance.now() - start) * 1000);
        items += seqs.length;
        await Promise.all(seqs.map((seq) => client.feedback(seq, 'completed')));
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const clientCpuMs = threadCpuMs('thread-self') - cpu0;
  for (const client of clients) client.close();
  const result: DriverResult = {
    items,
    clientCpuMs,
    wallMs,
    firstUs: { p50: quantile(firsts, 0.5), p99: quantile(firsts, 0.99) },
    lastUs: { p50: quantile(lasts, 0.5), p99: quantile(lasts, 0.99) },
  };
  port.postMessage({ result });
}

// ---- the servers (main thread) ----

const log = (m: string): void => void process.stdout.write(`${m}\n`);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * CPU time (user + system) of one thread in ms, where /proc has it (Linux), else NaN: `thread-self` is the
 * calling thread, `self/task/<pid>` the main thread. The main thread runs only the servers, so that is the
 * server's CPU without the clients' worker thread.
 */
function threadCpuMs(which: 'thread-self' | `self/task/${number}`): number {
  try {
    const stat = readFileSync(`/proc/${which}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th, in 10 ms ticks.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

const mainThreadCpuMs = (): number => threadCpuMs(`self/task/${process.pid}`);

/**
 * Runs the clients against `url`; `atReady` is called with every session connected, before the rounds.
 * Adds CPU µs per item over the rounds: the server's main thread, and every thread of the process but the
 * clients' (the main thread, the model's and libuv's threads, V8's helper threads; those also do some of the
 * clients' garbage collection, so this slightly overstates the server).
 */
async function phase(
  url: string,
  atReady: () => void,
): Promise<DriverResult & { serverCpuUsPerItem: number; serverAllThreadsCpuUsPerItem: number }> {
  let cpu0 = Number.NaN;
  let all0 = process.cpuUsage();
  const result = await drivePhase(url, () => {
    atReady();
    cpu0 = mainThreadCpuMs();
    all0 = process.cpuUsage();
  });
  const all = process.cpuUsage(all0);
  const perItem = (ms: number): number => Math.round((ms * 1000 * 10) / result.items) / 10;
  return {
    ...result,
    serverCpuUsPerItem: perItem(mainThreadCpuMs() - cpu0),
    serverAllThreadsCpuUsPerItem: perItem((all.user + all.system) / 1000 - result.clientCpuMs),
  };
}

async function drivePhase(url: string, atReady: () => void): Promise<DriverResult> {
  // A .ts entry is resolved before the loader hooks a worker inherits, so the worker registers tsx first.
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { url, sessions: SESSIONS, rounds: ROUNDS } });
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (msg: { ready?: boolean; result?: DriverResult }) => {
      if (msg.ready) {
        atReady();
        worker.postMessage('go');
      } else if (msg.result) {
        resolve(msg.result);
        void worker.terminate();
      }
    });
  });
}

/**
 * A bare `ws` server answering `more` with n copies of `itemFrame` and each other request with an ack. Like
 * the omakase server, it corks the socket at a tick's first frame and uncorks it once the tick's jobs have run,
 * so the frames a tick produces leave in one write.
 */
async function echoServer(itemFrame: string): Promise<{ url: string; close: () => Promise<void> }> {
  const item = JSON.stringify(JSON.parse(itemFrame).item);
  const welcome = {
    type: 'welcome',
    protocol: PROTOCOL_VERSION,
    sessionId: 'echo',
    resumeToken: 'echo',
    status: 'streaming',
    lastSeq: 0,
    limits: DEFAULT_LIMITS,
    heartbeatMs: 30_000,
    graceMs: 120_000,
  };
  const http = createServer();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: DEFAULT_LIMITS.maxPayload,
    perMessageDeflate: false,
  });
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      let corked = false;
      const uncork = (): void => {
        corked = false;
        socket.uncork();
      };
      // Just enough protocol for the client library: a welcome, items with rising seqs, an ack per request.
      let seq = 0;
      ws.on('message', (data) => {
        if (!corked) {
          corked = true;
          socket.cork();
          process.nextTick(uncork);
        }
        const msg = JSON.parse(data.toString()) as { type: string; id: unknown; n?: number };
        if (msg.type === 'more') {
          const re = JSON.stringify(msg.id);
          for (let i = 0; i < (msg.n ?? 0); i++)
            ws.send(`{"type":"item","seq":${++seq},"item":${item},"re":${re}}`);
        } else if (msg.type === 'hello') {
          ws.send(JSON.stringify({ ...welcome, id: msg.id }));
        } else {
          ws.send(JSON.stringify({ type: msg.type === 'ping' ? 'pong' : 'ack', id: msg.id }));
        }
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        wss.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** One real item frame, so the echo server sends frames of the size the real server sends. */
async function sampleItemFrame(url: string): Promise<string> {
  const ws = new WebSocket(url);
  await new Promise((resolve) => ws.once('open', resolve));
  const frame = new Promise<string>((resolve) => {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.includes('"welcome"')) ws.send(JSON.stringify({ type: 'more', id: 'm', n: 1 }));
      if (text.includes('"item"')) resolve(text);
    });
  });
  ws.send(JSON.stringify({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, start: { seed: 999_999 } }));
  const text = await frame;
  ws.close();
  return text;
}

/** Heap per session for `count` sessions opened in process through the service (no sockets). */
async function inProcess(
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

async function main(): Promise<void> {
  if ((globalThis as { gc?: unknown }).gc === undefined)
    log('warning: run with node --expose-gc for stable memory figures');
  const bench = await createBenchService(REDIS_URL);
  log(`service: ${bench.description}; ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}`);
  log(
    `${SESSIONS} sessions × ${ROUNDS} rounds × ${BATCH} items, feedback on every item; clients in a worker thread`,
  );

  const server = await createWsServer({ service: bench.service, port: 0, serverLimits: UNLIMITED });
  const url = `ws://127.0.0.1:${server.address().port}`;
  const itemFrame = await sampleItemFrame(url);

  const echo = await echoServer(itemFrame);
  const bare = await phase(echo.url, () => {});
  await echo.close();
  const bareRate = bare.items / (bare.wallMs / 1000);
  log(
    `bare ws echo: ${Math.round(bareRate)} items/s, more→first p50 ${bare.firstUs.p50.toFixed(0)} µs p99 ${bare.firstUs.p99.toFixed(0)} µs`,
  );

  // The server's own cost: the same protocol over a service that answers at once with a fixed item.
  const instant = await createWsServer({
    service: instantService(JSON.parse(itemFrame).item),
    port: 0,
    serverLimits: UNLIMITED,
  });
  const bareServer = await phase(`ws://127.0.0.1:${instant.address().port}`, () => {});
  await instant.close();
  const serverRate = bareServer.items / (bareServer.wallMs / 1000);
  log(
    `omakase ws over an instant service: ${Math.round(serverRate)} items/s (${((serverRate / bareRate) * 100).toFixed(1)} % of bare), more→first p50 ${bareServer.firstUs.p50.toFixed(0)} µs p99 ${bareServer.firstUs.p99.toFixed(0)} µs`,
  );

  gc();
  const base = process.memoryUsage();
  let open = base;
  let decisionsAtGo = 0;
  const real = await phase(url, () => {
    gc();
    open = process.memoryUsage();
    decisionsAtGo = decisions.calls;
  });
  const rate = real.items / (real.wallMs / 1000);
  // Engine decisions while the clients ran; the clients' last ones may land just after.
  const decided = decisions.calls - decisionsAtGo;
  const decisionRate = decided / (real.wallMs / 1000);
  const heapPerSession = Math.round((open.heapUsed - base.heapUsed) / SESSIONS);
  const rssPerSession = Math.round((open.rss - base.rss) / SESSIONS);
  log(
    `omakase ws:   ${Math.round(rate)} items/s (${((rate / bareRate) * 100).toFixed(1)} % of bare), more→first p50 ${real.firstUs.p50.toFixed(0)} µs p99 ${real.firstUs.p99.toFixed(0)} µs, more→last p50 ${real.lastUs.p50.toFixed(0)} µs p99 ${real.lastUs.p99.toFixed(0)} µs`,
  );
  log(
    `server CPU per item: ${real.serverCpuUsPerItem} µs on the main thread, ${real.serverAllThreadsCpuUsPerItem} µs on all its threads (bare echo ${bare.serverCpuUsPerItem} / ${bare.serverAllThreadsCpuUsPerItem}, instant service ${bareServer.serverCpuUsPerItem} / ${bareServer.serverAllThreadsCpuUsPerItem})`,
  );
  log(
    `engine decisions (scored pools): ${decided} (${Math.round(decisionRate)}/s, ${(real.items / Math.max(1, decided)).toFixed(1)} items served per decision)`,
  );
  log(
    `per connected session: heap ${(heapPerSession / 1024).toFixed(1)} KiB, rss ${(rssPerSession / 1024).toFixed(1)} KiB (${SESSIONS} sessions)`,
  );
  await server.close();

  // Every session started scores its first pool (so its first `more` is answered at once): the large count
  // holds 100,000 pools; a smaller one is measured again after a page of 10.
  const large = await createBenchService();
  const inproc = await inProcess(large.service, INPROC);
  await large.service.close();
  log(
    `in process: ${INPROC} sessions started, each with its scored pool: heap ${(inproc.heapBytesPerSession / 1024).toFixed(2)} KiB per session (${((inproc.heapBytesPerSession * INPROC) / 1e9).toFixed(2)} GB), ${(inproc.msPerStart * 1000).toFixed(1)} µs per start`,
  );
  const filled = await createBenchService();
  const inprocFilled = await inProcess(filled.service, INPROC_FILLED, { page: true });
  await filled.service.close();
  const paged = inprocFilled.pagedHeapBytesPerSession ?? Number.NaN;
  log(
    `in process: ${INPROC_FILLED} sessions, heap ${(inprocFilled.heapBytesPerSession / 1024).toFixed(2)} KiB per session started, ${(paged / 1024).toFixed(2)} KiB after a page of ${BATCH}`,
  );
  const mem = process.memoryUsage();
  log(
    JSON.stringify({
      bench: 'ws',
      service: bench.description,
      sessions: SESSIONS,
      rounds: ROUNDS,
      batch: BATCH,
      items: real.items,
      itemsPerSec: Math.round(rate),
      engineDecisions: decided,
      engineDecisionsPerSec: Math.round(decisionRate),
      bareItemsPerSec: Math.round(bareRate),
      ratioToBare: Math.round((rate / bareRate) * 1000) / 1000,
      moreToFirstUs: real.firstUs,
      moreToLastUs: real.lastUs,
      bareMoreToFirstUs: bare.firstUs,
      instantServiceItemsPerSec: Math.round(serverRate),
      instantServiceRatioToBare: Math.round((serverRate / bareRate) * 1000) / 1000,
      instantServiceMoreToFirstUs: bareServer.firstUs,
      bareServerCpuUsPerItem: bare.serverCpuUsPerItem,
      instantServiceServerCpuUsPerItem: bareServer.serverCpuUsPerItem,
      serverCpuUsPerItem: real.serverCpuUsPerItem,
      serverAllThreadsCpuUsPerItem: real.serverAllThreadsCpuUsPerItem,
      bareServerAllThreadsCpuUsPerItem: bare.serverAllThreadsCpuUsPerItem,
      heapBytesPerSession: heapPerSession,
      rssBytesPerSession: rssPerSession,
      inProcessSessions: INPROC,
      inProcessHeapBytesPerSession: inproc.heapBytesPerSession,
      inProcessUsPerStart: Math.round(inproc.msPerStart * 1000 * 10) / 10,
      inProcessFilledSessions: INPROC_FILLED,
      inProcessFilledHeapBytesPerSession: inprocFilled.heapBytesPerSession,
      inProcessPagedHeapBytesPerSession: paged,
      inProcessFilledMsPerStart: Math.round(inprocFilled.msPerStart * 100) / 100,
      heapMiB: mib(mem.heapUsed),
      rssMiB: mib(mem.rss),
    }),
  );
  await bench.service.close();
}

// ---- the service under the server ----

let demoEngine: Engine | undefined;
/** Every decision (`engine.score`) the bench's session managers made. */
const decisions = { calls: 0 };

/**
 * The real session layer: session manager and store (memory, or Redis at `redisUrl`) over the engine as
 * `npm start` builds it (the built-in demo catalog, its transition memory and the shipped ONNX model).
 */
async function createBenchService(
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
    onError: (err) => log(`session error: ${err}`),
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

/** Answers every call at once: what is left is the ws server and the protocol. */
function instantService(item: {
  id: string;
  title: string;
  artist: string;
  album?: string;
  durationMs: number;
}): SessionService {
  const seqs = new Map<string, number>();
  const reasons = {
    source: [],
    score: 0,
    rank: 0,
    mmr: 0,
    explored: false,
    degraded: false,
    model: 'none',
    rules: [],
    removed: {},
    candidates: 0,
  };
  let count = 0;
  const opened = (sessionId: string) => ({
    sessionId,
    resumeToken: 'x',
    status: 'streaming' as const,
    lastSeq: seqs.get(sessionId) ?? 0,
    missed: [],
    graceMs: 0,
  });
  return {
    async start() {
      const id = `s${++count}`;
      seqs.set(id, 0);
      return opened(id);
    },
    resume: async (req) => opened(req.sessionId),
    async more(id, _owner, n) {
      let seq = seqs.get(id) ?? 0;
      const out: DeliveredItem[] = [];
      for (let i = 0; i < n; i++) {
        seq++;
        // Fields written out: on this Node an object spread costs microseconds per item, which would be
        // charged to the server under test.
        out.push({
          id: item.id,
          title: item.title,
          artist: item.artist,
          album: item.album,
          durationMs: item.durationMs,
          seq,
          pos: seq - 1,
          startMs: seq,
          score: 0,
          propensity: 1,
          degraded: false,
          reasons,
        });
      }
      seqs.set(id, seq);
      return out;
    },
    feedback: async () => ({ invalidated: [] }),
    steer: async () => ({ invalidated: [] }),
    async pause() {},
    async play() {},
    async end() {},
    disconnected: (id) => void seqs.delete(id),
    subscribe: () => () => {},
    async close() {},
  };
}

if (isMainThread) {
  await main();
} else {
  const { url, sessions, rounds } = workerData as { url: string; sessions: number; rounds: number };
  await drive(url, sessions, rounds);
}
