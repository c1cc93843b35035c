import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../adapters/http/auth.ts';
import { createHttpApp } from '../../../adapters/http/httpApp.ts';
import { timelineRoute } from '../../../adapters/http/timelineRoute.ts';
import { createWebApp } from '../../../adapters/web/webApp.ts';
import type { Engine } from '../../../engine/engine.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import type { SessionStore } from '../../../sessions/sessionStore.ts';
import { manager, openManagers } from '../../sessions/managerFixtures.ts';
import { engine, livedSession } from '../../sessions/replayFixtures.ts';
import { hostileEngine } from '../report/hostileEngine.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  for (const service of openManagers.splice(0)) await service.close();
});

/** The HTTP app of `serve` with the timeline route, on port 0. */
async function serve(store: SessionStore, withAuth: boolean, on: Engine = engine): Promise<string> {
  const authenticate = withAuth
    ? await createAuthenticator({ apiKeys: [{ name: 'qa', key: 'qa-key-1' }] })
    : undefined;
  const app = createHttpApp({
    web: await createWebApp(),
    ready: async () => [],
    authenticate,
    routes: [timelineRoute({ store, engine: on, authenticate })],
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('GET /sessions/ID/timeline', () => {
  it('serves the timeline page of a logged session (auth off), with the page’s security headers', async () => {
    const store = createMemoryStore();
    const { sessionId, delivered } = await livedSession({ store });
    const base = await serve(store, false);
    const res = await fetch(`${base}/sessions/${sessionId}/timeline`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain(`Session ${sessionId}`);
    expect(html).toContain('replay exact');
    for (const d of delivered.slice(0, 5)) expect(html).toContain(`<b>${d.title}</b>`);
  });

  it('asks for the same credential as /metrics when auth is on: 401 without, 403 with a wrong one, 200 with it', async () => {
    const store = createMemoryStore();
    const { sessionId } = await livedSession({ store });
    const base = await serve(store, true);
    const url = `${base}/sessions/${sessionId}/timeline`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.json()).toMatchObject({ code: 'PROTO_UNAUTHENTICATED' });
    const wrong = await fetch(url, { headers: { authorization: 'Bearer not-the-key' } });
    expect([401, 403]).toContain(wrong.status);
    const ok = await fetch(url, { headers: { authorization: 'Bearer qa-key-1' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<table class="timeline">');
  });

  it('answers an unknown session 404 SESSION_NOT_FOUND, a malformed id 400, another method 405', async () => {
    const store = createMemoryStore();
    const base = await serve(store, false);
    const missing = await fetch(`${base}/sessions/no-such-session/timeline`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'SESSION_NOT_FOUND' });
    const bad = await fetch(`${base}/sessions/${encodeURIComponent('a b<c>')}/timeline`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'SESSION_INVALID_REQUEST' });
    const post = await fetch(`${base}/sessions/x/timeline`, { method: 'POST' });
    expect(post.status).toBe(405);
    // Other paths still reach the page.
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  it('escapes what the catalog says: a <script> title arrives as text', async () => {
    const hostile = hostileEngine();
    const { service, store } = manager({ engine: hostile });
    const { sessionId } = await service.start({ connectionId: 'c1', seed: 9 });
    await service.more(sessionId, 'c1', 3);
    const base = await serve(store, false, hostile);
    const html = await (await fetch(`${base}/sessions/${sessionId}/timeline`)).text();
    expect(html).toContain('&#60;script&#62;');
    expect(html).not.toContain('<script');
  });
});
