import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../../adapters/cli/commands/replayCommand.ts';
import { writeCatalogFile } from '../../../engine/catalogFile.ts';
import { createRedisStore } from '../../../sessions/redisStore.ts';
import type { SessionLogEvent, SessionStore } from '../../../sessions/sessionStore.ts';
import { openManagers } from '../../sessions/managerFixtures.ts';
import { catalog, livedSession } from '../../sessions/replayFixtures.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `omakase-replay-test-${randomUUID()}`;
let dir: string;
let catalogPath: string;
const stores: SessionStore[] = [];
const sessionIds: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omakase-replay-'));
  catalogPath = join(dir, 'catalog.jsonl');
  // The replay engine comes from files, as in production: the test catalog, no model (fallback scorer).
  await writeCatalogFile(catalogPath, catalog.items);
});

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

afterAll(async () => {
  // Only this suite's sessions, under its own prefix.
  const cleanup = createRedisStore({ url, prefix });
  for (const id of sessionIds) await cleanup.delete(id);
  await cleanup.close();
  for (const store of stores) await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(opts: Parameters<typeof runReplay>[0]) {
  let out = '';
  const ok = await runReplay({ catalog: catalogPath, ...opts }, (text) => {
    out += text;
  });
  return { ok, out };
}

/** The log's deliveries: each delivering `feed.more`, and each pool that answered a held one. */
const deliveries = (events: SessionLogEvent[]) =>
  events.filter(
    (e) => (e.type === 'feed.more' && Array.isArray(e.ids)) || (e.type === 'engine.pool' && e.answered),
  );
const jsonl = (events: unknown[]) => `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;

describe('omakase replay', () => {
  it('--log: replays a JSONL dump exactly, and reports a tampered one with its first divergence', async () => {
    const { events } = await livedSession();
    const file = join(dir, 'session.jsonl');
    await writeFile(file, jsonl(events));
    const good = await run({ log: file });
    expect(good.ok).toBe(true);
    expect(good.out).toContain('REPLAY OK');
    expect(good.out).toMatch(/diverged 0/);

    const tampered = structuredClone(events);
    const delivery = tampered.filter((e) => e.type === 'feed.more' && Array.isArray(e.ids))[2]!;
    (delivery.ids as string[]).reverse();
    await writeFile(file, jsonl(tampered));
    const bad = await run({ log: file, json: true });
    expect(bad.ok).toBe(false);
    const report = JSON.parse(bad.out);
    expect(report.firstDivergence).toMatchObject({
      what: 'delivery',
      decision: 2,
      logIndex: tampered.indexOf(delivery),
    });
  });

  it('--redis --prefix --session: replays from the store; --export events round-trips through --log', async () => {
    const store = createRedisStore({ url, prefix });
    stores.push(store);
    const { sessionId, events } = await livedSession({ store });
    sessionIds.push(sessionId);
    const replayed = await run({ redis: url, prefix, session: sessionId, json: true });
    expect(replayed.ok).toBe(true);
    const report = JSON.parse(replayed.out);
    expect(report.decisions).toBe(deliveries(events).length);
    expect(report.exact).toBe(report.decisions);

    const dump = join(dir, 'dump.jsonl');
    await run({ redis: url, prefix, session: sessionId, export: 'events', out: dump });
    const dumped = (await readFile(dump, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SessionLogEvent);
    expect(dumped).toEqual(events);
    expect((await run({ log: dump })).ok).toBe(true);
  });

  it('--export dsjson writes one line per delivered pick with its propensity', async () => {
    const { events } = await livedSession();
    const file = join(dir, 'export-source.jsonl');
    await writeFile(file, jsonl(events));
    const out = join(dir, 'export.dsjson');
    expect((await run({ log: file, export: 'dsjson', out })).ok).toBe(true);
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const p = deliveries(events).flatMap(
      (e) => (e.type === 'feed.more' ? e.p : (e.answered as { p: number[] }).p) as number[],
    );
    expect(p.length).toBeGreaterThan(20);
    expect(lines.map((l) => l.p[0])).toEqual(p);
  });

  it('an unknown session under the prefix is SESSION_NOT_FOUND; no source at all is refused', async () => {
    await expect(run({ redis: url, prefix, session: 'no-such-session' })).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
    });
    await expect(run({ redis: undefined, session: undefined })).rejects.toMatchObject({
      code: 'SESSION_INVALID_REQUEST',
    });
  });
});
