import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../engine/catalog.ts';
import { generateDemoCatalog } from '../../../engine/demo/demoCatalog.ts';
import { generateDemoSessions } from '../../../engine/demo/demoSessions.ts';
import { readSessionsFile, writeSessionsFile } from '../../../engine/sessionsFile.ts';

const catalog = new Catalog(generateDemoCatalog({ seed: 2, tracks: 5000 }));
const sessions = generateDemoSessions(catalog, { seed: 1, sessions: 300 });

describe('generateDemoSessions', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateDemoSessions(catalog, { seed: 1, sessions: 300 })).toEqual(sessions);
    const other = generateDemoSessions(catalog, { seed: 2, sessions: 300 });
    expect(other.map((s) => s.items[0].id)).not.toEqual(sessions.map((s) => s.items[0].id));
  });

  it('makes the asked number of sessions within the length bounds, without repeats', () => {
    expect(sessions).toHaveLength(300);
    expect(new Set(sessions.map((s) => s.id)).size).toBe(300);
    for (const s of sessions) {
      expect(s.items.length).toBeGreaterThanOrEqual(20);
      expect(s.items.length).toBeLessThanOrEqual(80);
      expect(new Set(s.items.map((p) => p.id)).size).toBe(s.items.length);
    }
    const short = generateDemoSessions(catalog, { seed: 1, sessions: 20, minLength: 3, maxLength: 5 });
    for (const s of short) expect(s.items.length).toBeLessThanOrEqual(5);
  });

  it('records a known item, an outcome and playedMs within the duration for every play', () => {
    const bad = sessions.flatMap((s) =>
      s.items.filter((p) => {
        const item = catalog.get(p.id);
        return (
          item === undefined ||
          p.outcome === undefined ||
          p.playedMs === undefined ||
          p.playedMs > item.durationMs ||
          (p.outcome === 'completed' && p.playedMs !== item.durationMs)
        );
      }),
    );
    expect(bad).toEqual([]);
  });

  it('holds good and bad proposals: a real mix of completions and skips, early and late', () => {
    const plays = sessions.flatMap((s) => s.items);
    const share = (f: (p: (typeof plays)[number]) => boolean) => plays.filter(f).length / plays.length;
    const finished = share((p) => p.outcome === 'completed' || p.outcome === 'liked');
    expect(finished).toBeGreaterThan(0.2);
    expect(finished).toBeLessThan(0.8);
    expect(share((p) => p.outcome === 'skipped' && p.playedMs! < 30_000)).toBeGreaterThan(0.1);
    expect(share((p) => p.outcome === 'skipped' && p.playedMs! >= 30_000)).toBeGreaterThan(0.02);
    expect(share((p) => p.outcome === 'liked')).toBeGreaterThan(0);
    expect(share((p) => p.outcome === 'disliked')).toBeGreaterThan(0);
  });

  it('survives the sessions file round trip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'omakase-demo-sessions-'));
    try {
      const path = join(dir, 'sessions.jsonl');
      await writeSessionsFile(path, sessions);
      expect(await readSessionsFile(path)).toEqual(sessions);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
