import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseCatalogRow,
  readCatalogFile,
  readCatalogRows,
  writeCatalogFile,
} from '../../engine/catalogFile.ts';
import type { CatalogRow } from '../../engine/item.ts';
import { isOmakaseError, type OmakaseError } from '../../models/omakaseError.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omakase-catalog-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const good = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `t${i}`,
  title: `Song ${i}`,
  artist: `Artist ${i % 3}`,
  tags: ['jazz', 'calm'],
  durationMs: 200_000 + i,
  ...extra,
});

async function fileWith(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<OmakaseError> {
  try {
    await promise;
  } catch (err) {
    if (isOmakaseError(err)) return err;
    throw err;
  }
  throw new Error('expected the read to fail');
}

describe('parseCatalogRow', () => {
  it('normalises tags, defaults popularity and drops unknown fields', () => {
    const row = parseCatalogRow(
      { ...good(1), tags: [' Jazz ', 'jazz', 'CALM', ''], extra: 'x', album: null },
      1,
    );
    expect(row).toEqual({
      id: 't1',
      title: 'Song 1',
      artist: 'Artist 1',
      tags: ['jazz', 'calm'],
      durationMs: 200_001,
      popularity: 0,
    });
  });

  it.each([
    ['id', { id: '' }],
    ['id', { id: 7 }],
    ['title', { title: undefined }],
    ['artist', { artist: '  ' }],
    ['album', { album: 3 }],
    ['tags', { tags: ['ok', 1] }],
    ['tags', { tags: 'jazz' }],
    ['durationMs', { durationMs: 'abc' }],
    ['durationMs', { durationMs: 0 }],
    ['durationMs', { durationMs: 1.5 }],
    ['durationMs', { durationMs: 86_400_001 }],
    ['year', { year: 1799 }],
    ['year', { year: 2000.5 }],
    ['popularity', { popularity: -1 }],
    ['popularity', { popularity: 'high' }],
    ['embedding', { embedding: [1, 'x'] }],
    ['embedding', { embedding: [] }],
    ['embedding', { embedding: [0, 0] }],
  ])('rejects a bad %s (%j)', (field, patch) => {
    let caught: unknown;
    try {
      parseCatalogRow({ ...good(1), ...patch }, 17);
    } catch (err) {
      caught = err;
    }
    expect(isOmakaseError(caught, 'ENGINE_CATALOG_INVALID_ROW')).toBe(true);
    expect((caught as OmakaseError).details).toMatchObject({ line: 17, field });
    expect((caught as OmakaseError).message).toContain(`line 17: ${field} must be`);
  });

  it('keeps a cover imageUrl (https or data:image/) and refuses any other', async () => {
    const https = parseCatalogRow(good(1, { imageUrl: 'https://img.example.com/t1.jpg' }), 1);
    expect(https.imageUrl).toBe('https://img.example.com/t1.jpg');
    const data = parseCatalogRow(good(2, { imageUrl: 'data:image/png;base64,iVBORw0KGgo=' }), 2);
    expect(data.imageUrl).toMatch(/^data:image\/png/);
    for (const bad of ['http://img.example.com/t.jpg', 'javascript:alert(1)', 42]) {
      expect(() => parseCatalogRow(good(3, { imageUrl: bad }), 3)).toThrow(/imageUrl/);
    }
    const file = join(dir, 'covers.jsonl');
    await writeCatalogFile(file, [{ ...good(4), popularity: 1, imageUrl: 'https://img.example.com/t4.jpg' }]);
    const catalog = await readCatalogFile(file);
    expect(catalog.get('t4')?.imageUrl).toBe('https://img.example.com/t4.jpg');
  });

  it('names the field and the value it got in the message', () => {
    expect(() => parseCatalogRow({ ...good(1), durationMs: 'abc' }, 17, 'catalog.jsonl')).toThrow(
      /^catalog\.jsonl line 17: durationMs must be a positive integer.*\(got "abc"\)/,
    );
  });
});

describe('catalog file', () => {
  it('round-trips: write then read gives the same items and embeddings in the same direction', async () => {
    const rows: CatalogRow[] = Array.from({ length: 50 }, (_, i) => ({
      ...good(i),
      album: i % 2 ? `Album ${i % 5}` : undefined,
      year: 1990 + (i % 30),
      popularity: i * 1.5,
      embedding: [i + 1, 2, -3],
    }));
    for (const r of rows) if (r.album === undefined) delete r.album;
    const path = join(dir, 'roundtrip.jsonl');
    await writeCatalogFile(path, rows);
    const catalog = await readCatalogFile(path);
    expect(catalog.size).toBe(50);
    expect(catalog.items).toEqual(rows.map(({ embedding, ...item }) => item));
    const e = catalog.embedding(4);
    const norm = Math.hypot(5, 2, -3);
    expect(Array.from(e)).toEqual([5 / norm, 2 / norm, -3 / norm].map((x) => Math.fround(x)));
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
  });

  it('ignores blank lines and reports progress up to the file size', async () => {
    const path = await fileWith('blank.jsonl', [
      '',
      JSON.stringify(good(1)),
      '   ',
      JSON.stringify(good(2)),
      '',
    ]);
    const seen: [number, number][] = [];
    const rows = await readCatalogRows(path, { onProgress: (done, total) => seen.push([done, total]) });
    expect(rows.map((r) => r.id)).toEqual(['t1', 't2']);
    const size = (await readFile(path)).length;
    expect(seen.at(-1)).toEqual([size, size]);
  });

  it('loads nothing when one row among good ones is bad, and names its line', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify(good(i)));
    lines[16] = JSON.stringify(good(16, { durationMs: 'abc' }));
    const err = await failure(readCatalogFile(await fileWith('onebad.jsonl', lines)));
    expect(err.code).toBe('ENGINE_CATALOG_INVALID_ROW');
    expect(err.details).toMatchObject({ line: 17, field: 'durationMs', problemCount: 1 });
    expect(err.message).toMatch(
      /^onebad\.jsonl line 17: durationMs must be a positive integer .*\(got "abc"\)/,
    );
  });

  it('collects up to 20 problems and counts them all', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify(good(i, { year: 'old', artist: '' })));
    const err = await failure(readCatalogFile(await fileWith('manybad.jsonl', lines)));
    expect(err.details.problemCount).toBe(80);
    expect(err.details.problems).toHaveLength(20);
    expect(err.message).toContain('and 79 more problems');
  });

  it('reports a line that is not JSON as an invalid row on that line', async () => {
    const lines = [JSON.stringify(good(1)), '{"id": "t2", oops', JSON.stringify(good(3))];
    const err = await failure(readCatalogFile(await fileWith('badjson.jsonl', lines)));
    expect(err.code).toBe('ENGINE_CATALOG_INVALID_ROW');
    expect(err.details).toMatchObject({ line: 2 });
    expect(err.message).toContain('not valid JSON');
  });

  it('reports duplicate ids with both lines', async () => {
    const lines = [good(1), good(2), good(3), good(2)].map((r) => JSON.stringify(r));
    const err = await failure(readCatalogFile(await fileWith('dup.jsonl', lines)));
    expect(err.code).toBe('ENGINE_CATALOG_DUPLICATE_ID');
    expect(err.details).toMatchObject({ id: 't2', lines: [2, 4] });
  });

  it('reports embeddings of unequal length', async () => {
    const lines = [
      good(1, { embedding: [1, 0] }),
      good(2, { embedding: [1, 0] }),
      good(3, { embedding: [1, 0, 0] }),
    ];
    const err = await failure(
      readCatalogFile(
        await fileWith(
          'dim.jsonl',
          lines.map((r) => JSON.stringify(r)),
        ),
      ),
    );
    expect(err.code).toBe('ENGINE_CATALOG_EMBEDDING_DIM');
    expect(err.details).toMatchObject({ line: 3, expected: 2, got: 3 });
  });

  it('reports rows where only some have an embedding', async () => {
    const lines = [good(1, { embedding: [1, 0] }), good(2)].map((r) => JSON.stringify(r));
    const err = await failure(readCatalogFile(await fileWith('mixed.jsonl', lines)));
    expect(err.code).toBe('ENGINE_CATALOG_EMBEDDING_DIM');
    expect(err.details).toMatchObject({ line: 2 });
  });

  it('reports an empty file and a missing one', async () => {
    const empty = await failure(readCatalogFile(await fileWith('empty.jsonl', ['', ''])));
    expect(empty.code).toBe('ENGINE_CATALOG_EMPTY');
    const missing = await failure(readCatalogFile(join(dir, 'nope.jsonl')));
    expect(missing.code).toBe('ENGINE_CATALOG_UNREADABLE');
    expect(missing.details).toMatchObject({ reason: 'ENOENT' });
  });

  it('refuses to write rows that would not load, and leaves the old file alone', async () => {
    const path = join(dir, 'keep.jsonl');
    await writeCatalogFile(path, [good(1) as CatalogRow]);
    const before = await readFile(path, 'utf8');
    const err = await failure(writeCatalogFile(path, [good(1) as CatalogRow, good(1) as CatalogRow]));
    expect(err.code).toBe('ENGINE_CATALOG_DUPLICATE_ID');
    expect(err.message).toContain('Nothing was written');
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('streams a 100k-row file', async () => {
    const rows = Array.from(
      { length: 100_000 },
      (_, i) => good(i, { embedding: [i % 7, 1, 2, 3] }) as CatalogRow,
    );
    const path = join(dir, 'big.jsonl');
    await writeCatalogFile(path, rows);
    const catalog = await readCatalogFile(path);
    expect(catalog.size).toBe(100_000);
    expect(catalog.get('t99999')?.durationMs).toBe(299_999);
  });
});
