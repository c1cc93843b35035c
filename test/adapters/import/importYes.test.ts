import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importYes } from '../../../adapters/import/importYes.ts';
import { isOmakaseError, type OmakaseError } from '../../../models/omakaseError.ts';

/** yes_big layout: train.txt with two header lines and a trailing space on every line. */
const YES_BIG = {
  'song_hash.txt': [
    '0\tGucci Time (w\\/ Swizz Beatz)\tGucci Mane',
    '1\tBlue in Green\tMiles Davis',
    '2\t-\t-',
    '3\t-\tNobody',
    '4\tWritten In Blood\tSpeed\\\\Kill\\/Hate',
  ].join('\n'),
  'tags.txt': ['0 1', '2', '#', '#', '0 0'].join('\n'),
  // No final newline, as in the dataset.
  'tag_hash.txt': '0, rock\n1, Hip Hop\n2, jazz',
  'train.txt': `${['101 102 103 104 105 ', '2 2 1 0 1 ', '0 1 0 ', '4 1 2 ', '', '1 '].join('\n')}\n`,
};

/** yes_complete_sample layout: playlists.txt without header, ids in song_hash with a trailing space. */
const YES_COMPLETE = {
  'song_hash.txt': `${['0 \tA\tX', '1 \tB\tY', '2 \tC\tX'].join('\n')}\n`,
  'tags.txt': `${['1', '0 1', '#'].join('\n')}\n`,
  'tag_hash.txt': '0, alternative\n1, rock',
  'playlists.txt': `${['2 0 2 1', '1 1'].join('\n')}\n`,
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omakase-yes-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeDataset(files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

async function importError(files: Record<string, string>): Promise<OmakaseError> {
  await writeDataset(files);
  try {
    await importYes(dir);
  } catch (err) {
    if (isOmakaseError(err)) return err;
    throw err;
  }
  throw new Error('expected the import to fail');
}

describe('importYes on the yes_big layout', () => {
  it('maps songs to catalog rows with unescaped titles, artists, tag names and play counts', async () => {
    await writeDataset(YES_BIG);
    const { rows, stats } = await importYes(dir);
    expect(rows.map((r) => r.id)).toEqual(['0', '1', '2', '4']);
    expect(rows[0]).toEqual({
      id: '0',
      title: 'Gucci Time (w/ Swizz Beatz)',
      artist: 'Gucci Mane',
      tags: ['rock', 'hip hop'],
      durationMs: 210_000,
      popularity: 2,
    });
    expect(rows[3]).toMatchObject({ title: 'Written In Blood', artist: 'Speed\\Kill/Hate', tags: ['rock'] });
    // Song 2 is unknown but played: kept, with an artist of its own. Song 3 is unknown and unplayed: dropped.
    expect(rows[2]).toMatchObject({ title: 'Unknown title', artist: 'Unknown artist (yes 2)', tags: [] });
    expect(rows.map((r) => r.popularity)).toEqual([2, 3, 1, 1]);
    expect(stats).toEqual({
      items: 4,
      sessions: 3,
      plays: 7,
      unplayedItems: 0,
      notes: { songsInFile: 5, unknownDropped: 1, unknownKept: 1, emptyPlaylists: 1 },
    });
  });

  it('keeps each playlist in order as a session of completed plays', async () => {
    await writeDataset(YES_BIG);
    const { sessions } = await importYes(dir, { defaultDurationMs: 1000 });
    expect(sessions).toEqual([
      {
        id: 'train-0',
        items: [
          { id: '0', outcome: 'completed' },
          { id: '1', outcome: 'completed' },
          { id: '0', outcome: 'completed' },
        ],
      },
      {
        id: 'train-1',
        items: [
          { id: '4', outcome: 'completed' },
          { id: '1', outcome: 'completed' },
          { id: '2', outcome: 'completed' },
        ],
      },
      { id: 'train-3', items: [{ id: '1', outcome: 'completed' }] },
    ]);
  });

  it('applies the default duration option', async () => {
    await writeDataset(YES_BIG);
    const { rows } = await importYes(dir, { defaultDurationMs: 1000 });
    expect(rows.every((r) => r.durationMs === 1000)).toBe(true);
  });

  it('reports progress for each file it reads', async () => {
    await writeDataset(YES_BIG);
    const steps = new Set<string>();
    await importYes(dir, { onProgress: (step) => steps.add(step) });
    expect([...steps]).toEqual(['reading song_hash.txt', 'reading tags.txt', 'reading train.txt']);
  });
});

describe('importYes on the yes_complete_sample layout', () => {
  it('reads playlists.txt without header and keeps unplayed songs with popularity 0', async () => {
    await writeDataset({
      ...YES_COMPLETE,
      'song_hash.txt': `${YES_COMPLETE['song_hash.txt']}3 \tD\tZ\n`,
      'tags.txt': `${YES_COMPLETE['tags.txt']}0\n`,
    });
    const { rows, sessions, stats } = await importYes(dir);
    expect(sessions.map((s) => [s.id, s.items.map((p) => p.id)])).toEqual([
      ['playlists-0', ['2', '0', '2', '1']],
      ['playlists-1', ['1', '1']],
    ]);
    expect(rows.map((r) => [r.id, r.title, r.artist, r.tags, r.popularity])).toEqual([
      ['0', 'A', 'X', ['rock'], 1],
      ['1', 'B', 'Y', ['alternative', 'rock'], 3],
      ['2', 'C', 'X', [], 2],
      ['3', 'D', 'Z', ['alternative'], 0],
    ]);
    expect(stats).toMatchObject({ items: 4, sessions: 2, plays: 6, unplayedItems: 1 });
  });
});

describe('importYes on bad input', () => {
  it('names the file and line of a playlist token that is not a song id', async () => {
    const err = await importError({
      ...YES_BIG,
      'train.txt': YES_BIG['train.txt'].replace('4 1 2', '4 x 2'),
    });
    expect(err.code).toBe('IMPORT_INVALID_LINE');
    expect(err.details).toEqual({ file: join(dir, 'train.txt'), line: 4 });
    expect(err.message).toContain('train.txt:4');
    expect(err.message).toContain('"x"');
  });

  it('rejects a song id outside song_hash.txt', async () => {
    const err = await importError({ ...YES_COMPLETE, 'playlists.txt': '0 1\n2 3 0\n' });
    expect(err.code).toBe('IMPORT_INVALID_LINE');
    expect(err.details).toMatchObject({ line: 2 });
    expect(err.message).toMatch(/song id 3 is out of range 0\.\.2/);
  });

  it('rejects a song_hash line without three fields, and one out of id order', async () => {
    const twoFields = await importError({
      ...YES_BIG,
      'song_hash.txt': YES_BIG['song_hash.txt'].replace('2\t-\t-', '2\t-'),
    });
    expect(twoFields.details).toEqual({ file: join(dir, 'song_hash.txt'), line: 3 });
    const wrongId = await importError({
      ...YES_BIG,
      'song_hash.txt': YES_BIG['song_hash.txt'].replace('1\tBlue', '7\tBlue'),
    });
    expect(wrongId.details).toMatchObject({ line: 2 });
  });

  it('rejects a tag id that tag_hash.txt does not name', async () => {
    const err = await importError({ ...YES_BIG, 'tags.txt': YES_BIG['tags.txt'].replace('#\n#', '#\n9') });
    expect(err.code).toBe('IMPORT_INVALID_LINE');
    expect(err.details).toEqual({ file: join(dir, 'tags.txt'), line: 4 });
  });

  it('rejects a header whose song count differs from song_hash.txt', async () => {
    const err = await importError({
      ...YES_BIG,
      'train.txt': YES_BIG['train.txt'].replace('101 102 103 104 105', '101 102'),
    });
    expect(err.details).toMatchObject({ line: 1 });
  });

  it('rejects tags.txt of another song list', async () => {
    const err = await importError({ ...YES_BIG, 'tags.txt': '#\n#\n' });
    expect(err.code).toBe('IMPORT_INCONSISTENT_FILES');
  });

  it('says which folder to pick when pointed at the dataset root', async () => {
    await writeFile(join(dir, 'README.md'), '');
    await mkdir(join(dir, 'yes_big'));
    const err = (await importYes(dir).catch((e: unknown) => e)) as OmakaseError;
    expect(err.code).toBe('IMPORT_MISSING_FILE');
    expect(err.message).toContain('yes_big');
  });
});
