import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  datasetHash,
  type LoggedSession,
  parseSessionsJsonl,
  readSessionsFile,
  writeSessionsFile,
} from '../../engine/sessionsFile.ts';
import { isOmakaseError, type OmakaseError } from '../../models/omakaseError.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omakase-sessions-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function parseFailure(text: string): OmakaseError {
  try {
    parseSessionsJsonl(text, 'sessions.jsonl');
  } catch (err) {
    if (isOmakaseError(err)) return err;
    throw err;
  }
  throw new Error('expected parsing to fail');
}

const sessions: LoggedSession[] = [
  {
    id: 's1',
    items: [{ id: 'a' }, { id: 'b', outcome: 'skipped', playedMs: 12_000 }, { id: 'c', outcome: 'liked' }],
  },
  { id: 's2', items: [{ id: 'a', outcome: 'completed', playedMs: 200_000 }] },
  { id: 's3', items: [] },
];

describe('sessions file', () => {
  it('round-trips, writing bare ids for plays without outcome', async () => {
    const path = join(dir, 'sessions.jsonl');
    await writeSessionsFile(path, sessions);
    const text = await readFile(path, 'utf8');
    expect(text.split('\n')[0]).toBe(
      '{"id":"s1","items":["a",{"id":"b","outcome":"skipped","playedMs":12000},{"id":"c","outcome":"liked"}]}',
    );
    expect(await readSessionsFile(path)).toEqual(sessions);
  });

  it('round-trips a session start time', async () => {
    const path = join(dir, 'timed.jsonl');
    const timed = [{ id: 't', startMs: 1_397_982_525_000, items: [{ id: 'a' }] }];
    await writeSessionsFile(path, timed);
    expect(await readFile(path, 'utf8')).toBe('{"id":"t","startMs":1397982525000,"items":["a"]}\n');
    expect(await readSessionsFile(path)).toEqual(timed);
  });

  it('reads both item forms, ignores blank lines and unknown fields', () => {
    const text = '\n{"id":"x","items":["a",{"id":"b","outcome":"disliked","extra":1}],"user":"u"}\n\n';
    expect(parseSessionsJsonl(text)).toEqual([
      { id: 'x', items: [{ id: 'a' }, { id: 'b', outcome: 'disliked' }] },
    ]);
  });

  it.each([
    ['id', '{"items":["a"]}'],
    ['items', '{"id":"s","items":"a"}'],
    ['items[1]', '{"id":"s","items":["a",""]}'],
    ['items[0]', '{"id":"s","items":[3]}'],
    ['items[0].id', '{"id":"s","items":[{"outcome":"completed"}]}'],
    ['items[0].outcome', '{"id":"s","items":[{"id":"a","outcome":"loved"}]}'],
    ['items[0].playedMs', '{"id":"s","items":[{"id":"a","playedMs":-5}]}'],
    ['startMs', '{"id":"s","startMs":"today","items":["a"]}'],
    ['', '{"id":"s","items":['],
    ['', '["s"]'],
  ])('rejects a bad %s with its line number', (field, bad) => {
    const text = ['{"id":"ok1","items":["a"]}', '{"id":"ok2","items":["b"]}', bad].join('\n');
    const err = parseFailure(text);
    expect(err.code).toBe('ENGINE_SESSIONS_INVALID_ROW');
    expect(err.details).toMatchObject({ line: 3, field });
    expect(err.message).toMatch(/^sessions\.jsonl line 3: /);
  });

  it('rejects a repeated session id, naming the first line', () => {
    const err = parseFailure('{"id":"s","items":["a"]}\n{"id":"t","items":[]}\n{"id":"s","items":["b"]}');
    expect(err.details).toMatchObject({ line: 3, field: 'id' });
    expect(err.message).toContain('already used on line 1');
  });

  it('loads nothing from a file with one bad line among good ones', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: `s${i}`, items: ['a', 'b'] }));
    lines[33] = '{"id":"s33","items":[{"id":"a","outcome":"meh"}]}';
    const path = join(dir, 'onebad.jsonl');
    await writeFile(path, lines.join('\n'));
    let caught: unknown;
    const result = await readSessionsFile(path).catch((err) => {
      caught = err;
      return undefined;
    });
    expect(result).toBeUndefined();
    expect(isOmakaseError(caught, 'ENGINE_SESSIONS_INVALID_ROW')).toBe(true);
    expect((caught as OmakaseError).details).toMatchObject({ line: 34, field: 'items[0].outcome' });
  });

  it('reports a missing file as unreadable', async () => {
    const err = await readSessionsFile(join(dir, 'missing.jsonl')).catch((e: unknown) => e);
    expect(isOmakaseError(err, 'ENGINE_SESSIONS_UNREADABLE')).toBe(true);
  });

  it('refuses to write sessions that would not read back', async () => {
    const bad = [{ id: 's', items: [{ id: 'a', outcome: 'meh' }] }] as unknown as LoggedSession[];
    const err = await writeSessionsFile(join(dir, 'never.jsonl'), bad).catch((e: unknown) => e);
    expect(isOmakaseError(err, 'ENGINE_SESSIONS_INVALID_ROW')).toBe(true);
    await expect(readFile(join(dir, 'never.jsonl'))).rejects.toThrow(/ENOENT/);
  });

  it('hashes a file as the sha256 of its bytes', async () => {
    const path = join(dir, 'hashme.jsonl');
    await writeFile(path, 'hello\n');
    expect(await datasetHash(path)).toBe(createHash('sha256').update('hello\n').digest('hex'));
    await writeFile(path, 'hello!\n');
    expect(await datasetHash(path)).not.toBe(createHash('sha256').update('hello\n').digest('hex'));
  });
});
