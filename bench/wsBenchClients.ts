/**
 * The clients of the ws bench, run in a worker thread (their own heap and core): N sessions of the project's
 * client library each pull `BATCH` items and ack every one with feedback, for a number of rounds, and post
 * back items, wall and CPU time, and the latencies more→first and more→last item. Loaded by wsBenchPhase.ts;
 * on the main thread it only lends its types and `BATCH`.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../adapters/client/clientTypes.ts';
import { OmakaseClient } from '../adapters/client/omakaseClient.ts';
import { threadCpuMs } from './processFigures.ts';

/** Items asked for in one `more`, and acked before the next. */
export const BATCH = 10;

export interface DriverResult {
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

if (!isMainThread) {
  const { url, sessions, rounds } = workerData as { url: string; sessions: number; rounds: number };
  await drive(url, sessions, rounds);
}
