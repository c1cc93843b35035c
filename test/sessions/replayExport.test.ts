import { afterEach, describe, expect, it } from 'vitest';
import type { Pick } from '../../engine/pick.ts';
import { rewardOf, toDsJsonLines, toOpenBanditRows } from '../../sessions/replayExport.ts';
import { openManagers } from './managerFixtures.ts';
import { catalog, livedSession } from './replayFixtures.ts';

afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});

describe('toOpenBanditRows', () => {
  it('one row per logged pick, propensities in (0, 1], rewards from the feedback', async () => {
    const { events, ids } = await livedSession();
    const picks = events.filter((e) => e.type === 'engine.decision').flatMap((e) => e.picks as Pick[]);
    const rows = await toOpenBanditRows(events, { sessionId: 's1', catalog });
    expect(rows.map((r) => `${r.pos}:${r.itemId}`)).toEqual(picks.map((p) => `${p.pos}:${p.id}`));
    for (const row of rows) {
      expect(row.pscore).toBeGreaterThan(0);
      expect(row.pscore).toBeLessThanOrEqual(1);
      expect(row.action).toBe(catalog.indexOf(row.itemId));
    }
    // An item withdrawn before delivery may be picked again later: the delivered pick is the one with feedback.
    const reward = (id: string) => rows.filter((r) => r.itemId === id && r.delivered).at(-1)!.reward;
    expect(reward(ids.completed!)).toBe(1);
    expect(reward(ids.liked!)).toBe(1);
    expect(reward(ids.earlySkipped!)).toBe(0);
    expect(reward(ids.disliked!)).toBe(0);
    expect(reward(ids.completedLater!)).toBe(1);
    expect(reward(ids.dislikedAfterResume!)).toBe(0);
    // Withdrawn before delivery: no outcome. Delivered without feedback: no outcome either.
    expect(rows.some((r) => !r.delivered)).toBe(true);
    expect(rows.filter((r) => !r.delivered).every((r) => r.reward === null)).toBe(true);
    expect(rows.filter((r) => r.reward !== null)).toHaveLength(6);
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
