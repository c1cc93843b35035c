import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogLookup } from '../../../adapters/web/catalogLookup.ts';
import { coverSvg } from '../../../adapters/web/cover.ts';
import { createWebApp } from '../../../adapters/web/webApp.ts';
import { smallCatalog } from '../../engine/fixtures.ts';

let http: Server;
let bare: Server;
let base: string;
let bareBase: string;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  http = createServer(
    await createWebApp({ catalog: catalogLookup(smallCatalog({ items: 300, artists: 30 })) }),
  );
  bare = createServer(await createWebApp());
  base = await listen(http);
  bareBase = await listen(bare);
});

afterAll(async () => {
  await new Promise((resolve) => http?.close(resolve));
  await new Promise((resolve) => bare?.close(resolve));
});

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};

describe('the page and its routes', () => {
  it('serves the page and its bundled script', async () => {
    const page = await fetch(`${base}/`);
    expect(await page.text()).toContain('<ol id="feed"');
    const script = await (await fetch(`${base}/client.js`)).text();
    expect(script).toContain('OmakaseClient');
    expect(script).not.toMatch(/from\s*["']node:/);
  });

  it('answers tags for a batch of ids, and refuses a bad batch', async () => {
    const { body } = await get(`${base}/api/items?ids=t1,t2,nope`);
    expect(body.items.map((i: { id: string }) => i.id)).toEqual(['t1', 't2']);
    expect(body.items[0].tags.length).toBeGreaterThan(0);
    expect(await get(`${base}/api/items`)).toMatchObject({
      status: 400,
      body: { error: { code: 'WEB_BAD_REQUEST' } },
    });
    const many = Array.from({ length: 101 }, (_, i) => `t${i}`).join(',');
    expect((await get(`${base}/api/items?ids=${many}`)).status).toBe(400);
  });

  it('resolves free-text steering and lists moods', async () => {
    expect((await get(`${base}/api/moods`)).body.moods).toEqual(['calm', 'mellow', 'upbeat', 'energetic']);
    expect((await get(`${base}/api/steer?text=more%20genre3`)).body.steer).toEqual({
      kind: 'tag',
      tag: 'genre3',
    });
    expect((await get(`${base}/api/steer?text=something%20calm`)).body.steer).toEqual({
      kind: 'mood',
      tag: 'calm',
    });
    expect((await get(`${base}/api/steer?text=less%20Artist%2012`)).body.steer).toEqual({
      kind: 'less-artist',
      artist: 'Artist 12',
    });
    expect((await get(`${base}/api/steer?text=zzz`)).body.error.code).toBe('WEB_NO_MATCH');
  });

  it('says plainly when it has no catalog', async () => {
    expect(await get(`${bareBase}/api/moods`)).toMatchObject({
      status: 404,
      body: { error: { code: 'WEB_NO_CATALOG' } },
    });
  });

  it('draws a stable cover per item, alike within a genre', () => {
    expect(coverSvg('t1', ['jazz', 'calm'], 'x')).toBe(coverSvg('t1', ['jazz', 'calm'], 'x'));
    expect(coverSvg('t1', ['jazz', 'calm'], 'x')).not.toBe(coverSvg('t2', ['jazz', 'calm'], 'x'));
    expect(coverSvg('t1', ['a<b'], 'Cover of "A" & <B>')).toContain('Cover of &#34;A&#34; &#38; &#60;B&#62;');
  });
});
