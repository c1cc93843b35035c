import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importThirtyMusic } from '../../../adapters/import/importThirtyMusic.ts';
import { importYes } from '../../../adapters/import/importYes.ts';
import { missing } from '../../requirements.ts';

// The shared datasets sit beside the project (`../shared/data`), for developers and CI alike.
const DATA = resolve(import.meta.dirname, '../../../../shared/data');
const YES = `${DATA}/yes-radio-playlists`;
const THIRTY = `${DATA}/30music-sessions-sample`;

/** Counts from the datasets' own READMEs (yes-radio-playlists/README.md, 30music-sessions-sample/README.md). */
describe.skipIf(missing(existsSync(YES)))(
  'importYes on the real Yes.com data (skipped without ../shared/data)',
  () => {
    it('yes_big matches the README: 18,139 playlists, 190,649 plays, 9,765 of 9,775 songs played', async () => {
      const { rows, sessions, stats } = await importYes(`${YES}/yes_big`);
      expect(stats.sessions).toBe(18_139);
      expect(stats.plays).toBe(190_649);
      expect(sessions.filter((s) => s.items.length === 1)).toHaveLength(5_131);
      expect(rows.filter((r) => r.popularity > 0)).toHaveLength(9_765);
      expect(rows.length).toBe(9_775);
      // 2,415 songs have no tags.
      expect(rows.filter((r) => r.tags.length === 0)).toHaveLength(2_415);
    });

    it('yes_complete_sample matches the README: 1,000 playlists, 176,510 plays, 25,179 songs played', async () => {
      const { rows, stats } = await importYes(`${YES}/yes_complete_sample`);
      expect(stats.sessions).toBe(1_000);
      expect(stats.plays).toBe(176_510);
      expect(rows.filter((r) => r.popularity > 0)).toHaveLength(25_179);
      // The 75,262 songs less the never-played ones whose title or artist is unknown.
      expect(rows.length).toBe(75_262 - stats.notes.unknownDropped);
      expect(stats.notes.unknownDropped).toBeGreaterThanOrEqual(1_813);
    });
  },
);

describe.skipIf(missing(existsSync(THIRTY)))(
  'importThirtyMusic on the real slices (skipped without ../shared/data)',
  () => {
    it('matches the README: 121,547 plays, 9,519 sessions, 57,684 tracks, 10,355 artists', async () => {
      const { rows, sessions, stats } = await importThirtyMusic(THIRTY);
      expect(stats.plays).toBe(121_547);
      expect(stats.sessions).toBe(9_519);
      expect(rows.length).toBe(57_684);
      expect(new Set(rows.map((r) => r.artist)).size).toBe(10_355);
      const lengths = sessions.map((s) => s.items.length);
      expect(Math.min(...lengths)).toBe(2);
      expect(Math.max(...lengths)).toBe(455);
    });
  },
);
