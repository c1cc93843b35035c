import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { CatalogLookup } from './catalogLookup.ts';

/** Error codes of the page's helper routes (`/api/*`), sent as `{ error: { code, message } }`. */
export const WEB_ERRORS = {
  WEB_BAD_REQUEST: 'The query is missing a parameter or has too many ids (at most 100).',
  WEB_NO_MATCH: 'The steering text names no tag, mood or artist in the catalog.',
  WEB_NO_CATALOG: 'The server was started without a catalog for the page; only the feed itself works.',
  /** Not sent by the server: what the page shows when a route could not be reached at all. */
  WEB_FETCH_FAILED: 'The page could not reach one of these routes.',
} as const;

export type WebErrorCode = keyof typeof WEB_ERRORS;

export interface WebAppOptions {
  /** Tags, covers, moods and free-text steering for the page; without it cards show what the feed sends. */
  catalog?: CatalogLookup;
}

const MAX_IDS = 100;

/**
 * Serves the infinite-scroll page: the HTML, its script (bundled once at start-up from feedPage.ts with the
 * client library and the protocol module), and three small read-only routes the page uses next to the
 * WebSocket: `/api/items?ids=a,b` (tags and covers), `/api/moods`, `/api/steer?text=…`.
 */
export async function createWebApp(
  options: WebAppOptions = {},
): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
  const html = await readFile(fileURLToPath(new URL('./index.html', import.meta.url)));
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./feedPage.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    minify: false,
  });
  const script = bundle.outputFiles[0].contents;
  const catalog = options.catalog;

  const json = (res: ServerResponse, status: number, body: unknown) =>
    res
      .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' })
      .end(JSON.stringify(body));
  const fail = (res: ServerResponse, status: number, code: WebErrorCode, message?: string) =>
    json(res, status, { error: { code, message: message ?? WEB_ERRORS[code] } });

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/' || path === '/index.html') {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' })
        .end(html);
    } else if (path === '/client.js') {
      res
        .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' })
        .end(script);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path.startsWith('/api/') && !catalog) {
      fail(res, 404, 'WEB_NO_CATALOG');
    } else if (path === '/api/items' && catalog) {
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter((id) => id.length > 0);
      if (ids.length === 0 || ids.length > MAX_IDS) return fail(res, 400, 'WEB_BAD_REQUEST');
      json(res, 200, { items: ids.flatMap((id) => catalog.info(id) ?? []) });
    } else if (path === '/api/moods' && catalog) {
      json(res, 200, { moods: catalog.moods() });
    } else if (path === '/api/steer' && catalog) {
      const text = (url.searchParams.get('text') ?? '').trim().slice(0, 200);
      if (text === '')
        return fail(res, 400, 'WEB_BAD_REQUEST', 'Say what to steer toward, e.g. "more jazz".');
      const steer = catalog.steerFor(text);
      // Text that names nothing is an answer, not a failure: 200, with the code for the page to show.
      if (!steer) return fail(res, 200, 'WEB_NO_MATCH', `Nothing in the catalog matches "${text}".`);
      json(res, 200, { steer });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };
}
