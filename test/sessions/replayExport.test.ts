import { afterEach, describe, expect, it } from 'vitest';
import { rewardOf, toDsJsonLines, toOpenBanditRows } from '../../sessions/replayExport.ts';
import { openManagers } from './managerFixtures.ts';
import { catalog, livedSession } from './replayFixtures.ts';

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

describe('toOpenBanditRows', () => {
  it('one row per delivered pick, with its position, propensity, pool and reward, from the log alone', async () => {
    const { events, ids, delivered } = await livedSession();
    const rows = await toOpenBanditRows(events, { sessionId: 's1', catalog });
    expect(rows.map((r) => `${r.pos}:${r.itemId}`)).toEqual(delivered.map((d) => `${d.pos}:${d.id}`));
    expect(rows.map((r) => r.pscore)).toEqual(delivered.map((d) => d.propensity));
    rows.forEach((row, i) => {
      const d = delivered[i]!;
      expect(row.pscore).toBeGreaterThan(0);
      expect(row.pscore).toBeLessThanOrEqual(1);
      expect(row.action).toBe(catalog.indexOf(row.itemId));
      expect(row.delivered).toBe(true);
      // The pool it was picked from, with the model score the pool logged for it.
      expect(row.decision).toBe(d.reasons.decision);
      expect(row.score).toBeCloseTo(d.reasons.score, 6);
      expect(row.model).toBe(d.reasons.model);
    });
    const reward = (id: string) => rows.filter((r) => r.itemId === id).at(-1)!.reward;
    expect(reward(ids.completed!)).toBe(1);
    expect(reward(ids.liked!)).toBe(1);
    expect(reward(ids.earlySkipped!)).toBe(0);
    expect(reward(ids.disliked!)).toBe(0);
    expect(reward(ids.completedLater!)).toBe(1);
    expect(reward(ids.dislikedAfterResume!)).toBe(0);
    // A reward for each seq that got an outcome (not just "started"); none for the rest.
    const rewarded = new Set(
      events
        .filter((e) => e.type === 'user.feedback' && e.ok !== false)
        .map((e) => e.feedback as { type: string; seq: number })
        .filter((f) => f.type !== 'started')
        .map((f) => f.seq),
    );
    expect(rows.filter((r) => r.reward !== null)).toHaveLength(rewarded.size);
    expect(rows[0]).toMatchObject({ sessionId: 's1', decision: 0, position: 0, context: { seed: 77 } });
  });

  it('rewards: a dislike wins, then a like; an early skip is 0, a late one 1; nothing is null', () => {
    expect(
      rewardOf(
        [
          { type: 'liked', seq: 1 },
          { type: 'disliked', seq: 1 },
        ],
        30_000,
      ),
    ).toBe(0);
    expect(
      rewardOf(
        [
          { type: 'skipped', seq: 1, atMs: 1_000 },
          { type: 'liked', seq: 1 },
        ],
        30_000,
      ),
    ).toBe(1);
    expect(rewardOf([{ type: 'skipped', seq: 1, atMs: 29_999 }], 30_000)).toBe(0);
    expect(rewardOf([{ type: 'skipped', seq: 1, atMs: 30_000 }], 30_000)).toBe(1);
    expect(rewardOf([{ type: 'started', seq: 1 }], 30_000)).toBeNull();
  });
});

describe('toDsJsonLines', () => {
  it('one DSJson line per row: cost −reward with the logged probability, _skipLearn without a reward', async () => {
    const { events } = await livedSession();
    const rows = await toOpenBanditRows(events);
    const lines = (await toDsJsonLines(events, { sessionId: 's1' })).map((l) => JSON.parse(l));
    expect(lines).toHaveLength(rows.length);
    lines.forEach((line, i) => {
      const row = rows[i]!;
      expect(line).toMatchObject({ EventId: `s1-${row.pos}`, a: [1], p: [row.pscore], Version: '1' });
      expect(line.c._multi[0].item.id).toBe(row.itemId);
      if (row.reward === null) expect(line._skipLearn).toBe(true);
      else
        expect(line).toMatchObject({
          _label_cost: 0 - row.reward,
          _label_probability: row.pscore,
          _labelIndex: 0,
        });
    });
  });
});
