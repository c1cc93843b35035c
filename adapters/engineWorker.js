// One engine worker thread (see engineWorkers.ts). Plain JavaScript so the thread can start without a
// loader: it registers tsx's, as adapters/cli/omakase.js does, then loads the TypeScript.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { engineWorkerHandler } = await import('./engineWorkers.ts');

export default engineWorkerHandler(workerData);
