import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OPS_SETTINGS, opsConfig } from '../../../adapters/config.ts';
import { createAuthenticator } from '../../../adapters/http/auth.ts';
import { createHttpApp, type ReadyCheck } from '../../../adapters/http/httpApp.ts';
import { redactUrl } from '../../../adapters/http/logger.ts';
import { Metrics } from '../../../adapters/http/metrics.ts';
import { createWebApp } from '../../../adapters/web/webApp.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function serve(options: { checks?: ReadyCheck[]; withAuth?: boolean } = {}): Promise<string> {
  const metrics = new Metrics();
  metrics.items.inc(3);
  const authenticate = options.withAuth
    ? await createAuthenticator({ apiKeys: [{ name: 'prom', key: 'scrape-key-1' }] })
    : undefined;
  const app = createHttpApp({
    web: await createWebApp(),
    metrics,
    ready: async () => options.checks ?? [{ name: 'store', ok: true }],
    authenticate,
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the HTTP side of serve', () => {
  it('sends the security headers with the page', async () => {
    const base = await serve();
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await fetch(`${base}/client.js`)).headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers /healthz always and /readyz by its checks', async () => {
    let base = await serve();
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await new Promise((resolve) => server!.close(resolve));
    base = await serve({ checks: [{ name: 'store', ok: false, detail: 'SESSION_STORE_UNAVAILABLE' }] });
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({
      ready: false,
      checks: [{ name: 'store', ok: false, detail: 'SESSION_STORE_UNAVAILABLE' }],
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('serves /metrics, behind a credential when authentication is on', async () => {
    let base = await serve();
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('omakase_items_served_total 3');
    await new Promise((resolve) => server!.close(resolve));
    base = await serve({ withAuth: true });
    const refused = await fetch(`${base}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect(await refused.json()).toMatchObject({ code: 'PROTO_UNAUTHENTICATED' });
    const scraped = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer scrape-key-1' } });
    expect(scraped.status).toBe(200);
    // The page and the probes stay open.
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('never prints a URL password', () => {
    expect(redactUrl('redis://:hunter2@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redactUrl('rediss://app:hunter2@cache:6380')).toBe('rediss://app:***@cache:6380');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('serve settings', () => {
  const doc = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');

  it('has a flag named after each key, and docs/operations.md lists every flag with its env var and default', () => {
    for (const s of OPS_SETTINGS) {
      const camel = s.flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      expect(camel, s.flag).toBe(s.key);
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${s.flag}\``));
      expect(row, `${s.flag} is missing from docs/operations.md`).toBeDefined();
      expect(row).toContain(`\`${s.env}\``);
      if (s.default !== undefined) expect(row).toContain(String(s.default));
    }
  });

  it('reads flags over the environment over defaults, and refuses a bad value with a clear message', () => {
    const config = opsConfig(
      { graceMs: '60000' },
      {
        OMAKASE_GRACE_MS: '5',
        OMAKASE_IDLE_MS: '7',
        OMAKASE_ALLOWED_ORIGINS: 'https://a.test, https://b.test',
        OMAKASE_TRUST_PROXY: 'true',
      },
    );
    expect(config).toMatchObject({
      graceMs: 60_000,
      idleMs: 7,
      historyWindow: 100,
      trustProxy: true,
      allowedOrigins: ['https://a.test', 'https://b.test'],
    });
    expect(() => opsConfig({}, { OMAKASE_MAX_CONNECTIONS: 'lots' })).toThrow(
      '--max-connections (env OMAKASE_MAX_CONNECTIONS) must be a whole number ≥ 0 (got "lots").',
    );
  });
});
