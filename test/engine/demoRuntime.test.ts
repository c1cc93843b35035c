import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime, type Runtime } from '../../adapters/runtime.ts';
import type { Pick } from '../../engine/pick.ts';

const T0 = Date.UTC(2026, 0, 1, 8);

// The built-in demo as a user meets it: generated catalog, its transition memory and the shipped ONNX model.
describe('the demo runtime with the shipped model', () => {
  let runtime: Runtime;
  const warnings: string[] = [];

  beforeAll(async () => {
    runtime = await loadRuntime({ warn: (m) => warnings.push(m) });
  }, 120_000);

  const tagged = (picks: Pick[], tag: string) =>
    picks.filter((p) => runtime.catalog.get(p.id)!.tags.includes(tag)).length;

  it('loads the shipped model, not the fallback', async () => {
    expect(warnings).toEqual([]);
    expect(runtime.card?.name).toBe('omakase-demo');
    const { picks } = await runtime.engine.next(runtime.engine.start({ seed: 1 }), { n: 10, nowMs: T0 });
    expect(picks).toHaveLength(10);
    expect(picks.every((p) => !p.reasons.degraded && p.reasons.model === 'omakase-demo@1')).toBe(true);
  });

  it('starts where the listener asked: "play some jazz" gives jazz', async () => {
    const { engine } = runtime;
    const state = engine.start({ seed: 2, intent: { text: 'play some jazz' } });
    expect(state.intent.tag).toBe('jazz');
    const { picks } = await engine.next(state, { n: 10, nowMs: T0 });
    expect(tagged(picks, 'jazz')).toBeGreaterThanOrEqual(7);
  });

  it('"something calmer" makes the next picks calm', async () => {
    const { engine } = runtime;
    const first = await engine.next(engine.start({ seed: 3, intent: { tag: 'energetic' } }), {
      n: 5,
      nowMs: T0,
    });
    const steered = engine.steer(first.state, { kind: 'mood', tag: 'calm' }, T0);
    const { picks } = await engine.next(steered.state, { n: 10, nowMs: T0 });
    expect(tagged(first.picks, 'calm')).toBeLessThanOrEqual(1);
    expect(tagged(picks, 'calm') + tagged(picks, 'mellow')).toBeGreaterThanOrEqual(7);
  });
});
