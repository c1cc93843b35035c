/**
 * Figures of this process for the benches: CPU time per thread (from /proc, Linux), a forced GC where node
 * runs with --expose-gc, and bytes in MiB.
 */
import { readFileSync } from 'node:fs';

export const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
export const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * CPU time (user + system) of one thread in ms, where /proc has it (Linux), else NaN: `thread-self` is the
 * calling thread, `self/task/<pid>` the main thread. The main thread runs only the servers, so that is the
 * server's CPU without the clients' worker thread.
 */
export function threadCpuMs(which: 'thread-self' | `self/task/${number}`): number {
  try {
    const stat = readFileSync(`/proc/${which}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th, in 10 ms ticks.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

export const mainThreadCpuMs = (): number => threadCpuMs(`self/task/${process.pid}`);
