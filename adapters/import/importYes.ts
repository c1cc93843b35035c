import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CatalogRow } from '../../engine/item.ts';
import type { LoggedSession } from '../../engine/sessionsFile.ts';
import type { OnProgress } from '../cli/progressReporter.ts';
import { importError, invalidLine } from './errors.ts';
import { DEFAULT_DURATION_MS, type ImportOptions, type ImportResult } from './importResult.ts';
import { readLines } from './readLines.ts';

/** Playlist files in the order they are read; `train.txt` and `test.txt` start with two header lines. */
const PLAYLIST_FILES = [
  { name: 'train.txt', header: true },
  { name: 'test.txt', header: true },
  { name: 'playlists.txt', header: false },
] as const;

const REPORT_EVERY = 5000;

/**
 * Imports a Yes.com radio playlist folder (Chen et al.; `yes_big`, `yes_complete` or the
 * `yes_complete_sample` layout): songs with titles, artists and tag names, and each playlist as a session of
 * plain plays (`completed`). See docs/datasets.md for the field mapping.
 */
export async function importYes(inDir: string, options: ImportOptions = {}): Promise<ImportResult> {
  const progress = options.onProgress ?? (() => {});
  const durationMs = options.defaultDurationMs ?? DEFAULT_DURATION_MS;
  const present = PLAYLIST_FILES.filter((f) => existsSync(join(inDir, f.name)));
  if (present.length === 0) {
    const nested = ['yes_big', 'yes_complete', 'yes_complete_sample'].filter((d) =>
      existsSync(join(inDir, d)),
    );
    throw importError(
      'IMPORT_MISSING_FILE',
      `${inDir} has no train.txt, test.txt or playlists.txt; ` +
        (nested.length > 0
          ? `point --in at one of its folders (${nested.join(', ')}).`
          : 'point --in at a yes_big or yes_complete folder.'),
      { details: { path: inDir } },
    );
  }

  const songs = await readSongs(join(inDir, 'song_hash.txt'), progress);
  const tagNames = await readTagNames(join(inDir, 'tag_hash.txt'));
  const songTags = await readSongTags(join(inDir, 'tags.txt'), songs.length, tagNames, progress);

  const sessions: LoggedSession[] = [];
  const plays = new Int32Array(songs.length);
  let emptyPlaylists = 0;
  let totalPlays = 0;
  for (const file of present) {
    const path = join(inDir, file.name);
    const lines = await readLines(path);
    const stem = file.name.replace(/\.txt$/, '');
    let first = 0;
    if (file.header) {
      checkHeader(path, lines, songs.length);
      first = 2;
    }
    for (let k = first; k < lines.length; k++) {
      const ids = parseInts(lines[k], path, k + 1, songs.length, 'song id');
      if (ids.length === 0) {
        emptyPlaylists++;
        continue;
      }
      const items = ids.map((song) => {
        plays[song]++;
        return { id: String(song), outcome: 'completed' as const };
      });
      totalPlays += items.length;
      sessions.push({ id: `${stem}-${k - first}`, items });
      if ((k + 1) % REPORT_EVERY === 0) progress(`reading ${file.name}`, k + 1, lines.length);
    }
    progress(`reading ${file.name}`, lines.length, lines.length);
  }

  const rows: CatalogRow[] = [];
  let unknownDropped = 0;
  let unknownKept = 0;
  for (let i = 0; i < songs.length; i++) {
    const { title, artist } = songs[i];
    if (title === undefined || artist === undefined) {
      // The dataset marks unknown title or artist with `-`. Such a song is only worth keeping if played.
      if (plays[i] === 0) {
        unknownDropped++;
        continue;
      }
      unknownKept++;
    }
    rows.push({
      id: String(i),
      title: title ?? 'Unknown title',
      // One made-up artist per song, so that unrelated unknown songs never count as one artist in the radio rules.
      artist: artist ?? `Unknown artist (yes ${i})`,
      tags: songTags[i],
      durationMs,
      popularity: plays[i],
    });
  }
  const unplayed = rows.filter((r) => r.popularity === 0).length;
  return {
    rows,
    sessions,
    stats: {
      items: rows.length,
      sessions: sessions.length,
      plays: totalPlays,
      unplayedItems: unplayed,
      notes: { songsInFile: songs.length, unknownDropped, unknownKept, emptyPlaylists },
    },
  };
}

interface Song {
  /** Undefined when the dataset gives `-` (unknown). */
  title: string | undefined;
  artist: string | undefined;
}

async function readSongs(path: string, progress: OnProgress): Promise<Song[]> {
  const lines = await readLines(path);
  const songs: Song[] = [];
  for (let k = 0; k < lines.length; k++) {
    const fields = lines[k].split('\t');
    if (fields.length !== 3) {
      throw invalidLine(
        path,
        k + 1,
        `expected "id<TAB>title<TAB>artist", found ${fields.length} tab-separated fields`,
      );
    }
    // yes_complete writes the id with a trailing space.
    if (fields[0].trim() !== String(k)) {
      throw invalidLine(
        path,
        k + 1,
        `expected song id ${k} (line n holds song n - 1), found "${fields[0].trim()}"`,
      );
    }
    songs.push({ title: known(unescapeField(fields[1])), artist: known(unescapeField(fields[2])) });
    if ((k + 1) % REPORT_EVERY === 0) progress('reading song_hash.txt', k + 1, lines.length);
  }
  progress('reading song_hash.txt', lines.length, lines.length);
  return songs;
}

async function readTagNames(path: string): Promise<Map<number, string>> {
  const lines = await readLines(path);
  const names = new Map<number, string>();
  for (let k = 0; k < lines.length; k++) {
    const match = /^\s*(\d+)\s*,\s*(.*?)\s*$/.exec(lines[k]);
    if (!match || match[2] === '') throw invalidLine(path, k + 1, 'expected "id, name"');
    names.set(Number(match[1]), match[2].toLowerCase());
  }
  return names;
}

async function readSongTags(
  path: string,
  songCount: number,
  tagNames: Map<number, string>,
  progress: OnProgress,
): Promise<string[][]> {
  const lines = await readLines(path);
  if (lines.length !== songCount) {
    throw importError(
      'IMPORT_INCONSISTENT_FILES',
      `${path} has ${lines.length} lines but song_hash.txt has ${songCount} songs; use the tags.txt that sits beside that song_hash.txt.`,
      { details: { path, lines: lines.length, songs: songCount } },
    );
  }
  const tags: string[][] = [];
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k].trim();
    if (line === '#') {
      tags.push([]);
      continue;
    }
    const names = new Set<string>();
    for (const id of parseInts(line, path, k + 1, Number.MAX_SAFE_INTEGER, 'tag id')) {
      const name = tagNames.get(id);
      if (name === undefined) throw invalidLine(path, k + 1, `tag id ${id} is not in tag_hash.txt`);
      names.add(name);
    }
    if (names.size === 0)
      throw invalidLine(path, k + 1, 'expected tag ids or "#" (no tags), found an empty line');
    tags.push([...names]);
    if ((k + 1) % REPORT_EVERY === 0) progress('reading tags.txt', k + 1, lines.length);
  }
  progress('reading tags.txt', lines.length, lines.length);
  return tags;
}

/** Line 1 lists one original Yes.com id per song, line 2 one appearance count per song. */
function checkHeader(path: string, lines: string[], songCount: number): void {
  for (const k of [0, 1]) {
    if (k >= lines.length)
      throw invalidLine(path, k + 1, 'missing header line (song ids, then appearance counts)');
    const count = parseInts(lines[k], path, k + 1, Number.MAX_SAFE_INTEGER, 'header number').length;
    if (count !== songCount) {
      throw invalidLine(path, k + 1, `header has ${count} numbers but song_hash.txt has ${songCount} songs`);
    }
  }
}

/** Space-separated non-negative integers below `limit`; the trailing space the dataset writes is fine. */
function parseInts(line: string, path: string, lineNo: number, limit: number, what: string): number[] {
  const out: number[] = [];
  for (const token of line.split(' ')) {
    if (token === '') continue;
    if (!/^\d+$/.test(token))
      throw invalidLine(path, lineNo, `"${token}" is not a ${what} (a non-negative integer)`);
    const n = Number(token);
    if (n >= limit) throw invalidLine(path, lineNo, `${what} ${n} is out of range 0..${limit - 1}`);
    out.push(n);
  }
  return out;
}

/** Undoes the JSON-style escapes of song_hash.txt (`\/`, `\\`, `\t`); other backslashes stay as they are. */
function unescapeField(s: string): string {
  return s.replace(/\\([/\\tn"])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c)).trim();
}

function known(s: string): string | undefined {
  return s === '-' || s === '' ? undefined : s;
}
