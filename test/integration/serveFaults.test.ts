import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../../adapters/protocol.ts';
import { TestClient } from '../adapters/ws/testClient.ts';
import {
  eventually,
  type Node,
  type OwnRedis,
  startNode,
  startRedis,
  writeTestCatalog,
} from './processes.ts';

// Real processes: `omakase serve` twice, on a Redis server of this suite's own that it can freeze.
let redis: OwnRedis;
let catalogPath: string;
const nodes: Node[] = [];
const PREFIX = `omakase-it-${randomBytes(4).toString('hex')}`;
const SECRET = `pw-${randomBytes(6).toString('hex')}`;

async function node(name: string, extra: string[] = []): Promise<Node> {
  const started = await startNode(
    [
      '--catalog',
      catalogPath,
      '--model',
      'models/default',
      '--redis',
      // A password the server must never print (this Redis has none; ioredis sends it and carries on).
      redis.url.replace('redis://', `redis://:${SECRET}@`),
      '--redis-prefix',
      PREFIX,
      '--redis-timeout-ms',
      '500',
      ...extra,
    ],
    { OMAKASE_NODE_ID: name },
  );
  nodes.push(started);
  return started;
}

const ready = async (n: Node) => (await fetch(`${n.http}/readyz`)).status;

beforeAll(async () => {
  [redis, catalogPath] = await Promise.all([startRedis(), writeTestCatalog()]);
}, 60_000);

afterAll(async () => {
  for (const n of nodes) n.proc.kill('SIGKILL');
  await redis?.stop();
});

describe('serve in front of real listeners: faults, drain, probes, logs', () => {
  it('a frozen Redis: calls fail within the timeout as SESSION_STORE_UNAVAILABLE, /readyz says so, logs stay short', async () => {
    const a = await node('node-faults');
    expect(await ready(a)).toBe(200);
    expect((await fetch(`${a.http}/healthz`)).status).toBe(200);
    const client = await TestClient.connect(a.url);
    client.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, start: { seed: 3 } });
    await client.next('welcome', undefined, 10_000);
    client.send({ type: 'more', id: 'm', n: 3 });
    const items = await client.items(3);

    redis.pause();
    try {
      const started = Date.now();
      for (let i = 0; i < 5; i++)
        client.send({ type: 'feedback', id: `f${i}`, seq: items[0].seq, kind: 'started' });
      const error = await client.next('error', (f) => f.id === 'f0', 10_000);
      expect(error).toMatchObject({ code: 'SESSION_STORE_UNAVAILABLE', retryable: true });
      expect(error.message).not.toMatch(/ioredis|timed out|127\.0\.0\.1|EVALSHA/i);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await ready(a)).toBe(503);
      expect(await (await fetch(`${a.http}/healthz`)).text()).toBe('ok\n');
    } finally {
      redis.resume();
    }
    await eventually(async () => (await ready(a)) === 200, '/readyz to recover');
    // The node goes on once Redis is back (a fresh session; the old one may have been dropped as stale).
    const after = await TestClient.connect(a.url);
    after.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, start: { seed: 4 } });
    await after.next('welcome', undefined, 10_000);
    after.send({ type: 'more', id: 'm', n: 2 });
    await after.items(2);
    after.close();
    client.close();

    const metrics = await (await fetch(`${a.http}/metrics`)).text();
    expect(metrics).toMatch(/omakase_store_failures_total\{op="(append|save|load)"\} [1-9]/);
    expect(metrics).toMatch(/omakase_errors_total\{code="SESSION_STORE_UNAVAILABLE"\} [1-9]/);
    expect(metrics).toMatch(/omakase_items_served_total [1-9]/);
    expect(metrics).toMatch(/omakase_decision_seconds_count\{outcome="ok"\} [1-9]/);
    for (const name of [
      'omakase_sessions_live',
      'omakase_connections',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(metrics).toContain(name);

    // Every line is JSON; the failure is a handful of lines, not one (or a stack) per call.
    const lines = a.lines();
    expect(
      a
        .output()
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('{') && !l.includes('[WARN] This Redis server')),
    ).toEqual([]);
    const failures = lines.filter(
      (l) => l.event === 'store.failed' || l.event === 'session.write_failed' || l.event === 'request.failed',
    );
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.length).toBeLessThan(10);
    expect(a.output()).not.toContain('    at ');
    expect(a.output()).not.toContain(SECRET);
  }, 60_000);

  it('SIGTERM drains: /readyz fails, new upgrades get 503, a request in flight is answered, then 1001 "resume elsewhere", and the session resumes on another node', async () => {
    const [a, b] = await Promise.all([
      node('node-drain-a', ['--drain-timeout-ms', '20000', '--redis-timeout-ms', '15000']),
      node('node-drain-b'),
    ]);
    const client = await TestClient.connect(a.url);
    client.send({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, start: { seed: 5 } });
    const welcome = await client.next('welcome', undefined, 10_000);
    client.send({ type: 'more', id: 'm', n: 4 });
    const items = await client.items(4);

    // Hold a request in flight: Redis frozen, the feedback's append waits (well within the drain timeout).
    redis.pause();
    let exited: Promise<number | null>;
    try {
      client.send({ type: 'feedback', id: 'inflight', seq: items[1].seq, kind: 'liked' });
      await client.settle();
      a.proc.kill('SIGTERM');
      exited = a.exited;
      await eventually(async () => (await ready(a)) === 503, '/readyz to fail while draining');
      const upgrade = await new Promise<number>((resolve) => {
        const ws = new WebSocket(a.url);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
      expect(upgrade).toBe(503);
      // A request sent during the drain is not taken, and says so.
      client.send({ type: 'pause', id: 'late' });
      expect(await client.next('error', (f) => f.id === 'late')).toMatchObject({
        code: 'PROTO_DRAINING',
        retryable: true,
      });
    } finally {
      redis.resume();
    }
    // The feedback taken before the drain is answered (Redis is back within its 15 s timeout), then the close.
    await client.next('ack', (f) => f.id === 'inflight', 15_000);
    expect(await client.closed).toEqual({ code: 1001, reason: 'server draining; resume elsewhere' });
    expect(await exited!).toBe(0);

    const resumed = await TestClient.connect(b.url);
    resumed.send({
      type: 'hello',
      id: 'r',
      protocol: PROTOCOL_VERSION,
      resume: { sessionId: welcome.sessionId, resumeToken: welcome.resumeToken, lastSeq: items[3].seq },
    });
    expect(await resumed.next('welcome', undefined, 10_000)).toMatchObject({
      sessionId: welcome.sessionId,
      lastSeq: items[3].seq,
    });
    resumed.send({ type: 'more', id: 'm', n: 2 });
    expect((await resumed.items(2))[0].seq).toBe(items[3].seq + 1);
    resumed.close();
    expect(a.output()).not.toContain(SECRET);
  }, 90_000);
});
