/**
 * One phase of the ws bench: the clients (wsBenchClients.ts) started in a worker thread against one server,
 * with the server's CPU time per item measured over their rounds.
 */
import { Worker } from 'node:worker_threads';
import { mainThreadCpuMs } from './processFigures.ts';
import type { DriverResult } from './wsBenchClients.ts';

/** How many client sessions a phase runs, and for how many rounds. */
export interface PhaseSize {
  sessions: number;
  rounds: number;
}

/**
 * Runs the clients against `url`; `atReady` is called with every session connected, before the rounds.
 * Adds CPU µs per item over the rounds: the server's main thread, and every thread of the process but the
 * clients' (the main thread, the model's and libuv's threads, V8's helper threads; those also do some of the
 * clients' garbage collection, so this slightly overstates the server).
 */
export async function phase(
  url: string,
  size: PhaseSize,
  atReady: () => void,
): Promise<DriverResult & { serverCpuUsPerItem: number; serverAllThreadsCpuUsPerItem: number }> {
  let cpu0 = Number.NaN;
  let all0 = process.cpuUsage();
  const result = await drivePhase(url, size, () => {
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

async function drivePhase(url: string, size: PhaseSize, atReady: () => void): Promise<DriverResult> {
  // A .ts entry is resolved before the loader hooks a worker inherits, so the worker registers tsx first.
  const clients = new URL('./wsBenchClients.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(clients)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { url, ...size } });
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
