import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Engine } from '../engine/engine.ts';
import type { Pick } from '../engine/pick.ts';
import type { SessionState } from '../engine/session.ts';
import { isOmakaseError, OmakaseError } from '../models/omakaseError.ts';
import { loadRuntime, type Runtime, type RuntimeOptions } from './runtime.ts';

/**
 * Engine decisions on worker threads.
 *
 * `engine.next` (retrieval, features, the model call, the slate policy: a millisecond or more per decision)
 * runs on a pool of worker threads, each holding its own copy of the runtime; `start`, `feedback`, `steer`
 * and `record` (microseconds) stay on the calling thread, where the sessions live. The engine is pure, so a
 * worker picks exactly what the thread's own engine would: the same state, clock reading and seed give the
 * same picks wherever they run (test/adapters/engineWorkers.test.ts checks it pick for pick).
 *
 * Worth it only with a core to spare: on one core the state's round trip through the thread boundary is
 * pure cost. `defaultEngineWorkers()` is one worker per core beyond the first, up to four.
 */
export interface EngineWorkers {
  /** The runtime's engine with `next` answered by the workers. */
  engine: Engine;
  readonly workers: number;
  close(): Promise<void>;
}

/** What a worker is sent: the options it builds its runtime from (the same as the calling thread's). */
interface WorkerInput {
  options: Omit<RuntimeOptions, 'warn'>;
}

/**
 * The state and the picks cross the thread boundary as JSON text: they are plain JSON by design, and for a
 * state of 100 history entries (16 KB) `JSON.stringify` takes half the time of the structured clone that
 * `postMessage` would do (50 against 119 µs on the main thread; parsing, 50 against 94 on the other side).
 */
type Task = { kind: 'ready' } | { kind: 'next'; state: string; n: number; nowMs: number };

type Answer =
  | { ok: true; picks: string }
  | { ok: true; modelId: string; catalogSize: number }
  | { ok: false; code?: string; message: string; details?: Record<string, unknown> };

export function defaultEngineWorkers(): number {
  return Math.max(0, Math.min(4, availableParallelism() - 1));
}

/**
 * Starts `workers` engine threads for `runtime`, built from the same `options`, and resolves once every one
 * has loaded its runtime and agreed on the model and catalog (a worker that fell back to another model
 * would pick differently, so that refuses to start).
 */
export async function startEngineWorkers(
  runtime: Runtime,
  options: RuntimeOptions,
  workers: number,
): Promise<EngineWorkers> {
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`workers must be 1 or more (got ${workers})`);
  const { warn: _warn, ...plain } = options;
  const pool = new Piscina<Task, Answer>({
    filename: new URL('./engineWorker.js', import.meta.url).href,
    workerData: { options: plain } satisfies WorkerInput,
    minThreads: workers,
    maxThreads: workers,
    // Decisions are short; a queue bounded only by the sessions waiting on them (each waits on one).
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  try {
    const answers = await Promise.all(Array.from({ length: workers }, () => pool.run({ kind: 'ready' })));
    for (const answer of answers) {
      if (!answer.ok) throw new Error(`an engine worker failed to start: ${answer.message}`);
      if (!('modelId' in answer)) throw new Error('an engine worker answered its start-up with picks');
      const { engine } = runtime;
      if (answer.modelId !== engine.modelId || answer.catalogSize !== engine.catalog.size) {
        throw new Error(
          `an engine worker loaded model ${answer.modelId} on ${answer.catalogSize} items, this thread ${engine.modelId} on ${engine.catalog.size}`,
        );
      }
    }
  } catch (err) {
    await pool.destroy();
    throw err;
  }

  const local = runtime.engine;
  const engine: Engine = {
    catalog: local.catalog,
    modelId: local.modelId,
    start: (options) => local.start(options),
    feedback: (state, feedback, nowMs) => local.feedback(state, feedback, nowMs),
    steer: (state, steer, nowMs) => local.steer(state, steer, nowMs),
    record: (state, picks) => local.record(state, picks),
    async next(state, { n, nowMs }) {
      const answer = await pool.run({ kind: 'next', state: JSON.stringify(state), n, nowMs });
      if (answer.ok && 'picks' in answer) {
        // Only the picks come back: `record` rebuilds the state `next` returned, in microseconds, where
        // copying the whole state back across the thread boundary costs ten times that.
        const picks = JSON.parse(answer.picks) as Pick[];
        return { state: local.record(state, picks), picks };
      }
      if (answer.ok) throw new Error('an engine worker answered a decision with its start-up record');
      throw answer.code === undefined
        ? new Error(answer.message)
        : new OmakaseError(answer.code, answer.message, { details: answer.details });
    },
  };
  return { engine, workers, close: () => pool.destroy() };
}

/** The worker's side: its runtime, and the function that answers each task (engineWorker.js exports it). */
export async function engineWorkerHandler(input: WorkerInput): Promise<(task: Task) => Promise<Answer>> {
  const { engine } = await loadRuntime(input.options);
  return async (task) => {
    if (task.kind === 'ready') return { ok: true, modelId: engine.modelId, catalogSize: engine.catalog.size };
    try {
      const state = JSON.parse(task.state) as SessionState;
      const { picks } = await engine.next(state, { n: task.n, nowMs: task.nowMs });
      return { ok: true, picks: JSON.stringify(picks) };
    } catch (err) {
      // Errors cross the thread boundary as plain data: the caller rebuilds the coded error.
      return isOmakaseError(err)
        ? { ok: false, code: err.code, message: err.message, details: err.details }
        : { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  };
}
