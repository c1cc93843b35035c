import type { ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';

/** What a bench reads of a running `serve` from its /metrics: memory, the store, decisions, items. */
export interface ServerFigures {
  heapMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  rssMiB: number;
  lagP99Ms: number;
  liveSessions: number;
  storeSessions: number;
  storeLogMiB: number;
  storeSnapshotMiB: number;
  restored: number;
  decisions: number;
  items: number;
}

/** The figures of one /metrics scrape. */
export async function scrape(http: string): Promise<ServerFigures> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  // Summed over every label set (a counter by outcome, by origin).
  const sum = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'gm'))].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
  const mib = (name: string) => Number((value(name) / 2 ** 20).toFixed(1));
  return {
    heapMiB: mib('nodejs_heap_size_used_bytes'),
    heapTotalMiB: mib('nodejs_heap_size_total_bytes'),
    externalMiB: mib('nodejs_external_memory_bytes'),
    rssMiB: mib('process_resident_memory_bytes'),
    lagP99Ms: Number((value('nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1)),
    liveSessions: value('omakase_sessions_live'),
    storeSessions: value('omakase_memory_store_sessions'),
    storeLogMiB: mib('omakase_memory_store_bytes\\{part="log"\\}'),
    storeSnapshotMiB: mib('omakase_memory_store_bytes\\{part="snapshot"\\}'),
    restored: sum('omakase_sessions_restored_total'),
    decisions: sum('omakase_decision_seconds_count'),
    items: sum('omakase_items_served_total'),
  };
}

/** `scrape`, or empty figures when the server does not answer within `ms` (the caller says how long it took). */
export const scrapeWithin = (http: string, ms: number): Promise<Partial<ServerFigures>> =>
  Promise.race([scrape(http), delay(ms).then(() => ({}))]).catch(() => ({}));

/**
 * The inspector URL a process started with `--inspect=127.0.0.1:0` prints; its other stderr is passed on.
 */
export function inspectorOf(proc: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => {
      const text = c.toString();
      if (!/Debugger (listening|attached)|For help, see/.test(text)) process.stderr.write(text);
      err += text;
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
  });
}

/** A full GC in the process behind `inspectorUrl` (the inspector's HeapProfiler.collectGarbage). */
export async function collectGarbage(inspectorUrl: Promise<string>): Promise<void> {
  const socket = new WebSocket(await inspectorUrl);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  await new Promise<void>((resolve) => {
    socket.on('message', (d) => {
      if (JSON.parse(d.toString()).id === 1) resolve();
    });
    socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
  });
  socket.close();
}
