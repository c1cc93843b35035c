import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineWorkers, startEngineWorkers } from '../../adapters/engineWorkers.ts';
import { loadRuntime, type Runtime, type RuntimeOptions } from '../../adapters/runtime.ts';
import { writeCatalogFile } from '../../engine/catalogFile.ts';
import type { Engine } from '../../engine/engine.ts';
import type { CatalogRow } from '../../engine/item.ts';
import type { Pick } from '../../engine/pick.ts';
import type { SessionState } from '../../engine/session.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import { smallCatalog } from '../engine/fixtures.ts';

const T0 = Date.UTC(2026, 0, 1, 8);

async function catalogFile(items: number): Promise<string> {
  const catalog = smallCatalog({ items, artists: items / 10 });
  const rows: CatalogRow[] = catalog.items.map((item, i) => ({
    ...item,
    embedding: Array.from(catalog.embedding(i)),
  }));
  const path = join(mkdtempSync(join(tmpdir(), 'omakase-workers-')), 'catalog.jsonl');
  await writeCatalogFile(path, rows);
  return path;
}

/** A session of `decisions` decisions with feedback between them: a skip, a dislike, a steer. */
async function session(engine: Engine, decisions: number): Promise<{ picks: Pick[]; state: SessionState }> {
  let state = engine.start({ seed: 11, intent: { text: 'something calm' } });
  let now = T0;
  const picks: Pick[] = [];
  for (let d = 0; d < decisions; d++) {
    const out = await engine.next(state, { n: 5, nowMs: now });
    state = out.state;
    picks.push(...out.picks);
    const [first, second] = out.picks;
    if (first) state = engine.feedback(state, { type: 'skipped', pos: first.pos, atMs: 9_000 }, now).state;
    if (second && d % 2 === 1)
      state = engine.feedback(state, { type: 'disliked', pos: second.pos }, now).state;
    if (d === 2) state = engine.steer(state, { kind: 'mood', tag: 'upbeat' }, now).state;
    now += 20 * 60_000;
  }
  return { picks, state };
}

describe('engine decisions on worker threads', () => {
  let options: RuntimeOptions;
  let runtime: Runtime;
  let workers: EngineWorkers;

  beforeAll(async () => {
    options = { catalogPath: await catalogFile(3000), modelDir: 'models/default' };
    runtime = await loadRuntime(options);
    workers = await startEngineWorkers(runtime, options, 2);
  }, 120_000);
  afterAll(() => workers?.close());

  it('picks exactly what the thread its own engine picks, and leaves the same state', async () => {
    const local = await session(runtime.engine, 8);
    const pooled = await session(workers.engine, 8);
    expect(pooled.picks).toHaveLength(40);
    expect(pooled.picks.every((p) => p.reasons.model === 'omakase-demo@1' && !p.reasons.degraded)).toBe(true);
    expect(pooled.picks).toEqual(local.picks);
    expect(pooled.state).toEqual(local.state);
  });

  it('answers concurrent decisions for many sessions, each its own', async () => {
    const engine = workers.engine;
    const states = Array.from({ length: 12 }, (_, s) => engine.start({ seed: 100 + s }));
    const pooled = await Promise.all(states.map((state) => engine.next(state, { n: 5, nowMs: T0 })));
    for (const [s, state] of states.entries()) {
      expect(pooled[s]).toEqual(await runtime.engine.next(state, { n: 5, nowMs: T0 }));
    }
  });

  it("passes the engine's coded errors back as coded errors", async () => {
    const state = workers.engine.start({ seed: 1 });
    const err = await workers.engine.next(state, { n: 0, nowMs: T0 }).catch((e: unknown) => e);
    expect(isOmakaseError(err, 'ENGINE_INVALID_REQUEST')).toBe(true);
    expect((err as Error).message).toMatch(/n must be an integer/);
    // And keeps serving.
    expect((await workers.engine.next(state, { n: 3, nowMs: T0 })).picks).toHaveLength(3);
  });

  it('refuses to start when a worker would load another catalog than this thread', async () => {
    const other = { catalogPath: await catalogFile(2000), modelDir: 'models/default' };
    await expect(startEngineWorkers(runtime, other, 1)).rejects.toThrow(
      /engine worker loaded model omakase-demo@1 on 2000 items, this thread omakase-demo@1 on 3000/,
    );
  });
});
