import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../engine/catalog.ts';
import { generateDemoCatalog } from '../../../engine/demo/demoCatalog.ts';
import { createListener, listenerAffinity } from '../../../engine/demo/syntheticListener.ts';
import type { Item } from '../../../engine/item.ts';
import { createRng } from '../../../engine/rng.ts';

const catalog = new Catalog(generateDemoCatalog({ seed: 3, tracks: 6000 }));

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d] * b[d];
  return s;
}

/** Items of the listener's favourite genre, and the items furthest from its taste. */
function nearAndFar(seed: number): { near: Item[]; far: Item[] } {
  const listener = createListener(catalog, { seed });
  const near = catalog.byTag(listener.taste.genres[0]).map((i) => catalog.items[i]);
  const scored = catalog.items.map((item, i) => ({
    item,
    s: dot(catalog.embedding(i), listener.taste.vector),
  }));
  scored.sort((a, b) => a.s - b.s);
  return { near, far: scored.slice(0, 500).map((x) => x.item) };
}

const finished = (o: string) => o === 'completed' || o === 'liked';

describe('createListener', () => {
  it('draws the same taste for the same seed and another for another seed', () => {
    const a = createListener(catalog, { seed: 11 }).taste;
    expect(createListener(catalog, { seed: 11 }).taste).toEqual(a);
    expect(createListener(catalog, { seed: 12 }).taste).not.toEqual(a);
    expect(a.genres.length).toBeGreaterThanOrEqual(1);
    expect(a.genres.length).toBeLessThanOrEqual(3);
  });

  it('lets a test fix parts of the taste', () => {
    const listener = createListener(catalog, { seed: 11, taste: { energy: 0.9, repeatTolerance: 0 } });
    expect(listener.taste.energy).toBe(0.9);
    expect(listener.taste.repeatTolerance).toBe(0);
  });

  it('completes items of its favourite genres far more often than items far from its taste', () => {
    const rng = createRng(1);
    let near = 0;
    let far = 0;
    const draws = 40;
    for (let seed = 0; seed < 30; seed++) {
      const listener = createListener(catalog, { seed });
      const items = nearAndFar(seed);
      for (let k = 0; k < draws; k++) {
        const a = items.near[rng.int(items.near.length)];
        const b = items.far[rng.int(items.far.length)];
        if (finished(listener.react(a, { recent: [] }, rng).outcome)) near++;
        if (finished(listener.react(b, { recent: [] }, rng).outcome)) far++;
      }
    }
    const total = 30 * draws;
    expect(near / total).toBeGreaterThan(0.6);
    expect(far / total).toBeLessThan(0.15);
    // Not trivial: some favourites are skipped and some far items finished.
    expect(near / total).toBeLessThan(0.98);
  });

  it('agrees with listenerAffinity', () => {
    const listener = createListener(catalog, { seed: 4 });
    const { near, far } = nearAndFar(4);
    const mean = (items: Item[]) => items.reduce((s, it) => s + listener.affinity(it), 0) / items.length;
    expect(mean(near)).toBeGreaterThan(mean(far) + 0.5);
    expect(listenerAffinity(catalog, listener.taste, near[0])).toBeTypeOf('number');
  });

  it('skips poor matches early (5–30 s) and plays finished items to the end', () => {
    const rng = createRng(2);
    const listener = createListener(catalog, { seed: 5 });
    const { near, far } = nearAndFar(5);
    let early = 0;
    let skips = 0;
    for (let k = 0; k < 400; k++) {
      const item = far[k % far.length];
      const r = listener.react(item, { recent: [] }, rng);
      if (finished(r.outcome)) {
        expect(r.playedMs).toBe(item.durationMs);
        continue;
      }
      skips++;
      expect(r.playedMs).toBeLessThan(item.durationMs);
      if (r.playedMs < 30_000) {
        early++;
        expect(r.playedMs).toBeGreaterThanOrEqual(5000);
      }
    }
    expect(skips).toBeGreaterThan(300);
    expect(early / skips).toBeGreaterThan(0.6);
    const r = listener.react(near[0], { recent: [] }, createRng(3));
    expect(r.playedMs).toBeGreaterThan(0);
  });

  it('skips an artist heard just before, and a repeated item, much more often', () => {
    const rng = createRng(4);
    let fresh = 0;
    let sameArtist = 0;
    let repeated = 0;
    for (let seed = 0; seed < 20; seed++) {
      const listener = createListener(catalog, { seed });
      const { near } = nearAndFar(seed);
      for (let k = 0; k < 30; k++) {
        const item = near[rng.int(near.length)];
        const other = { id: 'zz-other', artist: 'Someone Else', outcome: 'completed' as const };
        const previous = { id: 'zz-prev', artist: item.artist, outcome: 'completed' as const };
        const self = { id: item.id, artist: item.artist, outcome: 'completed' as const };
        if (finished(listener.react(item, { recent: [other] }, rng).outcome)) fresh++;
        if (finished(listener.react(item, { recent: [previous] }, rng).outcome)) sameArtist++;
        if (finished(listener.react(item, { recent: [self, other] }, rng).outcome)) repeated++;
      }
    }
    expect(sameArtist).toBeLessThan(fresh * 0.6);
    expect(repeated).toBeLessThan(fresh * 0.3);
  });

  it('quits more often after a run of skips', () => {
    const rng = createRng(5);
    const listener = createListener(catalog, { seed: 6, taste: { patience: 0.5 } });
    const play = (outcome: 'completed' | 'skipped') => ({ id: 'x', artist: 'a', outcome });
    const happy = { recent: Array.from({ length: 5 }, () => play('completed')) };
    const bored = { recent: [play('completed'), ...Array.from({ length: 4 }, () => play('skipped'))] };
    let quitHappy = 0;
    let quitBored = 0;
    for (let k = 0; k < 2000; k++) {
      if (listener.quits(happy, rng)) quitHappy++;
      if (listener.quits(bored, rng)) quitBored++;
    }
    expect(quitBored).toBeGreaterThan(quitHappy * 5);
    expect(quitHappy).toBeLessThan(60);
  });
});
