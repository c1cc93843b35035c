import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../adapters/protocol.ts';
import { writeCatalogFile } from '../../engine/catalogFile.ts';
import type { CatalogRow } from '../../engine/item.ts';
import { TestClient } from '../adapters/ws/testClient.ts';
import { smallCatalog } from '../engine/fixtures.ts';

const CLI = fileURLToPath(new URL('../../adapters/cli/omakase.js', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `omakase-test-scaleout-${randomBytes(4).toString('hex')}`;

/** Starts `omakase serve` as its own process and resolves with its WebSocket URL once it listens. */
function startNode(name: string, catalogPath: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--catalog', catalogPath, '--model', 'models/default'],
    {
      env: { ...process.env, REDIS_URL, OMAKASE_REDIS_PREFIX: PREFIX, OMAKASE_NODE_ID: name },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1] });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out}`)));
  });
}

describe('scale-out: two engine processes share sessions through Redis', () => {
  const nodes: ChildProcess[] = [];
  let catalogPath: string;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    const catalog = smallCatalog({ items: 3000, artists: 300 });
    const rows: CatalogRow[] = catalog.items.map((item, i) => ({
      ...item,
      embedding: Array.from(catalog.embedding(i)),
    }));
    catalogPath = join(mkdtempSync(join(tmpdir(), 'omakase-scaleout-')), 'catalog.jsonl');
    await writeCatalogFile(catalogPath, rows);
  });

  afterAll(async () => {
    for (const proc of nodes) proc.kill('SIGKILL');
    // Only this suite's keys.
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('a listener whose node is SIGKILLed resumes on the other node: no repeat, no lost thumbs-down', async () => {
    const [a, b] = await Promise.all([startNode('node-a', catalogPath), startNode('node-b', catalogPath)]);
    nodes.push(a.proc, b.proc);

    const first = await TestClient.connect(a.url);
    first.send({ type: 'hello', id: 1, protocol: PROTOCOL_VERSION, start: { seed: 42 } });
    const welcome = await first.next('welcome', undefined, 10_000);
    first.send({ type: 'more', id: 2, n: 12 });
    const before = await first.items(12);
    const seen = before.map((f) => f.item.id);

    // Feedback the server acknowledged must survive the node: a thumbs-down, a like, an early skip.
    const disliked = before[3];
    first.send({ type: 'feedback', id: 3, seq: before[0].seq, kind: 'completed' });
    first.send({ type: 'feedback', id: 4, seq: disliked.seq, kind: 'disliked' });
    first.send({ type: 'feedback', id: 5, seq: before[5].seq, kind: 'liked' });
    await first.next('ack', (f) => f.id === 3, 10_000);
    await first.next('ack', (f) => f.id === 4, 10_000);
    await first.next('ack', (f) => f.id === 5, 10_000);
    const invalidated = new Set<number>();
    for (const f of first.frames)
      if (f.type === 'invalidated') for (const s of f.seqs as number[]) invalidated.add(s);

    a.proc.kill('SIGKILL');
    await first.closed;

    const second = await TestClient.connect(b.url);
    const lastSeq = before[before.length - 1].seq;
    second.send({
      type: 'hello',
      id: 1,
      protocol: PROTOCOL_VERSION,
      resume: { sessionId: welcome.sessionId, resumeToken: welcome.resumeToken, lastSeq },
    });
    const resumed = await second.next('welcome', undefined, 10_000);
    expect(resumed.sessionId).toBe(welcome.sessionId);
    expect(resumed.lastSeq).toBe(lastSeq);
    expect(resumed.resumeToken).not.toBe(welcome.resumeToken);

    second.send({ type: 'more', id: 2, n: 30 });
    const after = await second.items(30);
    // The stream continues where it was: seqs go on rising, and nothing already sent comes again.
    expect(after[0].seq).toBeGreaterThan(lastSeq);
    for (let i = 1; i < after.length; i++) expect(after[i].seq).toBeGreaterThan(after[i - 1].seq);
    const all = [...seen.filter((_, i) => !invalidated.has(before[i].seq)), ...after.map((f) => f.item.id)];
    expect(new Set(all).size).toBe(all.length);
    // The thumbs-down acknowledged on node A still holds on node B: that artist stays out of the next picks.
    expect(after.slice(0, 10).map((f) => f.item.artist)).not.toContain(disliked.item.artist);

    // Feedback on an item sent by the dead node is still accepted (the session kept it).
    const later = before
      .slice(6)
      .find((f) => !invalidated.has(f.seq) && f.item.artist !== disliked.item.artist)!;
    second.send({ type: 'feedback', id: 3, seq: later.seq, kind: 'completed' });
    await second.next('ack', (f) => f.id === 3, 10_000);
    second.ws.close();
  }, 90_000);
});
