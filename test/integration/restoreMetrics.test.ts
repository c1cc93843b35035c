import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { configFromEnv, opsConfig } from '../../adapters/config.ts';
import { createLogger } from '../../adapters/http/logger.ts';
import { type ServeApp, startServeApp } from '../../adapters/http/serveApp.ts';
import { engineHistoryWindow, loadRuntime, type Runtime } from '../../adapters/runtime.ts';
import { writeTestCatalog } from './processes.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `omakase-test-restore-${randomBytes(4).toString('hex')}`;

type Frame = Record<string, unknown>;

/** A socket that keeps every frame and waits for the one `match` accepts. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    frames.push(JSON.parse(d.toString()));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = async (match: (f: Frame) => boolean): Promise<Frame> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const i = frames.findIndex(match);
      if (i >= 0) return frames.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`no such frame; got ${JSON.stringify(frames)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  return { ws, next, send: (f: Frame) => ws.send(JSON.stringify(f)) };
}

describe('a session restored from the store is logged and counted (real Redis, two nodes in process)', () => {
  const lines: Record<string, unknown>[] = [];
  const apps: ServeApp[] = [];
  let runtime: Runtime;
  let redis: Redis;

  const node = async (nodeId: string, capture: boolean) => {
    const ops = opsConfig({ logLevel: 'info' }, {});
    const destination = new Writable({
      write(chunk, _enc, done) {
        if (capture) for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const app = await startServeApp({
      config: { ...configFromEnv({}), port: 0, redisUrl: REDIS_URL, redisPrefix: PREFIX, nodeId },
      ops,
      runtime,
      log: createLogger({ level: 'info', nodeId, destination }),
    });
    apps.push(app);
    return app;
  };
  const metric = async (app: ServeApp, series: string) => {
    const text = await (
      await fetch(`${app.url.replace('ws://', 'http://').replace(/\/ws$/, '')}/metrics`)
    ).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    runtime = await loadRuntime({
      catalogPath: await writeTestCatalog(2000),
      modelDir: 'models/default',
      config: { historyWindow: engineHistoryWindow(opsConfig({}, {}).historyWindow) },
    });
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('a resume on the other node: one session.restored line naming the first node, one count in /metrics', async () => {
    const a = await node('node-a', false);
    const b = await node('node-b', true);
    const first = await connect(a.url);
    first.send({ type: 'hello', id: 1, protocol: 1, start: { seed: 5 } });
    const welcome = await first.next((f) => f.type === 'welcome');
    first.send({ type: 'more', id: 2, n: 3 });
    let lastSeq = 0;
    for (let i = 0; i < 3; i++) lastSeq = (await first.next((f) => f.type === 'item')).seq as number;
    first.send({ type: 'feedback', id: 3, seq: lastSeq, kind: 'liked' });
    await first.next((f) => f.type === 'ack');

    const second = await connect(b.url);
    second.send({
      type: 'hello',
      id: 1,
      protocol: 1,
      resume: { sessionId: welcome.sessionId, resumeToken: welcome.resumeToken, lastSeq },
    });
    expect((await second.next((f) => f.type === 'welcome' || f.type === 'error')).type).toBe('welcome');

    const restored = lines.filter((l) => l.event === 'session.restored');
    expect(restored).toHaveLength(1);
    expect(restored[0]).toMatchObject({
      level: 30,
      node: 'node-b',
      sessionId: welcome.sessionId,
      from: 'not-held',
      lastNode: 'node-a',
      ok: true,
    });
    expect(restored[0].tailEvents).toBeGreaterThan(0);
    // The resume's own line names the session it opened.
    expect(lines.filter((l) => l.event === 'session.opened')).toEqual([
      expect.objectContaining({ how: 'resume', sessionId: welcome.sessionId, node: 'node-b' }),
    ]);
    expect(await metric(b, 'omakase_sessions_restored_total{from="not-held",outcome="ok"}')).toBe(1);
    // The node that started the session rebuilt nothing.
    expect(await metric(a, 'omakase_sessions_restored_total{from="not-held",outcome="ok"}')).toBeUndefined();
    first.ws.terminate();
    second.ws.terminate();
  }, 60_000);
});
