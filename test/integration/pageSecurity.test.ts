import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, opsConfig } from '../../adapters/config.ts';
import { createLogger } from '../../adapters/http/logger.ts';
import { type ServeApp, startServeApp } from '../../adapters/http/serveApp.ts';
import { engineHistoryWindow, loadRuntime } from '../../adapters/runtime.ts';
import { missing } from '../requirements.ts';
import { writeTestCatalog } from './processes.ts';

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(missing(existsSync(CHROMIUM)))(
  'the page under its security headers, in a real browser (skipped without /usr/bin/chromium)',
  () => {
    let app: ServeApp;
    let browser: Browser;
    let foreign: Server;
    let base: string;

    beforeAll(async () => {
      const ops = opsConfig({ logLevel: 'silent' }, {});
      // Sessions in memory: this suite checks the page, not the data directory.
      ops.dataDir = '';
      const runtime = await loadRuntime({
        catalogPath: await writeTestCatalog(2000),
        modelDir: 'models/default',
        config: { historyWindow: engineHistoryWindow(ops.historyWindow) },
      });
      app = await startServeApp({
        config: { ...configFromEnv({}), port: 0 },
        ops,
        runtime,
        log: createLogger({ level: 'silent' }),
      });
      base = app.url.replace('ws://', 'http://').replace(/\/ws$/, '');
      // Another site: a page that tries to open a session on the omakase server.
      foreign = createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<script>
          const ws = new WebSocket(${JSON.stringify(app.url)});
          ws.onmessage = (e) => { window.firstFrame = e.data; };
          ws.onclose = (e) => { window.closeCode = e.code; };
          ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', id: 1, protocol: 1 }));
        </script>`),
      );
      await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--no-first-run',
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await new Promise((resolve) => foreign?.close(resolve));
    });

    it('streams the feed with the Content-Security-Policy on, and nothing is refused by it', async () => {
      const page = await browser.newPage();
      const refused: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
      });
      page.on('pageerror', (e) => refused.push(String(e)));
      const response = await page.goto(`${base}/`);
      expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      await page.waitForFunction(() => document.querySelectorAll('.card').length >= 10, undefined, {
        timeout: 20_000,
      });
      expect(refused).toEqual([]);
      await page.close();
    }, 60_000);

    it('refuses a socket opened by a page on another origin with 4403', async () => {
      const page = await browser.newPage();
      await page.goto(`http://localhost:${(foreign.address() as AddressInfo).port}/`);
      await page.waitForFunction(
        () => (window as unknown as { closeCode?: number }).closeCode !== undefined,
        undefined,
        { timeout: 10_000 },
      );
      const { closeCode, firstFrame } = await page.evaluate(() => {
        const w = window as unknown as { closeCode: number; firstFrame: string };
        return { closeCode: w.closeCode, firstFrame: w.firstFrame };
      });
      expect(closeCode).toBe(4403);
      expect(JSON.parse(firstFrame)).toMatchObject({ type: 'error', code: 'PROTO_FORBIDDEN' });
      expect(app.ws.sessions()).toBe(0);
      await page.close();
    }, 30_000);
  },
);
