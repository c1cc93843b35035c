import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { importCommand } from '../../../adapters/cli/commands/importCommand.ts';
import { importDataset } from '../../../adapters/import/importDataset.ts';
import { readCatalogRows } from '../../../engine/catalogFile.ts';
import { readSessionsFile } from '../../../engine/sessionsFile.ts';
import { isOmakaseError, type OmakaseError } from '../../../models/omakaseError.ts';

const SONGS = '0 \tSo What\tMiles Davis\n1 \tParanoid\tBlack Sabbath\n2 \tIron Man\tBlack Sabbath\n';
const YES = {
  'song_hash.txt': SONGS,
  'tags.txt': '0\n1\n1 2\n',
  'tag_hash.txt': '0, jazz\n1, metal\n2, classic rock',
  'playlists.txt': '1 2 1\n0 0\n',
};

let root: string;
let inDir: string;
let outDir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'omakase-import-'));
  inDir = join(root, 'in');
  outDir = join(root, 'out');
  await mkdir(inDir);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(root, { recursive: true, force: true });
});

async function writeDataset(files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(inDir, name), text);
}

describe('importDataset', () => {
  it('writes a catalog and sessions that the engine readers load back', async () => {
    await writeDataset(YES);
    const stats = await importDataset('yes', inDir, outDir);
    expect(stats).toMatchObject({ items: 3, sessions: 2, plays: 5 });
    expect((await readdir(outDir)).sort()).toEqual(['catalog.jsonl', 'sessions.jsonl']);
    const rows = await readCatalogRows(join(outDir, 'catalog.jsonl'));
    expect(rows.map((r) => [r.id, r.title, r.artist, r.tags, r.popularity])).toEqual([
      ['0', 'So What', 'Miles Davis', ['jazz'], 2],
      ['1', 'Paranoid', 'Black Sabbath', ['metal'], 2],
      ['2', 'Iron Man', 'Black Sabbath', ['metal', 'classic rock'], 1],
    ]);
    const sessions = await readSessionsFile(join(outDir, 'sessions.jsonl'));
    expect(sessions.map((s) => [s.id, s.items.map((p) => `${p.id}:${p.outcome}`)])).toEqual([
      ['playlists-0', ['1:completed', '2:completed', '1:completed']],
      ['playlists-1', ['0:completed', '0:completed']],
    ]);
  });

  it('writes nothing when a line is bad, and leaves an earlier import in place', async () => {
    await writeDataset({ ...YES, 'playlists.txt': '1 2 1\n0 7\n' });
    const err = (await importDataset('yes', inDir, outDir).catch((e: unknown) => e)) as OmakaseError;
    expect(isOmakaseError(err, 'IMPORT_INVALID_LINE')).toBe(true);
    expect(err.details).toEqual({ file: join(inDir, 'playlists.txt'), line: 2 });
    expect(existsSync(outDir)).toBe(false);

    await mkdir(outDir);
    await writeFile(join(outDir, 'catalog.jsonl'), 'old catalog\n');
    await writeFile(join(outDir, 'sessions.jsonl'), 'old sessions\n');
    await expect(importDataset('yes', inDir, outDir)).rejects.toThrow(/playlists\.txt:2/);
    expect(await readFile(join(outDir, 'catalog.jsonl'), 'utf8')).toBe('old catalog\n');
    expect(await readFile(join(outDir, 'sessions.jsonl'), 'utf8')).toBe('old sessions\n');
    expect((await readdir(outDir)).sort()).toEqual(['catalog.jsonl', 'sessions.jsonl']);
  });

  it('rejects an unknown format', async () => {
    const err = (await importDataset('m3u', inDir, outDir).catch((e: unknown) => e)) as OmakaseError;
    expect(err.code).toBe('IMPORT_UNKNOWN_FORMAT');
  });
});

describe('omakase import', () => {
  it('imports 30Music slices and prints a one-line summary', async () => {
    await writeFile(
      join(inDir, 'slice.txt'),
      'UserId\tSessionId\tItemId\tTime\tArtistId\n1\t5\t100\t10\t9\n1\t5\t101\t20\t9\n2\t6\t100\t30\t9\n',
    );
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    await importCommand().parseAsync(['--format', '30music', '--in', inDir, '--out', outDir, '--quiet'], {
      from: 'user',
    });
    expect(out.join('')).toMatch(/^imported 30music: 2 items, 2 sessions, 3 plays -> .*catalog\.jsonl/);
    expect(out.join('').split('\n').filter(Boolean)).toHaveLength(1);
    expect((await readCatalogRows(join(outDir, 'catalog.jsonl'))).map((r) => r.durationMs)).toEqual([
      210_000, 210_000,
    ]);
  });
});
