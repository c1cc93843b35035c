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
 * This file runs the phases and reports; wsBenchClients.ts is the worker's clients, wsBenchPhase.ts starts
 * them and times the server, wsBenchServers.ts holds the echo server and the instant service, and
 * wsBenchService.ts the real session layer and the in-process measure.
 *
 *   npm run bench:ws     (BENCH_WS_SESSIONS, BENCH_WS_ROUNDS, BENCH_WS_INPROC override the sizes; each
 *                         session started scores its first pool, so 100,000 take a few minutes;
 *                         BENCH_WS_REDIS_URL=redis://127.0.0.1:6379 runs the full stack on the Redis store)
 */
import { cpus } from 'node:os';
import { createWsServer } from '../adapters/ws/wsServer.ts';
import { gc, mib } from './processFigures.ts';
import { BATCH } from './wsBenchClients.ts';
import { phase } from './wsBenchPhase.ts';
import { echoServer, instantService, sampleItemFrame } from './wsBenchServers.ts';
import { createBenchService, decisions, inProcess } from './wsBenchService.ts';

const SESSIONS = Number(process.env.BENCH_WS_SESSIONS ?? 200);
/** The full-stack phase's store: Redis at this URL (a prefix of its own, deleted after), else memory. */
const REDIS_URL = process.env.BENCH_WS_REDIS_URL;
const ROUNDS = Number(process.env.BENCH_WS_ROUNDS ?? 20);
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

const SIZE = { sessions: SESSIONS, rounds: ROUNDS };

const log = (m: string): void => void process.stdout.write(`${m}\n`);

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
  const bare = await phase(echo.url, SIZE, () => {});
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
  const bareServer = await phase(`ws://127.0.0.1:${instant.address().port}`, SIZE, () => {});
  await instant.close();
  const serverRate = bareServer.items / (bareServer.wallMs / 1000);
  log(
    `omakase ws over an instant service: ${Math.round(serverRate)} items/s (${((serverRate / bareRate) * 100).toFixed(1)} % of bare), more→first p50 ${bareServer.firstUs.p50.toFixed(0)} µs p99 ${bareServer.firstUs.p99.toFixed(0)} µs`,
  );

  gc();
  const base = process.memoryUsage();
  let open = base;
  let decisionsAtGo = 0;
  const real = await phase(url, SIZE, () => {
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

await main();
