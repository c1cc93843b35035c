import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCatalogRow, readCatalogFile, writeCatalogFile } from '../../../engine/catalogFile.ts';
import {
  DEMO_FAMILIES,
  DEMO_GENRES,
  DEMO_MOODS,
  generateDemoCatalog,
} from '../../../engine/demo/demoCatalog.ts';
import type { CatalogRow } from '../../../engine/item.ts';

const rows = generateDemoCatalog();

function cos(a: number[], b: number[]): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d] * b[d];
  return s;
}

function countBy<T>(list: readonly T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of list) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

describe('generateDemoCatalog', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateDemoCatalog({ seed: 7, tracks: 500 });
    expect(generateDemoCatalog({ seed: 7, tracks: 500 })).toEqual(a);
    const b = generateDemoCatalog({ seed: 8, tracks: 500 });
    expect(b.map((r) => r.artist)).not.toEqual(a.map((r) => r.artist));
  });

  it('honours tracks and dim, with padded unique ids', () => {
    const small = generateDemoCatalog({ tracks: 321, dim: 8 });
    expect(small).toHaveLength(321);
    expect(small[0].id).toBe('t00001');
    expect(small.every((r) => r.embedding?.length === 8)).toBe(true);
    expect(new Set(small.map((r) => r.id)).size).toBe(321);
  });

  it('has the default size, artists and genre tags', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20_000);
    expect(new Set(rows.map((r) => r.artist)).size).toBeGreaterThanOrEqual(2_200);
    const tags = countBy(
      rows.flatMap((r) => r.tags),
      (t) => t,
    );
    const genresUsed = DEMO_GENRES.filter((g) => (tags.get(g) ?? 0) > 0);
    expect(genresUsed.length).toBeGreaterThanOrEqual(30);
    for (const mood of ['calm', 'mellow', 'upbeat', 'energetic', 'dark', 'bright', 'melancholic', 'happy']) {
      expect(tags.get(mood) ?? 0, mood).toBeGreaterThan(100);
    }
    expect(DEMO_MOODS).toContain('calm');
  });

  it('gives every track its genre, its family and one or two moods', () => {
    const wrong = rows.filter((r) => {
      const moods = r.tags.slice(2);
      return (
        !DEMO_GENRES.includes(r.tags[0]) ||
        !DEMO_FAMILIES.includes(r.tags[1]) ||
        moods.length < 1 ||
        moods.length > 2 ||
        !moods.every((m) => DEMO_MOODS.includes(m))
      );
    });
    expect(wrong.slice(0, 3)).toEqual([]);
  });

  it('every row passes the catalog file validation unchanged', () => {
    for (let i = 0; i < rows.length; i += 97) expect(parseCatalogRow(rows[i], i + 1)).toEqual(rows[i]);
  });

  it('keeps album sizes within 1..30 and durations within 30 s..20 min', () => {
    const albums = countBy(rows, (r) => `${r.artist}\u0000${r.album}`);
    expect(Math.min(...albums.values())).toBeGreaterThanOrEqual(1);
    expect(Math.max(...albums.values())).toBeLessThanOrEqual(30);
    expect(albums.size).toBeGreaterThan(rows.length / 16);
    const durations = rows.map((r) => r.durationMs);
    expect(Math.min(...durations)).toBeGreaterThanOrEqual(30_000);
    expect(Math.max(...durations)).toBeLessThanOrEqual(1_200_000);
  });

  it('makes classical and ambient longer than pop on average', () => {
    const mean = (tag: string) => {
      const list = rows.filter((r) => r.tags.includes(tag));
      return list.reduce((s, r) => s + r.durationMs, 0) / list.length;
    };
    expect(mean('classical')).toBeGreaterThan(mean('pop') * 1.4);
    expect(mean('ambient')).toBeGreaterThan(mean('pop') * 1.8);
  });

  it('has a long tail: the top 1% of tracks hold more than 10% of the popularity', () => {
    const pops = rows.map((r) => r.popularity).sort((a, b) => b - a);
    const total = pops.reduce((a, b) => a + b, 0);
    const top = pops.slice(0, Math.ceil(pops.length / 100)).reduce((a, b) => a + b, 0);
    expect(top / total).toBeGreaterThan(0.1);
    expect(pops.at(-1)).toBeGreaterThan(0);
  });

  it('places one artist close, one genre closer than across families, calm away from energetic', () => {
    const byArtist = new Map<string, CatalogRow[]>();
    for (const r of rows) byArtist.set(r.artist, [...(byArtist.get(r.artist) ?? []), r]);
    let same = 0;
    let sameN = 0;
    let random = 0;
    for (const [i, list] of [...byArtist.values()].entries()) {
      if (list.length >= 2) {
        same += cos(list[0].embedding!, list[1].embedding!);
        sameN++;
      }
      random += cos(list[0].embedding!, rows[(i * 7919 + 13) % rows.length].embedding!);
    }
    expect(same / sameN).toBeGreaterThan(random / byArtist.size + 0.4);

    const mean = (a: CatalogRow[], b: CatalogRow[]) => {
      let s = 0;
      const n = Math.min(a.length, b.length, 300);
      for (let i = 0; i < n; i++) s += cos(a[i].embedding!, b[b.length - 1 - i].embedding!);
      return s / n;
    };
    const tagged = (t: string) => rows.filter((r) => r.tags.includes(t));
    expect(mean(tagged('house'), tagged('house'))).toBeGreaterThan(
      mean(tagged('house'), tagged('bebop')) + 0.3,
    );
    expect(mean(tagged('calm'), tagged('calm'))).toBeGreaterThan(
      mean(tagged('calm'), tagged('energetic')) + 0.15,
    );
  });

  it('survives the catalog file round trip with the same items and embeddings', async () => {
    const demo = generateDemoCatalog({ seed: 5, tracks: 800 });
    const dir = await mkdtemp(join(tmpdir(), 'omakase-demo-catalog-'));
    try {
      const path = join(dir, 'catalog.jsonl');
      await writeCatalogFile(path, demo);
      const catalog = await readCatalogFile(path);
      expect(catalog.items).toEqual(demo.map(({ embedding, ...item }) => item));
      const worst = demo.reduce((m, r, i) => {
        const e = catalog.embedding(i);
        return Math.max(m, ...r.embedding!.map((x, d) => Math.abs(x - e[d])));
      }, 0);
      expect(worst).toBeLessThan(1e-3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
