import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../adapters/protocol.ts';
import { TestClient } from '../adapters/ws/testClient.ts';
import { missing } from '../requirements.ts';
import { type Node, startNode, writeTestCatalog } from './processes.ts';

/** Seed nodes of a Redis Cluster (.ci/run starts three masters and sets this). */
const cluster = process.env.OMAKASE_REDIS_CLUSTER;

describe.skipIf(missing(cluster !== undefined))(
  'scale-out on a 3-master Redis Cluster (skips without OMAKASE_REDIS_CLUSTER; .ci/run starts one)',
  () => {
    const nodes: Node[] = [];
    let catalogPath: string;
    beforeAll(async () => {
      catalogPath = await writeTestCatalog();
    }, 60_000);
    const prefix = `omakase-it-cluster-${process.pid}`;
    afterAll(async () => {
      for (const n of nodes) n.proc.kill('SIGKILL');
      // Only this suite's keys, master by master (each seed node is a master).
      for (const node of cluster!.split(',')) {
        const admin = new Redis(`redis://${node}`);
        const keys = await admin.keys(`${prefix}:*`);
        for (const key of keys) await admin.del(key);
        admin.disconnect();
      }
    });

    it('sessions whose node is SIGKILLed resume on the other node: no repeat, the thumbs-down kept', async () => {
      const args = [
        '--catalog',
        catalogPath,
        '--model',
        'models/default',
        '--redis-cluster',
        cluster!,
        '--redis-prefix',
        prefix,
      ];
      const [a, b] = await Promise.all([
        startNode(args, { OMAKASE_NODE_ID: 'cluster-a' }),
        startNode(args, { OMAKASE_NODE_ID: 'cluster-b' }),
      ]);
      nodes.push(a, b);
      // Several sessions, so that their keys land on different masters.
      const sessions = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const client = await TestClient.connect(a.url);
          client.send({ type: 'hello', id: 1, protocol: PROTOCOL_VERSION, start: { seed: 100 + i } });
          const welcome = await client.next('welcome', undefined, 10_000);
          client.send({ type: 'more', id: 2, n: 8 });
          const items = await client.items(8);
          client.send({ type: 'feedback', id: 3, seq: items[2].seq, kind: 'disliked' });
          await client.next('ack', (f) => f.id === 3, 10_000);
          const withdrawn = new Set<number>();
          await client.settle();
          for (const f of client.frames)
            if (f.type === 'invalidated') for (const s of f.seqs as number[]) withdrawn.add(s);
          return { client, welcome, items, withdrawn };
        }),
      );
      a.proc.kill('SIGKILL');
      for (const s of sessions) await s.client.closed;

      for (const { welcome, items, withdrawn } of sessions) {
        const lastSeq = items.at(-1)!.seq;
        const resumed = await TestClient.connect(b.url);
        resumed.send({
          type: 'hello',
          id: 1,
          protocol: PROTOCOL_VERSION,
          resume: { sessionId: welcome.sessionId, resumeToken: welcome.resumeToken, lastSeq },
        });
        expect(await resumed.next('welcome', undefined, 10_000)).toMatchObject({
          sessionId: welcome.sessionId,
          lastSeq,
        });
        resumed.send({ type: 'more', id: 2, n: 10 });
        const after = await resumed.items(10);
        expect(after[0].seq).toBeGreaterThan(lastSeq);
        const all = [
          ...items.filter((f) => !withdrawn.has(f.seq)).map((f) => f.item.id),
          ...after.map((f) => f.item.id),
        ];
        expect(new Set(all).size).toBe(all.length);
        expect(after.slice(0, 8).map((f) => f.item.artist)).not.toContain(items[2].item.artist);
        resumed.close();
      }
    }, 120_000);
  },
);
