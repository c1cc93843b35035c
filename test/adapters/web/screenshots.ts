/**
 * Takes the README's screenshots of the page from a real `omakase serve` (demo catalog, shipped model):
 * `npx tsx test/adapters/web/screenshots.ts` writes docs/img/web-desktop.png and docs/img/web-phone.png.
 * Not a test: the browser tests take their own screenshots of the test catalog (webClient.test.ts).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../../..');
const OUT = join(ROOT, 'docs/img');

const server = spawn(process.execPath, [join(ROOT, 'adapters/cli/omakase.js'), 'serve', '--port', '0'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise<string>((done, fail) => {
  let out = '';
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const m = /web client: (http:\/\/[^)\s]+)/.exec(out);
    if (m) done(m[1]);
  });
  server.once('exit', (code) => fail(new Error(`omakase serve exited with ${code}: ${out}`)));
});

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

async function ready(page: Page, cards: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const feed = (globalThis as { omakaseFeed?: { count(): number; outstanding(): number } }).omakaseFeed;
      return feed !== undefined && feed.count() >= n && feed.outstanding() === 0;
    },
    cards,
    { timeout: 30_000 },
  );
  // Tags and covers come with the next request; wait for them too.
  await page.waitForFunction(() => document.querySelectorAll('.card .tags li').length > 0);
}

try {
  const desktop = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await desktop.goto(`${base}?intent=${encodeURIComponent('some jazz')}`);
  await ready(desktop, 10);
  await desktop.locator('.card').nth(1).locator('button[data-act="liked"]').click();
  await desktop.locator('.card').nth(2).locator('button[data-act="disliked"]').click();
  await desktop.locator('.card').nth(0).locator('.why summary').click();
  await ready(desktop, 10);
  await desktop.screenshot({ path: join(OUT, 'web-desktop.png') });

  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.goto(`${base}?intent=${encodeURIComponent('something calm')}`);
  await ready(phone, 10);
  await phone.locator('.card').nth(0).locator('.why summary').click();
  await phone.screenshot({ path: join(OUT, 'web-phone.png') });
  process.stdout.write(`wrote ${join(OUT, 'web-desktop.png')} and ${join(OUT, 'web-phone.png')}\n`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
