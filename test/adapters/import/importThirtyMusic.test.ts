import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importThirtyMusic } from '../../../adapters/import/importThirtyMusic.ts';
import { isOmakaseError, type OmakaseError } from '../../../models/omakaseError.ts';

const HEADER = 'UserId\tSessionId\tItemId\tTime\tArtistId';
const tsv = (rows: (string | number)[][]) => `${[HEADER, ...rows.map((r) => r.join('\t'))].join('\n')}\n`;

/** Two session-rec slices in the 30Music layout; session 11 has its last two rows out of time order. */
const SLICE_0 = tsv([
  [7, 10, 500, 1000, 90],
  [7, 10, 501, 1200, 91],
  [7, 10, 500, 1500, 90],
  [8, 11, 502, 2000, 90],
  [8, 11, 503, 2400, 92],
  [8, 11, 501, 2300, 91],
]);
const SLICE_1 = tsv([
  [7, 20, 501, 9000, 91],
  [7, 20, 504, 9300, 93],
]);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omakase-30m-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(files: Record<string, string>): Promise<OmakaseError> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  try {
    await importThirtyMusic(dir);
  } catch (err) {
    if (isOmakaseError(err)) return err;
    throw err;
  }
  throw new Error('expected the import to fail');
}

describe('importThirtyMusic', () => {
  it('reads every slice of a folder into sessions ordered by time, plays completed', async () => {
    await writeFile(join(dir, '30music-200ks_test.0.txt'), SLICE_0);
    await writeFile(join(dir, '30music-200ks_test.1.txt'), SLICE_1);
    await writeFile(join(dir, 'README.md'), 'not a slice');
    const { sessions, stats } = await importThirtyMusic(dir);
    expect(sessions.map((s) => [s.id, s.items.map((p) => p.id)])).toEqual([
      ['10', ['500', '501', '500']],
      ['11', ['502', '501', '503']],
      ['20', ['501', '504']],
    ]);
    expect(sessions.every((s) => s.items.every((p) => p.outcome === 'completed'))).toBe(true);
    // The first play's time (seconds → ms), after the reordering: the split by time reads it.
    expect(sessions.map((s) => s.startMs)).toEqual([1_000_000, 2_000_000, 9_000_000]);
    expect(stats).toEqual({
      items: 5,
      sessions: 3,
      plays: 8,
      unplayedItems: 0,
      notes: { files: 2, artists: 4, reordered: 1 },
    });
  });

  it('makes catalog rows from ids, with the default duration and play counts as popularity', async () => {
    await writeFile(join(dir, 'slice.txt'), SLICE_0);
    const { rows } = await importThirtyMusic(join(dir, 'slice.txt'), { defaultDurationMs: 180_000 });
    expect(rows).toEqual([
      { id: '500', title: 'Track 500', artist: 'Artist 90', tags: [], durationMs: 180_000, popularity: 2 },
      { id: '501', title: 'Track 501', artist: 'Artist 91', tags: [], durationMs: 180_000, popularity: 2 },
      { id: '502', title: 'Track 502', artist: 'Artist 90', tags: [], durationMs: 180_000, popularity: 1 },
      { id: '503', title: 'Track 503', artist: 'Artist 92', tags: [], durationMs: 180_000, popularity: 1 },
    ]);
  });

  it('finds columns by header name, whatever their order', async () => {
    const text = 'ItemId\tArtistId\tSessionId\tTime\tUserId\n5\t6\ts1\t10\tu\n7\t6\ts1\t20\tu\n';
    await writeFile(join(dir, 'x.tsv'), text);
    const { sessions, rows } = await importThirtyMusic(dir);
    expect(sessions).toEqual([
      {
        id: 's1',
        startMs: 10_000,
        items: [
          { id: '5', outcome: 'completed' },
          { id: '7', outcome: 'completed' },
        ],
      },
    ]);
    expect(rows.map((r) => r.artist)).toEqual(['Artist 6', 'Artist 6']);
  });
});

describe('importThirtyMusic on bad input', () => {
  it('names file and line of a row with a missing field', async () => {
    const err = await failure({ 'a.txt': SLICE_0.replace('8\t11\t503\t2400\t92', '8\t11\t503\t2400') });
    expect(err.code).toBe('IMPORT_INVALID_LINE');
    expect(err.details).toEqual({ file: join(dir, 'a.txt'), line: 6 });
    expect(err.message).toContain('a.txt:6');
  });

  it('rejects a time that is not UNIX seconds', async () => {
    const err = await failure({ 'a.txt': SLICE_0.replace('1200', '12:00') });
    expect(err.details).toMatchObject({ line: 3 });
  });

  it('rejects an item that changes artist, naming both lines', async () => {
    const err = await failure({ 'a.txt': SLICE_0.replace('8\t11\t501\t2300\t91', '8\t11\t501\t2300\t99') });
    expect(err.details).toMatchObject({ line: 7 });
    expect(err.message).toContain('a.txt:3');
  });

  it('rejects a session that continues in another file', async () => {
    const err = await failure({ 'a.txt': SLICE_0, 'b.txt': SLICE_1.replace(/\t20\t/g, '\t11\t') });
    expect(err.details).toEqual({ file: join(dir, 'b.txt'), line: 2 });
  });

  it('rejects a file without the session-rec header', async () => {
    const err = await failure({ 'a.txt': SLICE_0.replace('ArtistId', 'Artist') });
    expect(err.details).toMatchObject({ line: 1 });
    expect(err.message).toContain('ArtistId');
  });

  it('says when the path does not exist', async () => {
    const err = (await importThirtyMusic(join(dir, 'nope')).catch((e: unknown) => e)) as OmakaseError;
    expect(err.code).toBe('IMPORT_MISSING_FILE');
  });
});
