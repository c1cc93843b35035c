import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dataDirSessions } from '../../../adapters/cli/commands/replayAll.ts';
import { runReplay } from '../../../adapters/cli/commands/replayCommand.ts';
import { writeCatalogFile } from '../../../engine/catalogFile.ts';
import { openManagers } from '../../sessions/managerFixtures.ts';
import { catalog, livedSession } from '../../sessions/replayFixtures.ts';

let dir: string;
let catalogPath: string;
const jsonl = (events: unknown[]) => `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omakase-replay-all-'));
  catalogPath = join(dir, 'catalog.jsonl');
  await writeCatalogFile(catalogPath, catalog.items);
});
afterEach(async () => {
  for (const service of openManagers.splice(0)) await service.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(dataDir: string, json = false) {
  let out = '';
  const ok = await runReplay({ catalog: catalogPath, dataDir, all: true, json }, (text) => {
    out += text;
  });
  return { ok, out };
}

describe('omakase replay --data-dir DIR --all', () => {
  it('replays every session of live/ and done/, and fails on the one that diverges, naming it', async () => {
    const data = join(dir, 'data');
    await mkdir(join(data, 'live'), { recursive: true });
    await mkdir(join(data, 'done'), { recursive: true });
    const a = await livedSession();
    const b = await livedSession();
    await writeFile(join(data, 'live', `${a.sessionId}.jsonl`), jsonl(a.events));
    await writeFile(join(data, 'done', `${b.sessionId}.1796000000000.jsonl`), jsonl(b.events));
    expect(dataDirSessions(data)).toEqual([a.sessionId, b.sessionId].sort());

    const good = await run(data);
    expect(good.ok).toBe(true);
    expect(good.out).toMatch(/2 session\(s\) in .*: 2 OK, 0 diverged, 0 unreadable/);
    expect(good.out.trimEnd().endsWith('REPLAY OK')).toBe(true);

    // A third session whose third delivery is tampered with, and a file that is not a log.
    const c = await livedSession();
    const tampered = structuredClone(c.events);
    (tampered.filter((e) => e.type === 'feed.more' && Array.isArray(e.ids))[2]!.ids as string[]).reverse();
    await writeFile(join(data, 'live', `${c.sessionId}.jsonl`), jsonl(tampered));
    await writeFile(join(data, 'live', 'broken.jsonl'), 'not json\n');
    const bad = await run(data, true);
    expect(bad.ok).toBe(false);
    const rows = bad.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const summary = rows.pop().summary;
    expect(summary).toMatchObject({ sessions: 4, ok: 2, diverged: 1, unreadable: 1 });
    expect(rows.find((r) => r.sessionId === c.sessionId)).toMatchObject({
      verdict: 'DIVERGED',
      why: expect.stringContaining('delivery 2'),
    });
    expect(rows.find((r) => r.sessionId === 'broken')).toMatchObject({
      verdict: 'UNREADABLE',
      why: expect.stringContaining('SESSION_INVALID_REQUEST'),
    });
  }, 60_000);

  it('needs a data directory and takes no --session', async () => {
    await expect(runReplay({ catalog: catalogPath, all: true }, () => {})).rejects.toMatchObject({
      code: 'SESSION_INVALID_REQUEST',
    });
    await expect(
      runReplay({ catalog: catalogPath, all: true, dataDir: dir, session: 'x' }, () => {}),
    ).rejects.toMatchObject({ code: 'SESSION_INVALID_REQUEST' });
  });
});
