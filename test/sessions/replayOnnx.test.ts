import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR, loadRuntime, type Runtime } from '../../adapters/runtime.ts';
import { createEngine } from '../../engine/engine.ts';
import { loadModel } from '../../models/loadModel.ts';
import { replaySession } from '../../sessions/replay.ts';
import { manager, openManagers } from './managerFixtures.ts';

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

// The shipped ONNX model on the demo catalog: what `omakase serve` runs by default.
describe('replay with the real ONNX model', () => {
  let runtime: Runtime;

  beforeAll(async () => {
    runtime = await loadRuntime();
  }, 120_000);

  it('a served session replays exactly on a freshly loaded model, scores included', async () => {
    const card = runtime.card!;
    const provenance = { model: `${card.name}@${card.version}`, sha256: card.sha256, runtime: card.runtime };
    const { service, store, clock } = manager({ engine: runtime.engine, provenance });
    const { sessionId: sid } = await service.start({
      connectionId: 'c1',
      seed: 21,
      intent: { text: 'jazz' },
    });
    const items = await service.more(sid, 'c1', 10);
    clock.increment(120_000);
    await service.feedback(sid, 'c1', { type: 'skipped', seq: 1, atMs: 3_000 });
    await service.feedback(sid, 'c1', { type: 'liked', seq: 2 });
    await service.steer(sid, 'c1', { kind: 'artist', artist: items[1]!.artist });
    await service.more(sid, 'c1', 20);
    const events = (await store.readEvents(sid)).map((e) => e.event);
    expect(events[0]).toMatchObject({ provenance });

    // Another ONNX Runtime session on the same file, as another process would have.
    const { scorer } = await loadModel(DEFAULT_MODEL_DIR);
    const fresh = createEngine({
      catalog: runtime.catalog,
      transitions: runtime.transitions,
      sessions: runtime.sessions,
      sequences: runtime.sequences,
      scorer,
    });
    const report = await replaySession(events, fresh, { mode: 'rescore', tolerance: 1e-5 });
    expect(report).toMatchObject({
      ok: true,
      diverged: 0,
      tolerated: 0,
      model: { logged: runtime.engine.modelId, replay: fresh.modelId, provenance },
    });
    // Every delivery, and every pool scored again by the fresh session.
    const deliveries = events.filter(
      (e) => (e.type === 'feed.more' && Array.isArray(e.ids)) || (e.type === 'engine.pool' && e.answered),
    );
    const pools = events.filter((e) => e.type === 'engine.pool');
    expect(deliveries.length).toBeGreaterThanOrEqual(2);
    expect(report.decisions).toBe(deliveries.length + pools.length);
    expect(report.exact).toBe(report.decisions);
    // One intra-op thread on both sides: bitwise equal, so the tolerance is not what made it pass.
    expect(report.maxScoreDelta).toBe(0);
  });
});
