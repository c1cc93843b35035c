import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { catalogLookup } from '../../../adapters/web/catalogLookup.ts';
import { createWebApp } from '../../../adapters/web/webApp.ts';
import { createWsServer, type WsServer } from '../../../adapters/ws/wsServer.ts';
import { createEngine } from '../../../engine/engine.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import type { SessionService } from '../../../sessions/sessionService.ts';
import { smallCatalog } from '../../engine/fixtures.ts';
import { missing } from '../../requirements.ts';

const CHROMIUM = '/usr/bin/chromium';
/** Screenshots go to a temporary folder; `SCREENSHOT_DIR=docs/img` refreshes the ones the docs show. */
const SHOTS = resolve(process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'omakase-web'));
/** A catalog cover for some items (a real catalog's `imageUrl`); the rest get generated covers. */
const IMAGE =
  'data:image/svg+xml;charset=utf-8,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#c84"/><circle cx="5" cy="5" r="3" fill="#fff"/></svg>',
  );

interface FeedView {
  received: number[];
  withdrawn: number[];
  count(): number;
  state(): string;
  outstanding(): number;
}
declare const omakaseFeed: FeedView;

type CardInfo = { seq: number; id: string; artist: string };

// The page is tested in a real browser: Debian's chromium, which .ci/run installs.
describe.skipIf(missing(existsSync(CHROMIUM)))(
  'the feed page in a real browser (skipped without /usr/bin/chromium: apt-get install chromium)',
  () => {
    let http: Server;
    let ws: WsServer;
    let service: SessionService;
    let browser: Browser;
    let url: string;
    const sockets = new Set<Socket>();
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      const catalog = smallCatalog({ items: 2000, artists: 200 });
      const engine = createEngine({ catalog, scorer: createFallbackScorer() });
      service = createSessionManager({ engine, store: createMemoryStore() });
      const lookup = catalogLookup(catalog);
      const info = lookup.info;
      lookup.info = (id) => {
        const found = info(id);
        return found && id.endsWith('7') ? { ...found, imageUrl: IMAGE } : found;
      };
      http = createServer(await createWebApp({ catalog: lookup }));
      // The sockets of WebSocket connections, for a test that kills them (page requests are left alone).
      http.on('upgrade', (_req, socket: Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      ws = await createWsServer({ service, server: http, path: '/ws', reasons: true });
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--no-first-run',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });

    afterEach(async () => {
      await page?.close();
      // Zero console errors and zero uncaught exceptions, in every test.
      expect(problems.splice(0)).toEqual([]);
    });

    afterAll(async () => {
      await browser?.close();
      await ws?.close();
      await new Promise((resolve) => http?.close(resolve));
      await service?.close();
    });

    async function open(viewport = { width: 1000, height: 760 }, query = ''): Promise<Page> {
      page = await browser.newPage({ viewport });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      await page.goto(`${url}${query}`);
      await page.waitForFunction(() => omakaseFeed.count() >= 10 && omakaseFeed.outstanding() === 0);
      return page;
    }

    const cards = (p: Page): Promise<CardInfo[]> =>
      p.locator('.card:not(.withdrawn)').evaluateAll((els) =>
        els.map((e) => {
          const d = (e as HTMLElement).dataset;
          return { seq: Number(d.seq), id: d.id as string, artist: d.artist as string };
        }),
      );
    const settled = (p: Page) =>
      p.waitForFunction(() => omakaseFeed.outstanding() === 0 && omakaseFeed.state() === 'open');
    const scrollToEnd = (p: Page) => p.evaluate(() => window.scrollTo(0, document.body.scrollHeight));

    it('loads a page at a time as the reader scrolls, and never more than the view needs', async () => {
      const p = await open();
      // Before any scrolling: enough to fill the view and a little beyond, no more.
      await settled(p);
      const first = await p.evaluate(() => omakaseFeed.count());
      expect(first).toBeGreaterThanOrEqual(10);
      expect(first).toBeLessThanOrEqual(30);
      let before = first;
      for (let k = 0; k < 4; k++) {
        await scrollToEnd(p);
        await p.waitForFunction((n) => omakaseFeed.count() > n, before);
        await settled(p);
        const now = await p.evaluate(() => omakaseFeed.count());
        // One scroll to the end asks for a page or two, never a flood.
        expect(now - before).toBeLessThanOrEqual(20);
        before = now;
      }
      const list = await cards(p);
      expect(new Set(list.map((c) => c.id)).size).toBe(list.length);
      // The status line's count is the list's count.
      expect(await p.locator('#count').textContent()).toBe(`${list.length} cards`);

      // Cards carry tags and a cover: the catalog's image when it has one, a generated one otherwise.
      await p.waitForFunction(() => document.querySelectorAll('.card .tags li').length > 0);
      const covers = await p.locator('.card img.cover').evaluateAll((imgs) =>
        imgs.map((i) => ({
          src: (i as HTMLImageElement).src,
          id: (i.closest('.card') as HTMLElement).dataset.id,
        })),
      );
      for (const c of covers) {
        if (c.id?.endsWith('7')) expect(c.src).toContain('%23c84');
        else expect(c.src).toMatch(/^data:image\/svg\+xml/);
      }
      expect(new Set(covers.map((c) => c.src)).size).toBeGreaterThan(covers.length / 2);

      // "Why this?" comes from the reasons in the item frame.
      const why = p.locator('.card .why').first();
      await why.locator('summary').click();
      await expect.poll(() => why.locator('dd').count()).toBeGreaterThanOrEqual(2);
      expect(await why.textContent()).toMatch(/Score\d\.\d{3}/);
    });

    it('a dislike withdraws the queued cards by that artist and replaces them; none follows in the next 10', async () => {
      // Asked for an artist, the feed comes back to them every few cards (the artist-gap rule).
      const p = await open(undefined, `?intent=${encodeURIComponent('Artist 12')}`);
      const list = await cards(p);
      const at = list.findIndex((c) => c.artist === 'Artist 12');
      expect(at, `no Artist 12 in ${JSON.stringify(list.map((c) => c.artist))}`).toBeGreaterThanOrEqual(0);
      const target = list[at];
      // Queued, and below the fold: not yet seen, so the dislike withdraws them.
      const later = list.slice(at + 4).filter((c) => c.artist === target.artist);
      expect(later.length).toBeGreaterThan(0);
      const countBefore = await p.evaluate(() => omakaseFeed.count());

      const card = p.locator(`.card[data-seq="${target.seq}"]`);
      await card.locator('button[data-act="disliked"]').click();
      await expect.poll(() => card.getAttribute('class')).toContain('disliked');
      expect(await card.locator('button[data-act="disliked"]').getAttribute('aria-pressed')).toBe('true');
      // The later cards by that artist leave the list …
      for (const c of later) await p.locator(`.card[data-seq="${c.seq}"]`).waitFor({ state: 'detached' });
      const withdrawn = await p.evaluate(() => omakaseFeed.withdrawn.slice());
      expect(withdrawn).toEqual(expect.arrayContaining(later.map((c) => c.seq)));
      // … and as many new ones take their place: the count is true, and back where it was.
      await settled(p);
      await expect.poll(() => p.evaluate(() => omakaseFeed.count())).toBe(countBefore);
      const after = await cards(p);
      expect(after.length).toBe(countBefore);
      expect(await p.locator('#count').textContent()).toBe(`${after.length} cards`);
      // What follows the disliked card, loading more until there are ten.
      let following = after.slice(after.findIndex((c) => c.seq === target.seq) + 1);
      while (following.length < 10) {
        const n = await p.evaluate(() => omakaseFeed.count());
        await scrollToEnd(p);
        await p.waitForFunction((m) => omakaseFeed.count() > m, n);
        await settled(p);
        const now = await cards(p);
        following = now.slice(now.findIndex((c) => c.seq === target.seq) + 1);
      }
      await p.evaluate(() => window.scrollTo(0, 0));
      const next10 = following.slice(0, 10);
      expect(next10).toHaveLength(10);
      expect(next10.filter((c) => c.artist === target.artist)).toEqual([]);
      await expect.poll(() => p.locator('#notice').textContent()).toMatch(/no longer fit|Disliked/);

      // Keyboard: j moves to the next card, l likes it.
      await card.focus();
      await p.keyboard.press('j');
      const focused = await p.evaluate(() => (document.activeElement as HTMLElement).dataset.seq);
      expect(Number(focused)).not.toBe(target.seq);
      await p.keyboard.press('l');
      await expect
        .poll(() => p.locator(`.card[data-seq="${focused}"]`).getAttribute('class'))
        .toContain('liked');
      await p.keyboard.press('w');
      await p.locator(`.card[data-seq="${focused}"] .why[open]`).waitFor();
      await p.screenshot({ path: join(SHOTS, 'web-desktop.png') });
    });

    it('resumes after the server kills the socket: no duplicate, no gap, and it says so', async () => {
      const p = await open();
      await scrollToEnd(p);
      // Cut the page's WebSocket while it is asking for more.
      expect(sockets.size).toBe(1);
      for (const socket of sockets) socket.destroy();
      await p.waitForFunction(() => document.getElementById('status')?.textContent === 'Resumed', undefined, {
        timeout: 15_000,
      });
      for (let k = 0; k < 2; k++) {
        const n = await p.evaluate(() => omakaseFeed.count());
        await scrollToEnd(p);
        await p.waitForFunction((m) => omakaseFeed.count() > m, n);
        await settled(p);
      }
      const received = await p.evaluate(() => omakaseFeed.received.slice());
      expect(received).toEqual(Array.from({ length: received.length }, (_, i) => i + 1));
      const ids = (await cards(p)).map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('a reload takes the same session up again; a session that is gone gives way to a new one', async () => {
      const p = await open();
      const before = await p.evaluate(() => ({
        last: Math.max(...omakaseFeed.received),
        ids: [...document.querySelectorAll<HTMLElement>('.card:not(.withdrawn)')].map((c) => c.dataset.id),
      }));
      await p.reload();
      await p.waitForFunction(() => document.getElementById('status')?.textContent === 'Resumed');
      await p.waitForFunction(() => omakaseFeed.count() >= 10 && omakaseFeed.outstanding() === 0);
      const after = await cards(p);
      // The session's seqs carry on, and nothing it delivered before comes again.
      expect(Math.min(...after.map((c) => c.seq))).toBe(before.last + 1);
      expect(after.filter((c) => before.ids.includes(c.id))).toEqual([]);

      await p.evaluate(() =>
        sessionStorage.setItem(
          'omakase.session',
          JSON.stringify({ sessionId: 'gone', resumeToken: 'gone', lastSeq: 3, intent: '' }),
        ),
      );
      await p.reload();
      await expect
        .poll(() => p.locator('#notice').textContent())
        .toMatch(/could not be resumed \(SESSION_NOT_FOUND\)/);
      await p.waitForFunction(() => omakaseFeed.count() >= 10 && omakaseFeed.state() === 'open');
      expect(await p.evaluate(() => omakaseFeed.received.slice(0, 3))).toEqual([1, 2, 3]);
    });

    it('steers by mood chip and free text, and shows an error by its code', async () => {
      const p = await open();
      const chip = p.locator('#moods .chip', { hasText: 'calm' });
      await chip.click();
      await expect.poll(() => chip.getAttribute('aria-pressed')).toBe('true');
      await expect.poll(() => p.locator('#notice').textContent()).toMatch(/Steering: calm|no longer fit/);
      await settled(p);
      const seq = (await cards(p))[0].seq;
      const first = p.locator(`.card[data-seq="${seq}"]`);
      const title = (await first.locator('h2').textContent())?.replace(/^#\d+/, '');
      await first.locator('button[data-act="more-like"]').click();
      await expect
        .poll(() => p.locator('#notice').textContent())
        .toMatch(/Steering: more like|no longer fit/);
      await expect.poll(() => p.locator('#notice').textContent()).toContain(`Steering: more like ${title}`);
      await settled(p);
      await p.fill('#steer-text', 'more genre3');
      await p.press('#steer-text', 'Enter');
      await expect
        .poll(() => p.locator('#notice').textContent())
        .toMatch(/Steering: more genre3|no longer fit/);
      await p.fill('#steer-text', 'zzzz nothing');
      await p.click('#steer');
      await expect.poll(() => p.locator('#alert').textContent()).toMatch(/^WEB_NO_MATCH: /);
      expect(await p.locator('.card:not(.withdrawn)').count()).toBe(
        await p.evaluate(() => omakaseFeed.count()),
      );
    });

    it('fits a 390 px phone: nothing wider than the screen, every control labelled', async () => {
      const p = await open({ width: 390, height: 844 }, '?intent=calm');
      const wide = await p.evaluate(() => document.documentElement.scrollWidth);
      expect(wide).toBeLessThanOrEqual(390);
      const unlabelled = await p.evaluate(() =>
        [...document.querySelectorAll('input')]
          .filter((i) => !i.labels || i.labels.length === 0)
          .map((i) => i.id),
      );
      expect(unlabelled).toEqual([]);
      expect(await p.locator('#status').getAttribute('role')).toBe('status');
      await p.locator('.card .why summary').first().click();
      const shot = join(SHOTS, 'web-phone.png');
      await p.screenshot({ path: shot });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    });
  },
);
