import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCatalogFile } from '../../engine/catalogFile.ts';
import type { CatalogRow } from '../../engine/item.ts';
import { smallCatalog } from '../engine/fixtures.ts';

const CLI = fileURLToPath(new URL('../../adapters/cli/omakase.js', import.meta.url));

/** A port nobody listens on right now (the OS picks it; a tiny race with other processes is accepted). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Redis server of this test's own (never the shared one), so it can be paused, stopped and restarted (on `onPort` again, to restart one). */
export interface OwnRedis {
  port: number;
  url: string;
  proc: ChildProcess;
  /** SIGSTOP: a frozen Redis that accepts connections and answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  stop(): Promise<void>;
}

export async function startRedis(extraArgs: string[] = [], onPort?: number): Promise<OwnRedis> {
  const port = onPort ?? (await freePort());
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc,
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
      await new Promise((resolve) => proc.once('exit', resolve));
    },
  };
}

/** A generated catalog with embeddings, written once per suite. */
export async function writeTestCatalog(items = 3000): Promise<string> {
  const catalog = smallCatalog({ items, artists: Math.max(30, items / 10) });
  const rows: CatalogRow[] = catalog.items.map((item, i) => ({
    ...item,
    embedding: Array.from(catalog.embedding(i)),
  }));
  const path = join(mkdtempSync(join(tmpdir(), 'omakase-it-')), 'catalog.jsonl');
  await writeCatalogFile(path, rows);
  return path;
}

/** A running `omakase serve` process: its URLs, and every line it printed (JSON log lines, parsed). */
export interface Node {
  proc: ChildProcess;
  url: string;
  http: string;
  output: () => string;
  lines: () => Record<string, unknown>[];
  exited: Promise<number | null>;
}

export function startNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Node> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    // A data directory of its own unless the test names one: nothing is left in the work tree.
    env: { OMAKASE_DATA_DIR: mkdtempSync(join(tmpdir(), 'omakase-data-')), ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 60_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const url = m[1];
        resolve({
          proc,
          url,
          http: url.replace('ws://', 'http://').replace(/\/ws$/, ''),
          output: () => out,
          lines,
          exited,
        });
      }
    });
    proc.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
}

/** Waits (polling, bounded) until `check` resolves true. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
