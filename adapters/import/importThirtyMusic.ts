import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CatalogRow } from '../../engine/item.ts';
import type { LoggedSession } from '../../engine/sessionsFile.ts';
import { importError, invalidLine } from './errors.ts';
import { DEFAULT_DURATION_MS, type ImportOptions, type ImportResult } from './importResult.ts';
import { readLines } from './readLines.ts';

/** The columns a 30Music session-rec slice must have, found by name in its header line. */
const COLUMNS = ['UserId', 'SessionId', 'ItemId', 'Time', 'ArtistId'] as const;

const REPORT_EVERY = 5000;

interface Play {
  item: string;
  time: number;
  line: number;
}

interface OpenSession {
  id: string;
  file: string;
  plays: Play[];
}

/**
 * Imports 30Music listening sessions in the session-rec TSV layout (`UserId SessionId ItemId Time ArtistId`):
 * `inPath` is one such file or a directory whose `*.txt` / `*.tsv` files are all read, in name order. The files
 * carry ids only, so titles and artists are made from the ids and durations are the default; see
 * docs/datasets.md.
 */
export async function importThirtyMusic(inPath: string, options: ImportOptions = {}): Promise<ImportResult> {
  const progress = options.onProgress ?? (() => {});
  const durationMs = options.defaultDurationMs ?? DEFAULT_DURATION_MS;
  const files = await inputFiles(inPath);

  const sessions = new Map<string, OpenSession>();
  const artistOf = new Map<string, { artist: string; line: number; file: string }>();
  let reordered = 0;
  for (const path of files) {
    const lines = await readLines(path);
    const col = headerColumns(path, lines[0]);
    const step = `reading ${basename(path)}`;
    for (let k = 1; k < lines.length; k++) {
      const lineNo = k + 1;
      const fields = lines[k].split('\t');
      if (fields.length !== col.width) {
        throw invalidLine(path, lineNo, `expected ${col.width} tab-separated fields, found ${fields.length}`);
      }
      const sessionId = fields[col.SessionId].trim();
      const item = fields[col.ItemId].trim();
      const artist = fields[col.ArtistId].trim();
      const timeText = fields[col.Time].trim();
      for (const [name, value] of [
        ['SessionId', sessionId],
        ['ItemId', item],
        ['ArtistId', artist],
      ] as const) {
        if (value === '') throw invalidLine(path, lineNo, `${name} is empty`);
      }
      if (!/^\d+$/.test(timeText)) throw invalidLine(path, lineNo, `Time "${timeText}" is not UNIX seconds`);

      const seen = artistOf.get(item);
      if (!seen) artistOf.set(item, { artist, line: lineNo, file: path });
      else if (seen.artist !== artist) {
        throw invalidLine(
          path,
          lineNo,
          `item ${item} has artist ${artist} here but ${seen.artist} at ${seen.file}:${seen.line}`,
        );
      }

      let session = sessions.get(sessionId);
      if (!session) {
        session = { id: sessionId, file: path, plays: [] };
        sessions.set(sessionId, session);
      } else if (session.file !== path) {
        throw invalidLine(path, lineNo, `session ${sessionId} was already read from ${session.file}`);
      }
      session.plays.push({ item, time: Number(timeText), line: lineNo });
      if (k % REPORT_EVERY === 0) progress(step, k, lines.length - 1);
    }
    progress(step, lines.length - 1, lines.length - 1);
  }

  const playCount = new Map<string, number>();
  const out: LoggedSession[] = [];
  let plays = 0;
  for (const session of sessions.values()) {
    // The slices are ordered by time within a session; a stable sort keeps ties in file order.
    if (session.plays.some((p, i) => i > 0 && p.time < session.plays[i - 1].time)) {
      session.plays.sort((a, b) => a.time - b.time || a.line - b.line);
      reordered++;
    }
    for (const p of session.plays) playCount.set(p.item, (playCount.get(p.item) ?? 0) + 1);
    plays += session.plays.length;
    // A scrobble means Last.fm counted the play (half the track or 4 minutes heard), so `completed`; see
    // docs/datasets.md for why no skips are derived from the time gaps.
    out.push({
      id: session.id,
      // The first scrobble's time, so sessions can be split by time (`omakase eval --split time`).
      startMs: session.plays[0].time * 1000,
      items: session.plays.map((p) => ({ id: p.item, outcome: 'completed' as const })),
    });
  }

  const rows: CatalogRow[] = [];
  for (const [item, { artist }] of artistOf) {
    rows.push({
      id: item,
      title: `Track ${item}`,
      artist: `Artist ${artist}`,
      tags: [],
      durationMs,
      popularity: playCount.get(item) ?? 0,
    });
  }
  return {
    rows,
    sessions: out,
    stats: {
      items: rows.length,
      sessions: out.length,
      plays,
      unplayedItems: 0,
      notes: {
        files: files.length,
        artists: new Set([...artistOf.values()].map((a) => a.artist)).size,
        reordered,
      },
    },
  };
}

async function inputFiles(inPath: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(inPath);
  } catch (err) {
    throw importError('IMPORT_MISSING_FILE', `${inPath} does not exist; check --in.`, {
      cause: err,
      details: { path: inPath },
    });
  }
  if (!info.isDirectory()) return [inPath];
  const names = (await readdir(inPath)).filter((n) => /\.(txt|tsv)$/.test(n)).sort();
  if (names.length === 0) {
    throw importError(
      'IMPORT_MISSING_FILE',
      `${inPath} has no .txt or .tsv files; point --in at the 30Music slices (e.g. 30music-200ks_test.0.txt).`,
      { details: { path: inPath } },
    );
  }
  return names.map((n) => join(inPath, n));
}

function headerColumns(
  path: string,
  header: string | undefined,
): Record<(typeof COLUMNS)[number], number> & {
  width: number;
} {
  if (header === undefined)
    throw invalidLine(path, 1, `the file is empty; expected the header ${COLUMNS.join(' ')}`);
  const names = header.split('\t').map((h) => h.trim());
  const index = (name: string) => names.indexOf(name);
  const missing = COLUMNS.filter((c) => index(c) < 0);
  if (missing.length > 0) {
    throw invalidLine(
      path,
      1,
      `the header lacks ${missing.join(', ')}; expected tab-separated ${COLUMNS.join(' ')}`,
    );
  }
  return {
    UserId: index('UserId'),
    SessionId: index('SessionId'),
    ItemId: index('ItemId'),
    Time: index('Time'),
    ArtistId: index('ArtistId'),
    width: names.length,
  };
}
