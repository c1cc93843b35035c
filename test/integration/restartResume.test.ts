import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../adapters/protocol.ts';
import { TestClient } from '../adapters/ws/testClient.ts';
import { type Node, startNode, writeTestCatalog } from './processes.ts';

describe('a single node on its data directory survives a restart', () => {
  let catalogPath: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'omakase-restart-'));
  const nodes: Node[] = [];
  const args = () => ['--catalog', catalogPath, '--model', 'models/default', '--data-dir', dataDir];
  // The data directory is the store only without Redis: .ci/run exports REDIS_URL and OMAKASE_REDIS_CLUSTER.
  const noRedis = { REDIS_URL: '', OMAKASE_REDIS_CLUSTER: '' };

  beforeAll(async () => {
    catalogPath = await writeTestCatalog(3000);
  });
  afterAll(() => {
    for (const node of nodes) node.proc.kill('SIGKILL');
  });

  it('a listener whose server is SIGKILLed and started again resumes: same session, next seq, no repeat, the thumbs-down kept', async () => {
    const a = await startNode(args(), noRedis);
    nodes.push(a);
    const first = await TestClient.connect(a.url);
    first.send({ type: 'hello', id: 1, protocol: PROTOCOL_VERSION, start: { seed: 11 } });
    const welcome = await first.next('welcome', undefined, 10_000);
    first.send({ type: 'more', id: 2, n: 10 });
    const before = await first.items(10);
    const disliked = before[2];
    first.send({ type: 'feedback', id: 3, seq: disliked.seq, kind: 'disliked' });
    await first.next('ack', (f) => f.id === 3, 10_000);
    const invalidated = new Set<number>();
    for (const f of first.frames)
      if (f.type === 'invalidated') for (const s of f.seqs as number[]) invalidated.add(s);
    expect(readdirSync(join(dataDir, 'live'))).toContain(`${welcome.sessionId}.jsonl`);

    a.proc.kill('SIGKILL');
    await first.closed;
    const b = await startNode(args(), noRedis);
    nodes.push(b);
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
    second.send({ type: 'more', id: 2, n: 20 });
    const after = await second.items(20);
    expect(after[0].seq).toBe(lastSeq + 1);
    const all = [...before.filter((f) => !invalidated.has(f.seq)), ...after].map((f) => f.item.id);
    expect(new Set(all).size).toBe(all.length);
    expect(after.slice(0, 10).map((f) => f.item.artist)).not.toContain(disliked.item.artist);
    second.ws.close();
  }, 90_000);
});
