import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { SessionService } from '../../sessions/sessionService.ts';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LIMITS, type Limits } from '../protocol.ts';
import { type ConnectionContext, WsConnection } from './wsConnection.ts';

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
  /** Interval of the WS ping; a peer that has not answered the previous one is terminated. */
  heartbeatMs?: number;
  handshakeTimeoutMs?: number;
  /** Socket bytes waiting above which the item pump waits for a flush (default 64 KiB). */
  highWaterBytes?: number;
  /** Items fetched from the session per call (default 10). */
  chunk?: number;
  /** Include each item's `reasons` in `item` frames (default false). */
  reasons?: boolean;
}

export interface WsServer {
  /** Where the server listens (the attached server's address when one was given). */
  address(): AddressInfo;
  /** Live sockets. */
  connections(): number;
  /** Closes every socket with 1001 (sessions keep their grace window), stops the heartbeat, frees the port. */
  close(): Promise<void>;
}

/**
 * The omakase WebSocket server over a SessionService (protocol in docs/protocol.md).
 * @example const ws = await createWsServer({ service, port: 0 }); // ws://127.0.0.1:${ws.address().port}
 */
export async function createWsServer(options: WsServerOptions): Promise<WsServer> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.handshakeTimeoutMs !== undefined) limits.handshakeTimeoutMs = options.handshakeTimeoutMs;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const live = new Set<WsConnection>();
  const ctx: ConnectionContext = {
    service: options.service,
    limits,
    heartbeatMs,
    highWaterBytes: options.highWaterBytes ?? 64 * 1024,
    chunk: options.chunk ?? 10,
    reasons: options.reasons ?? false,
    owners: new Map(),
    onClosed: (connection) => live.delete(connection),
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
  let closing = false;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refuse = closing
      ? '503 Service Unavailable'
      : options.path && pathname !== options.path
        ? '404 Not Found'
        : '';
    if (refuse) {
      socket.end(`HTTP/1.1 ${refuse}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      live.add(new WsConnection(ws, ctx));
    });
  };
  http.on('upgrade', onUpgrade);

  // The ws README heartbeat: a peer that did not answer the previous ping (nor sent anything) is dead.
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

  return {
    address: () => http.address() as AddressInfo,
    connections: () => live.size,
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeat);
      http.off('upgrade', onUpgrade);
      const gone = [...live].map(
        (connection) =>
          new Promise<void>((resolve) => {
            if (connection.ws.readyState === connection.ws.CLOSED) return resolve();
            connection.ws.once('close', () => resolve());
            connection.close(1001, 'server shutting down; reconnect and resume');
            // A peer that does not answer the close frame is cut off rather than holding shutdown up.
            setTimeout(() => connection.terminate(), 1000).unref();
          }),
      );
      await Promise.all(gone);
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
