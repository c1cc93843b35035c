import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticate } from './auth.ts';
import type { Metrics } from './metrics.ts';
import { requireAuth } from './requireAuth.ts';

/** A route of its own module: answers the request and returns true, or returns false to pass it on. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

/** One readiness check: its name, whether it passed, and a word on why not. */
export interface ReadyCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface HttpAppOptions {
  /** The page and its script (adapters/web); anything not served here goes to it. */
  web: (req: IncomingMessage, res: ServerResponse) => void;
  metrics?: Metrics;
  /** Checks behind /readyz (store reachable, model loaded, not draining). */
  ready: () => Promise<ReadyCheck[]>;
  /** When set, /metrics needs a credential too (the page, /healthz and /readyz stay open to probes). */
  authenticate?: Authenticate;
  /** Further routes, asked in order before the page (e.g. `/sessions/ID/timeline`). */
  routes?: readonly HttpRoute[];
}

/**
 * The page's Content-Security-Policy: its own script and the socket of the same host only; no frames, no
 * plug-ins, no inline script (its one inline `<style>` is allowed).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Every HTTP answer of `serve`: security headers on all of them; /healthz (the process is alive), /readyz
 * (ready for traffic), /metrics (Prometheus); the rest is the web page.
 */
export function createHttpApp(options: HttpAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok\n');
    } else if (path === '/readyz') {
      void options.ready().then(
        (checks) => {
          const ok = checks.every((c) => c.ok);
          res
            .writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
            .end(`${JSON.stringify({ ready: ok, checks })}\n`);
        },
        () => res.writeHead(503, { 'content-type': 'application/json' }).end('{"ready":false}\n'),
      );
    } else if (path === '/metrics' && options.metrics) {
      void metricsAnswer(options, req, res);
    } else if (!options.routes?.some((route) => route(req, res, path))) {
      options.web(req, res);
    }
  };
}

async function metricsAnswer(
  options: HttpAppOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!(await requireAuth(options.authenticate, req, res))) return;
  const registry = options.metrics!.registry;
  const text = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text);
}
