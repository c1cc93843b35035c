import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isOmakaseError } from '../../models/omakaseError.ts';
import { createFileStore } from '../../sessions/fileStore.ts';
import { createMemoryStore, type MemoryStore } from '../../sessions/memoryStore.ts';
import { createRedisStore } from '../../sessions/redisStore.ts';
import { RefreshQueue } from '../../sessions/refreshQueue.ts';
import { createSessionManager } from '../../sessions/sessionManager.ts';
import type { SessionService } from '../../sessions/sessionService.ts';
import type { SessionStore } from '../../sessions/sessionStore.ts';
import { createWireTrailer, type WireTrailer } from '../../sessions/wireTrailer.ts';
import type { OpsConfig, ServerConfig } from '../config.ts';
import type { Runtime } from '../runtime.ts';
import { catalogLookup } from '../web/catalogLookup.ts';
import { createWebApp } from '../web/webApp.ts';
import { createWsServer, type WsServer } from '../ws/wsServer.ts';
import { type AuthConfig, createAuthenticator } from './auth.ts';
import { createHttpApp, type ReadyCheck } from './httpApp.ts';
import { errorFields, type Logger, logObserver, redactUrl, throttledLog } from './logger.ts';
import { Metrics } from './metrics.ts';
import { timelineRoute } from './timelineRoute.ts';

export interface ServeAppOptions {
  config: ServerConfig;
  ops: OpsConfig;
  runtime: Runtime;
  log: Logger;
}

/** A running `serve`: what its parts are, and how to stop it. */
export interface ServeApp {
  http: Server;
  ws: WsServer;
  service: SessionService;
  store: SessionStore;
  /** Writes an adapter's traffic after a session's last entry (the `end` answer), for exact replay. */
  trailer: WireTrailer;
  metrics: Metrics;
  /** `ws://host:port/ws` */
  url: string;
  /** SIGTERM: readiness fails, new upgrades get 503, requests in flight are answered, sockets close 1001. */
  drain(): Promise<void>;
  /** Drain, then flush the sessions' writes and close the store and the port. */
  close(): Promise<void>;
  /** Runs `hook` on close once the session manager is closed, before the store is (adapters' last records). */
  onSessionsClosed(hook: () => Promise<void>): void;
}

/** `name:key` lines; `#` comments and blank lines are skipped. */
export async function readApiKeys(file: string): Promise<{ name: string; key: string }[]> {
  const text = await readFile(file, 'utf8');
  const keys: { name: string; key: string }[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0 || colon === line.length - 1)
      throw new Error(`${file} line ${i + 1}: expected name:key (the key itself is not shown)`);
    keys.push({ name: line.slice(0, colon), key: line.slice(colon + 1) });
  }
  if (keys.length === 0) throw new Error(`${file} holds no keys: API keys would let nobody in`);
  return keys;
}

/**
 * Builds and starts what `omakase serve` runs (everything but the voice endpoint): store, session manager,
 * WebSocket server, page, /healthz, /readyz, /metrics, with the limits, auth and logs of `ops`.
 */
export async function startServeApp({ config, ops, runtime, log }: ServeAppOptions): Promise<ServeApp> {
  const metrics = new Metrics();
  const storeLog = throttledLog(log);
  // Kept apart so /metrics can say what the memory store holds (absent on Redis).
  let memoryStore: MemoryStore | undefined;
  const keepMemory = (held: MemoryStore) => {
    memoryStore = held;
    return held;
  };
  const storeOptions = { prefix: config.redisPrefix, ttlMs: ops.storeTtlMs, endedTtlMs: ops.endedTtlMs };
  const store = metrics.instrumentStore(
    config.redisUrl || ops.redisCluster?.length
      ? createRedisStore({
          ...storeOptions,
          url: config.redisUrl,
          cluster: ops.redisCluster?.length ? ops.redisCluster : undefined,
          commandTimeoutMs: ops.redisTimeoutMs,
          onFailure: (what, err) =>
            storeLog(
              `store:${err.message}`,
              { event: 'store.failed', op: what, err: err.message },
              'store call failed',
            ),
        })
      : ops.dataDir
        ? createFileStore({
            ...storeOptions,
            dir: ops.dataDir,
            logMaxAgeMs: ops.logMaxAgeMs,
            logMaxBytes: ops.logMaxBytes,
          })
        : keepMemory(createMemoryStore(storeOptions)),
  );
  const provenance = runtime.card && {
    model: `${runtime.card.name}@${runtime.card.version}`,
    sha256: runtime.card.sha256,
    runtime: runtime.card.runtime,
  };
  const failed = throttledLog(log);
  const refreshes = new RefreshQueue({ onGrant: (ms) => metrics.refreshWait.observe(ms / 1000) });
  const service = createSessionManager({
    engine: metrics.instrumentEngine(runtime.engine),
    store,
    refreshes,
    nodeId: config.nodeId,
    provenance,
    graceMs: ops.graceMs,
    idleMs: ops.idleMs,
    historyWindow: ops.historyWindow,
    onError: (err) => {
      const fields = errorFields(err);
      failed(`session:${fields.code}`, { event: 'session.write_failed', ...fields }, 'session write failed');
    },
    onRestored: (restore) => {
      metrics.restores.inc({ from: restore.from, outcome: restore.ok ? 'ok' : 'failed' });
      const fields = { event: 'session.restored', ...restore };
      if (restore.ok) log.info(fields, 'session restored from the store');
      else log.warn(fields, 'session restore failed');
    },
  });

  const auth: AuthConfig = {};
  if (ops.apiKeysFile) auth.apiKeys = await readApiKeys(ops.apiKeysFile);
  if (ops.jwtJwksUrl || ops.jwtKeyFile)
    auth.jwt = {
      issuer: ops.jwtIssuer,
      audience: ops.jwtAudience,
      jwksUrl: ops.jwtJwksUrl,
      keyFile: ops.jwtKeyFile,
    };
  const authenticate = await createAuthenticator(auth);

  let ws: WsServer | undefined;
  const ready = async (): Promise<ReadyCheck[]> => {
    const checks: ReadyCheck[] = [
      { name: 'draining', ok: !ws?.draining(), detail: ws?.draining() ? 'shutting down' : undefined },
    ];
    // A probe answers within a second whatever the store does (its own timeout may be longer).
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer within 1 s')), 1000);
    });
    try {
      await Promise.race([store.ping?.(), late]);
      checks.push({ name: 'store', ok: true });
    } catch (err) {
      checks.push({
        name: 'store',
        ok: false,
        detail: isOmakaseError(err) ? err.code : (err as Error).message,
      });
    } finally {
      clearTimeout(timer);
    }
    checks.push({
      name: 'model',
      ok: !runtime.modelFailed,
      detail: runtime.modelFailed
        ? 'the model did not load; serving with the fallback scorer'
        : runtime.engine.modelId,
    });
    return checks;
  };
  const web = await createWebApp({ catalog: catalogLookup(runtime.catalog) });
  const http = createServer(
    {
      maxHeaderSize: ops.httpMaxHeaderBytes,
      requestTimeout: ops.httpRequestTimeoutMs,
      headersTimeout: ops.httpHeadersTimeoutMs,
    },
    createHttpApp({
      web,
      metrics,
      ready,
      authenticate,
      routes: [timelineRoute({ store, engine: runtime.engine, authenticate })],
    }),
  );
  http.keepAliveTimeout = ops.httpKeepAliveTimeoutMs;
  http.maxRequestsPerSocket = 1000;
  const trailer = createWireTrailer(store, { nodeId: config.nodeId });
  ws = await createWsServer({
    service,
    trailer,
    server: http,
    path: '/ws',
    // Reasons go out with every item: the page's "Why this?" reads them from the item frame.
    reasons: true,
    heartbeatMs: ops.heartbeatMs,
    handshakeTimeoutMs: ops.handshakeTimeoutMs,
    limits: { maxPayload: ops.maxPayload, maxCredit: ops.maxCredit, maxPending: ops.maxPending },
    serverLimits: {
      maxConnections: ops.maxConnections,
      maxConnectionsPerAddress: ops.maxConnectionsPerAddress,
      maxBufferedBytes: ops.maxBufferedBytes,
      messagesPerSecond: ops.messagesPerSecond,
      messageBurst: ops.messageBurst,
      maxSessionsPerPrincipal: ops.maxSessionsPerPrincipal,
      sessionStartsPerMinute: ops.sessionStartsPerMinute,
      maxInFlight: ops.maxInFlight,
      overloadLagMs: ops.overloadLagMs,
      overloadRefreshWaitMs: ops.overloadRefreshWaitMs,
      drainTimeoutMs: ops.drainTimeoutMs,
    },
    authenticate,
    allowedOrigins: ops.allowedOrigins?.includes('*') ? '*' : ops.allowedOrigins,
    trustProxy: ops.trustProxy,
    observer: metrics.observer(logObserver(log)),
  });
  const wsServer = ws;
  const held = memoryStore;
  metrics.bind({
    connections: () => wsServer.connections(),
    sessions: () => wsServer.sessions(),
    draining: () => wsServer.draining(),
    memoryStore: held && (() => held.stats()),
    refreshesWaiting: () => refreshes.length,
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  log.info(
    {
      event: 'server.started',
      store: ops.redisCluster?.length
        ? `cluster ${ops.redisCluster.join(',')}`
        : config.redisUrl
          ? redactUrl(config.redisUrl)
          : ops.dataDir
            ? `file ${ops.dataDir}`
            : 'memory',
      auth: authenticate ? Object.keys(auth).join('+') : 'off',
    },
    `omakase ${config.nodeId}: ${runtime.description}; sessions in ${ops.redisCluster?.length ? `Redis Cluster (${ops.redisCluster.join(',')})` : config.redisUrl ? `Redis (${redactUrl(config.redisUrl)})` : ops.dataDir ? `${ops.dataDir}/ (a restart keeps them)` : 'memory'}`,
  );
  log.info(
    { event: 'server.listening', port },
    `listening on ws://${config.host}:${port}/ws  (web client: http://${config.host}:${port}/)`,
  );

  let closing: Promise<void> | undefined;
  const sessionsClosed: (() => Promise<void>)[] = [];
  return {
    onSessionsClosed: (hook) => {
      sessionsClosed.push(hook);
    },
    http,
    ws: wsServer,
    service,
    store,
    trailer,
    metrics,
    url: `ws://${config.host}:${port}/ws`,
    drain: () => wsServer.drain(),
    close: () => {
      closing ??= (async () => {
        await wsServer.drain();
        await wsServer.close();
        await service.close();
        for (const hook of sessionsClosed) await hook().catch(() => {});
        await store.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeIdleConnections();
        });
      })();
      return closing;
    },
  };
}
