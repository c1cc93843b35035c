import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { SessionService } from '../../sessions/sessionService.ts';
import type { WireTrailer } from '../../sessions/wireTrailer.ts';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LIMITS, type Limits } from '../protocol.ts';
import { Admission, DEFAULT_SERVER_LIMITS, type ServerLimits } from './admission.ts';
import type { ConnectionContext, Peer, WsObserver } from './connectionContext.ts';
import { WsConnection } from './wsConnection.ts';

/** What an authenticator says of an upgrade request: who it is, or why not (the close code to use). */
export type AuthOutcome = { ok: true; principal: string } | { ok: false; status: 401 | 403; message: string };

export interface WsServerOptions {
  service: SessionService;
  /** Attach to this server's `upgrade` event (it is not closed by `close()`); otherwise the server makes its own. */
  server?: Server;
  /** Port for the server's own http server; 0 (the default) picks a free one. */
  port?: number;
  /** Host for the server's own http server; loopback by default. */
  host?: string;
  /** Only upgrades on this path are accepted (default: any path). */
  path?: string;
  limits?: Partial<Limits>;
  /** Connection, rate, session and overload limits (docs/operations.md). */
  serverLimits?: Partial<ServerLimits>;
  /** Interval of the WS ping; a peer that has not answered the previous one is terminated. */
  heartbeatMs?: number;
  handshakeTimeoutMs?: number;
  /** Socket bytes waiting above which the item pump waits for a flush (default 64 KiB). */
  highWaterBytes?: number;
  /** Items fetched from the session per call (default 10). */
  chunk?: number;
  /** Include each item's `reasons` in `item` frames (default false). */
  reasons?: boolean;
  /** Checks the upgrade's credentials; absent = no authentication (the principal is the client address). */
  authenticate?: (req: IncomingMessage) => Promise<AuthOutcome>;
  /**
   * Browser `Origin`s allowed to open sockets: `'*'` for any; by default only pages of the same host
   * (Origin's host = the Host header), and clients that send no Origin (not browsers).
   */
  allowedOrigins?: readonly string[] | '*';
  /** Take the client address from the first X-Forwarded-For hop (behind a proxy you run). */
  trustProxy?: boolean;
  observer?: WsObserver;
  /** Writes each session's frames sent after its last log entry once it has ended (`createWireTrailer`). */
  trailer?: WireTrailer;
}

export interface WsServer {
  /** Where the server listens (the attached server's address when one was given). */
  address(): AddressInfo;
  /** Live sockets. */
  connections(): number;
  /** Sessions attached to a socket of this server. */
  sessions(): number;
  /** True from the start of `drain` (or `close`): a readiness probe should fail. */
  draining(): boolean;
  /** Event-loop delay p99 over the last second (ms), as the overload check sees it. */
  eventLoopLagMs(): number;
  /**
   * Graceful stop: new upgrades get 503, each socket's requests in flight are answered (up to
   * `drainTimeoutMs`), then it is closed with 1001 "resume elsewhere". Resolves when every socket is closed.
   */
  drain(): Promise<void>;
  /** Drains (without the wait for requests in flight), stops the heartbeat, frees the port. */
  close(): Promise<void>;
}

/** Same-origin, or on the list; no Origin at all is a non-browser client, which CORS-like checks do not cover. */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[] | '*' | undefined,
): boolean {
  if (origin === undefined || allowed === '*') return true;
  if (allowed?.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * The omakase WebSocket server over a SessionService (protocol in docs/protocol.md, limits and operations in
 * docs/operations.md).
 * @example const ws = await createWsServer({ service, port: 0 }); // ws://127.0.0.1:${ws.address().port}
 */
export async function createWsServer(options: WsServerOptions): Promise<WsServer> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.handshakeTimeoutMs !== undefined) limits.handshakeTimeoutMs = options.handshakeTimeoutMs;
  const serverLimits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.serverLimits };
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const admission = new Admission(serverLimits, () => options.service.refreshWaitMs?.() ?? 0);
  const observer = options.observer ?? {};
  const live = new Set<WsConnection>();
  const ctx: ConnectionContext = {
    service: options.service,
    limits,
    heartbeatMs,
    highWaterBytes: options.highWaterBytes ?? 64 * 1024,
    chunk: options.chunk ?? 10,
    reasons: options.reasons ?? false,
    owners: new Map(),
    admission,
    observer,
    trailer: options.trailer,
    onClosed: (connection) => {
      live.delete(connection);
      admission.releaseConnection(connection.peer.address);
    },
  };
  // ws's default maxPayload is 100 MiB; a protocol of small JSON requests needs a few KiB.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayload,
    perMessageDeflate: false,
  });
  const own = options.server === undefined;
  const http =
    options.server ??
    createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('WebSocket only\n');
    });
  let closed = false;

  /** Completes the upgrade only to say why not: browsers cannot read an HTTP status on a failed upgrade. */
  const refuseAfterUpgrade = (ws: WebSocket, code: number, errorCode: string, message: string): void => {
    ws.send(JSON.stringify({ type: 'error', code: errorCode, message, retryable: code === 1013 }));
    ws.close(code, message.slice(0, 120));
    setTimeout(() => ws.terminate(), 1000).unref();
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refuse = admission.draining
      ? '503 Service Unavailable'
      : options.path && pathname !== options.path
        ? '404 Not Found'
        : '';
    if (refuse) {
      const retry = admission.draining ? 'Retry-After: 1\r\n' : '';
      socket.end(`HTTP/1.1 ${refuse}\r\nConnection: close\r\n${retry}Content-Length: 0\r\n\r\n`);
      return;
    }
    void admit(req, socket, head);
  };

  const admit = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const address = clientAddress(req, options.trustProxy ?? false);
    let principal = `addr:${address}`;
    let refusal: { code: number; errorCode: string; message: string } | undefined;
    if (!originAllowed(req.headers.origin, req.headers.host, options.allowedOrigins)) {
      refusal = { code: 4403, errorCode: 'PROTO_FORBIDDEN', message: 'this page Origin may not connect' };
    } else if (options.authenticate) {
      const outcome = await options
        .authenticate(req)
        .catch((): AuthOutcome => ({ ok: false, status: 401, message: 'credentials could not be checked' }));
      if (outcome.ok) principal = outcome.principal;
      else
        refusal =
          outcome.status === 401
            ? { code: 4401, errorCode: 'PROTO_UNAUTHENTICATED', message: outcome.message }
            : { code: 4403, errorCode: 'PROTO_FORBIDDEN', message: outcome.message };
    }
    if (refusal === undefined) {
      const full = admission.admitConnection(address);
      if (full !== undefined) refusal = { code: 1013, errorCode: 'PROTO_OVERLOADED', message: full };
    }
    if (socket.destroyed) {
      if (refusal === undefined) admission.releaseConnection(address);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (refusal !== undefined) {
        observer.refused?.(refusal.code, refusal.message);
        refuseAfterUpgrade(ws, refusal.code, refusal.errorCode, refusal.message);
        return;
      }
      const peer: Peer = { address, principal };
      live.add(new WsConnection(ws, ctx, peer));
    });
  };
  http.on('upgrade', onUpgrade);

  // Liveness is an answered ping (ws README heartbeat): frames from the client do not count, since a client
  // that sends without reading would otherwise never be found dead.
  const heartbeat = setInterval(() => {
    for (const connection of live) {
      if (!connection.alive) {
        connection.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  if (own) {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
  }

  const drainAll = async (timeoutMs: number): Promise<void> => {
    admission.draining = true;
    await Promise.all([...live].map((connection) => connection.drain(timeoutMs)));
  };

  return {
    address: () => http.address() as AddressInfo,
    connections: () => live.size,
    sessions: () => ctx.owners.size,
    draining: () => admission.draining,
    eventLoopLagMs: () => admission.eventLoopLagMs(),
    drain: () => drainAll(serverLimits.drainTimeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      await drainAll(0);
      clearInterval(heartbeat);
      admission.close();
      // The upgrade listener stays: on an attached server, Node would otherwise hand later upgrades to the
      // page's request handler (a 404); this one answers 503 until the http server itself closes.
      wss.close();
      if (own) {
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      }
    },
  };
}
