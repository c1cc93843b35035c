import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

// The page is tested in a real browser: Debian's chromium, which .ci/run installs.
describe.skipIf(missing(existsSync(CHROMIUM)))(
  'web client in a real browser (skipped without /usr/bin/chromium: apt-get install chromium)',
  () => {
    let http: Server;
    let ws: WsServer;
    let service: SessionService;
    let browser: Browser;
    let url: string;

    beforeAll(async () => {
      const catalog = smallCatalog({ items: 2000, artists: 200 });
      const engine = createEngine({ catalog, scorer: createFallbackScorer() });
      service = createSessionManager({ engine, store: createMemoryStore() });
      http = createServer(await createWebApp());
      ws = await createWsServer({ service, server: http, path: '/ws' });
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

    afterAll(async () => {
      await browser?.close();
      await ws?.close();
      await new Promise((resolve) => http?.close(resolve));
      await service?.close();
    });

    it('streams a feed, loads more on scroll, takes a thumbs-down, and strikes out items a steer withdrew', async () => {
      const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(url);
      await page.waitForFunction(() => document.querySelectorAll('.card').length >= 10, undefined, {
        timeout: 15_000,
      });

      // Scrolling to the end asks for more: the feed grows past the first pages.
      for (let k = 0; k < 4; k++) {
        const before = await page.locator('.card').count();
        await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
        await page.waitForFunction((n) => document.querySelectorAll('.card').length > n, before, {
          timeout: 15_000,
        });
      }
      const ids = await page
        .locator('.card')
        .evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.id));
      expect(ids.length).toBeGreaterThanOrEqual(40);
      expect(new Set(ids).size).toBe(ids.length);

      await page.evaluate(() => window.scrollTo(0, 0));
      await page.locator('.card button[data-act="disliked"]').first().click();
      await expect.poll(() => page.locator('.card.disliked').count()).toBe(1);

      // "Something calmer" withdraws what was queued and not yet played; the page strikes it out.
      await page.click('#calmer');
      await page.waitForSelector('.card.withdrawn', { timeout: 15_000 });
      await page.screenshot({ path: join(tmpdir(), 'omakase-web.png') });
      expect(errors).toEqual([]);
      await page.close();
    });
  },
);
