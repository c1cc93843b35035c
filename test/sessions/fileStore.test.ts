import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../sessions/fileStore.ts';
import { registerStoreContract } from './storeContract.ts';

const root = mkdtempSync(join(tmpdir(), 'omakase-filestore-'));
let n = 0;
const freshDir = () => join(root, `d${n++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

registerStoreContract('file', (options) => createFileStore({ ...options, dir: freshDir(), sweepMs: 50 }));

describe('createFileStore', () => {
  it('gives a restarted process the sessions, versions and logs the previous one wrote', async () => {
    const dir = freshDir();
    const first = createFileStore({ dir });
    await first.append('s1', { type: 'user.start', atMs: 1, seed: 7 }, 0);
    await first.save('s1', { at: 'start' }, 1);
    await first.append('s1', { type: 'feed.more', atMs: 2, n: 3 }, 2);
    await first.close();
    const second = createFileStore({ dir });
    const loaded = await second.load('s1');
    expect(loaded).toEqual({
      snapshot: { at: 'start' },
      version: 3,
      tail: [{ id: '2-0', event: { type: 'feed.more', atMs: 2, n: 3 } }],
    });
    expect((await second.readEvents('s1')).map((e) => e.event.type)).toEqual(['user.start', 'feed.more']);
    // The version survived: a writer that still holds the old one is fenced.
    await expect(second.append('s1', { type: 'x', atMs: 3 }, 2)).rejects.toMatchObject({
      code: 'SESSION_STORE_CONFLICT',
    });
    expect((await second.append('s1', { type: 'x', atMs: 3 }, 3)).id).toBe('3-0');
    await second.close();
  });

  it('keeps what stands before a line a crash cut short', async () => {
    const dir = freshDir();
    const store = createFileStore({ dir });
    await store.append('s2', { type: 'user.start', atMs: 1, seed: 1 }, 0);
    await store.save('s2', { ok: true }, 1);
    await store.close();
    const file = join(dir, 'live', 's2.jsonl');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"v":3,"t":5,"n":2,"e":{"ty`);
    const again = createFileStore({ dir });
    expect(await again.load('s2')).toEqual({ snapshot: { ok: true }, version: 2, tail: [] });
    await again.close();
  });

  it('moves an expired session to done/ (replay still reads it) and deletes done/ logs by age and by size', async () => {
    let now = 1_000_000;
    const dir = freshDir();
    const store = createFileStore({ dir, ttlMs: 1_000, sweepMs: 0, now: () => now });
    await store.append('old', { type: 'user.start', atMs: now, pad: 'x'.repeat(300) }, 0);
    await store.append('new', { type: 'user.start', atMs: now, pad: 'y'.repeat(300) }, 0);
    now += 2_000;
    expect(store.sweep().retired).toBe(2);
    expect(await store.load('old')).toBeUndefined();
    expect(readdirSync(join(dir, 'done'))).toHaveLength(2);
    // Two logs of ~330 bytes are over the 400-byte cap: the older goes.
    const files = readdirSync(join(dir, 'done')).sort();
    utimesSync(join(dir, 'done', files.find((f) => f.startsWith('old'))!), 1, 1);
    await store.close();
    const capped = createFileStore({ dir, sweepMs: 0, logMaxBytes: 400 });
    expect(readdirSync(join(dir, 'done'))).toEqual([files.find((f) => f.startsWith('new'))]);
    await capped.close();
    // Written a moment ago, maybe in this very millisecond: make it older than the 1 ms age limit.
    const left = readdirSync(join(dir, 'done'))[0]!;
    utimesSync(join(dir, 'done', left), new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
    const aged = createFileStore({ dir, sweepMs: 0, logMaxAgeMs: 1 });
    expect(readdirSync(join(dir, 'done'))).toEqual([]);
    await aged.close();
  });

  it('refuses a session id that would leave the directory', async () => {
    const store = createFileStore({ dir: freshDir(), sweepMs: 0 });
    await expect(store.append('../x', { type: 'x', atMs: 1 }, 0)).rejects.toMatchObject({
      code: 'SESSION_INVALID_REQUEST',
    });
    await store.close();
  });
});

describe('createFileStore compaction', () => {
  it('drops superseded snapshots from a long session file and keeps every event and the latest snapshot', async () => {
    const dir = freshDir();
    const store = createFileStore({ dir, sweepMs: 0 });
    let v = await store.append('long', { type: 'user.start', atMs: 0 }, 0);
    let version = v.version;
    const big = 'z'.repeat(100_000);
    for (let i = 0; i < 30; i++) {
      v = await store.append('long', { type: 'x', atMs: i, i }, version);
      version = await store.save('long', { i, big }, v.version);
    }
    const size = readFileSync(join(dir, 'live', 'long.jsonl'), 'utf8').length;
    expect(size).toBeLessThan(1.3 * 1024 * 1024);
    expect((await store.readEvents('long')).length).toBe(31);
    expect((await store.load('long'))?.snapshot).toEqual({ i: 29, big });
    await store.close();
  });
});
