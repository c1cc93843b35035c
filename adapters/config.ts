import type { ServerLimits } from './ws/admission.ts';
/**
 * Configuration from the environment: the only place omakase reads `process.env`.
 * Command-line flags, where a command has them, win over these.
 */
export interface ServerConfig {
  host: string;
  port: number;
  /** Shared session store; in-memory sessions when unset. */
  redisUrl?: string;
  /** Key prefix in Redis (default `omakase`), so deployments and test runs can share one server. */
  redisPrefix?: string;
  catalogPath?: string;
  sessionsPath?: string;
  modelDir?: string;
  /** Alexa skill id: when set, the voice endpoint is served too (docs/voice.md). */
  alexaSkillId?: string;
  /** Template of the https URL Alexa streams an item from; `{id}` is replaced by the item id. */
  streamUrlTemplate?: string;
  voicePort: number;
  /** False only when OMAKASE_ALEXA_VERIFY=off: requests are not checked for Alexa's signature (local demo). */
  alexaVerify: boolean;
  /** A PEM file of extra roots the request signature may chain to (a test PKI), beside Node's bundled ones. */
  alexaTrustRootPath?: string;
  /** Name of this node in logs and session ownership records. */
  nodeId: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const port = env.PORT === undefined ? 8080 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535 (got "${env.PORT}").`);
  }
  const voicePort = env.OMAKASE_VOICE_PORT === undefined ? 8081 : Number(env.OMAKASE_VOICE_PORT);
  if (!Number.isInteger(voicePort) || voicePort < 0 || voicePort > 65535) {
    throw new Error(
      `OMAKASE_VOICE_PORT must be an integer from 0 to 65535 (got "${env.OMAKASE_VOICE_PORT}").`,
    );
  }
  const verify = (env.OMAKASE_ALEXA_VERIFY ?? 'on').toLowerCase();
  if (verify !== 'on' && verify !== 'off') {
    throw new Error(`OMAKASE_ALEXA_VERIFY must be "on" or "off" (got "${env.OMAKASE_ALEXA_VERIFY}").`);
  }
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.OMAKASE_REDIS_PREFIX || undefined,
    catalogPath: env.OMAKASE_CATALOG || undefined,
    sessionsPath: env.OMAKASE_SESSIONS || undefined,
    modelDir: env.OMAKASE_MODEL || undefined,
    alexaSkillId: env.OMAKASE_ALEXA_SKILL_ID || undefined,
    streamUrlTemplate: env.OMAKASE_STREAM_URL || undefined,
    voicePort,
    alexaVerify: verify === 'on',
    alexaTrustRootPath: env.OMAKASE_ALEXA_TRUST_ROOT || undefined,
    nodeId: env.OMAKASE_NODE_ID ?? `node-${process.pid}`,
  };
}

// ---- operations settings of `serve` (docs/operations.md lists every one; a test keeps the two in step) ----

/** One setting of `serve`: its flag, its environment variable, its kind and default, and what it does. */
export interface Setting {
  /** Key in `OpsConfig`. */
  key: keyof OpsConfig;
  flag: string;
  env: string;
  kind: 'int' | 'string' | 'bool' | 'list';
  default?: number | string | boolean | readonly string[];
  doc: string;
}

/**
 * Settings that change how `serve` runs in front of real listeners: sessions, limits (the ws server's own
 * `ServerLimits`, not restated), auth, logs.
 */
export interface OpsConfig extends ServerLimits {
  graceMs: number;
  idleMs: number;
  historyWindow: number;
  storeTtlMs: number;
  endedTtlMs: number;
  redisTimeoutMs: number;
  redisCluster?: readonly string[];
  dataDir: string;
  logMaxAgeMs: number;
  logMaxBytes: number;
  heartbeatMs: number;
  handshakeTimeoutMs: number;
  maxPayload: number;
  maxCredit: number;
  maxPending: number;
  apiKeysFile?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtJwksUrl?: string;
  jwtKeyFile?: string;
  allowedOrigins?: readonly string[];
  trustProxy: boolean;
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  httpMaxHeaderBytes: number;
  logLevel: string;
}

export const OPS_SETTINGS: readonly Setting[] = [
  {
    key: 'graceMs',
    flag: '--grace-ms',
    env: 'OMAKASE_GRACE_MS',
    kind: 'int',
    default: 120_000,
    doc: 'how long a disconnected session waits for a resume',
  },
  {
    key: 'idleMs',
    flag: '--idle-ms',
    env: 'OMAKASE_IDLE_MS',
    kind: 'int',
    default: 1_800_000,
    doc: 'a session with no request for this long ends',
  },
  {
    key: 'historyWindow',
    flag: '--history-window',
    env: 'OMAKASE_HISTORY_WINDOW',
    kind: 'int',
    default: 100,
    doc: 'delivered items kept per session: feedback reaches them, a resume re-sends them',
  },
  {
    key: 'storeTtlMs',
    flag: '--store-ttl-ms',
    env: 'OMAKASE_STORE_TTL_MS',
    kind: 'int',
    default: 86_400_000,
    doc: 'a stored session expires this long after its last write',
  },
  {
    key: 'endedTtlMs',
    flag: '--ended-ttl-ms',
    env: 'OMAKASE_ENDED_TTL_MS',
    kind: 'int',
    default: 300_000,
    doc: 'an ended session is kept this long after its final write',
  },
  {
    key: 'redisTimeoutMs',
    flag: '--redis-timeout-ms',
    env: 'OMAKASE_REDIS_TIMEOUT_MS',
    kind: 'int',
    default: 2_000,
    doc: 'every Redis command fails (SESSION_STORE_UNAVAILABLE, retryable) after this long',
  },
  {
    key: 'redisCluster',
    flag: '--redis-cluster',
    env: 'OMAKASE_REDIS_CLUSTER',
    kind: 'list',
    doc: 'share sessions through a Redis Cluster: comma-separated seed nodes host:port (instead of --redis)',
  },
  {
    key: 'dataDir',
    flag: '--data-dir',
    env: 'OMAKASE_DATA_DIR',
    kind: 'string',
    default: 'omakase-data',
    doc: 'without Redis: each session and its event log on disk here, so a restart keeps them (replay reads it); `--memory` keeps nothing',
  },
  {
    key: 'logMaxAgeMs',
    flag: '--log-max-age-ms',
    env: 'OMAKASE_LOG_MAX_AGE_MS',
    kind: 'int',
    default: 604_800_000,
    doc: 'a finished or expired session log stays in the data directory this long for replay',
  },
  {
    key: 'logMaxBytes',
    flag: '--log-max-bytes',
    env: 'OMAKASE_LOG_MAX_BYTES',
    kind: 'int',
    default: 1_073_741_824,
    doc: 'the data directory above this size: the oldest finished logs are deleted first',
  },
  {
    key: 'heartbeatMs',
    flag: '--heartbeat-ms',
    env: 'OMAKASE_HEARTBEAT_MS',
    kind: 'int',
    default: 30_000,
    doc: 'WS ping interval; a socket that did not answer the last ping is cut',
  },
  {
    key: 'handshakeTimeoutMs',
    flag: '--handshake-timeout-ms',
    env: 'OMAKASE_HANDSHAKE_TIMEOUT_MS',
    kind: 'int',
    default: 5_000,
    doc: 'time from connect to welcome (close 4408)',
  },
  {
    key: 'maxPayload',
    flag: '--max-payload',
    env: 'OMAKASE_MAX_PAYLOAD',
    kind: 'int',
    default: 4_096,
    doc: 'largest inbound frame in bytes (close 1009)',
  },
  {
    key: 'maxCredit',
    flag: '--max-credit',
    env: 'OMAKASE_MAX_CREDIT',
    kind: 'int',
    default: 100,
    doc: 'largest outstanding credit per connection',
  },
  {
    key: 'maxPending',
    flag: '--max-pending',
    env: 'OMAKASE_MAX_PENDING',
    kind: 'int',
    default: 32,
    doc: 'requests waiting per connection (PROTO_TOO_MANY_REQUESTS)',
  },
  {
    key: 'maxConnections',
    flag: '--max-connections',
    env: 'OMAKASE_MAX_CONNECTIONS',
    kind: 'int',
    default: 10_000,
    doc: 'open sockets on this node (close 1013)',
  },
  {
    key: 'maxConnectionsPerAddress',
    flag: '--max-connections-per-address',
    env: 'OMAKASE_MAX_CONNECTIONS_PER_ADDRESS',
    kind: 'int',
    default: 200,
    doc: 'open sockets from one client address (close 1013)',
  },
  {
    key: 'maxBufferedBytes',
    flag: '--max-buffered-bytes',
    env: 'OMAKASE_MAX_BUFFERED_BYTES',
    kind: 'int',
    default: 1_048_576,
    doc: 'bytes waiting for one client to read (close 4413)',
  },
  {
    key: 'messagesPerSecond',
    flag: '--messages-per-second',
    env: 'OMAKASE_MESSAGES_PER_SECOND',
    kind: 'int',
    default: 50,
    doc: 'frames per connection per second, on average (close 4429)',
  },
  {
    key: 'messageBurst',
    flag: '--message-burst',
    env: 'OMAKASE_MESSAGE_BURST',
    kind: 'int',
    default: 200,
    doc: 'frames per connection in one burst',
  },
  {
    key: 'maxSessionsPerPrincipal',
    flag: '--max-sessions-per-principal',
    env: 'OMAKASE_MAX_SESSIONS_PER_PRINCIPAL',
    kind: 'int',
    default: 200,
    doc: 'open sessions of one principal on this node (close 1013)',
  },
  {
    key: 'sessionStartsPerMinute',
    flag: '--session-starts-per-minute',
    env: 'OMAKASE_SESSION_STARTS_PER_MINUTE',
    kind: 'int',
    default: 120,
    doc: 'sessions one principal may start per minute (close 1013)',
  },
  {
    key: 'maxInFlight',
    flag: '--max-in-flight',
    env: 'OMAKASE_MAX_IN_FLIGHT',
    kind: 'int',
    default: 20_000,
    doc: 'requests in flight on the node above which new sessions are refused (1013)',
  },
  {
    key: 'overloadLagMs',
    flag: '--overload-lag-ms',
    env: 'OMAKASE_OVERLOAD_LAG_MS',
    kind: 'int',
    default: 2_000,
    doc: 'event-loop delay (p99 over 1 s) above which new sessions are refused; 0 = off',
  },
  {
    key: 'overloadRefreshWaitMs',
    flag: '--overload-refresh-wait-ms',
    env: 'OMAKASE_OVERLOAD_REFRESH_WAIT_MS',
    kind: 'int',
    default: 10_000,
    doc: "how long the node's oldest due refresh may wait before new sessions are refused; 0 = off",
  },
  {
    key: 'drainTimeoutMs',
    flag: '--drain-timeout-ms',
    env: 'OMAKASE_DRAIN_TIMEOUT_MS',
    kind: 'int',
    default: 10_000,
    doc: 'on SIGTERM, how long requests in flight may take before sockets close anyway',
  },
  {
    key: 'apiKeysFile',
    flag: '--api-keys-file',
    env: 'OMAKASE_API_KEYS_FILE',
    kind: 'string',
    doc: 'turns on API keys: a file of `name:key` lines (keys never go on the command line)',
  },
  {
    key: 'jwtIssuer',
    flag: '--jwt-issuer',
    env: 'OMAKASE_JWT_ISSUER',
    kind: 'string',
    doc: 'required JWT `iss`',
  },
  {
    key: 'jwtAudience',
    flag: '--jwt-audience',
    env: 'OMAKASE_JWT_AUDIENCE',
    kind: 'string',
    doc: 'required JWT `aud`',
  },
  {
    key: 'jwtJwksUrl',
    flag: '--jwt-jwks-url',
    env: 'OMAKASE_JWT_JWKS_URL',
    kind: 'string',
    doc: 'turns on JWT: verify with the keys at this JWKS URL',
  },
  {
    key: 'jwtKeyFile',
    flag: '--jwt-key-file',
    env: 'OMAKASE_JWT_KEY_FILE',
    kind: 'string',
    doc: 'turns on JWT: verify with this PEM public key, JWK or JWKS file',
  },
  {
    key: 'allowedOrigins',
    flag: '--allowed-origins',
    env: 'OMAKASE_ALLOWED_ORIGINS',
    kind: 'list',
    doc: 'comma-separated page Origins that may open sockets besides the same host; `*` for any',
  },
  {
    key: 'trustProxy',
    flag: '--trust-proxy',
    env: 'OMAKASE_TRUST_PROXY',
    kind: 'bool',
    default: false,
    doc: 'take the client address from X-Forwarded-For (only behind your own proxy)',
  },
  {
    key: 'httpHeadersTimeoutMs',
    flag: '--http-headers-timeout-ms',
    env: 'OMAKASE_HTTP_HEADERS_TIMEOUT_MS',
    kind: 'int',
    default: 10_000,
    doc: 'time for a client to send its request headers',
  },
  {
    key: 'httpRequestTimeoutMs',
    flag: '--http-request-timeout-ms',
    env: 'OMAKASE_HTTP_REQUEST_TIMEOUT_MS',
    kind: 'int',
    default: 30_000,
    doc: 'time for a whole HTTP request',
  },
  {
    key: 'httpKeepAliveTimeoutMs',
    flag: '--http-keep-alive-timeout-ms',
    env: 'OMAKASE_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    kind: 'int',
    default: 5_000,
    doc: 'idle keep-alive HTTP connections close after this',
  },
  {
    key: 'httpMaxHeaderBytes',
    flag: '--http-max-header-bytes',
    env: 'OMAKASE_HTTP_MAX_HEADER_BYTES',
    kind: 'int',
    default: 16_384,
    doc: 'largest request header block',
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'OMAKASE_LOG_LEVEL',
    kind: 'string',
    default: 'info',
    doc: 'pino level: debug (every close), info, warn, error, silent',
  },
];

/** Reads a setting's raw text (a flag wins over the environment) into its kind; a clear error otherwise. */
function settingValue(setting: Setting, raw: string | boolean | undefined): OpsConfig[keyof OpsConfig] {
  if (raw === undefined || raw === '') return setting.default as OpsConfig[keyof OpsConfig];
  const where = `${setting.flag} (env ${setting.env})`;
  switch (setting.kind) {
    case 'int': {
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < 0)
        throw new Error(`${where} must be a whole number ≥ 0 (got "${raw}").`);
      return n;
    }
    case 'bool':
      if (raw === true || raw === '1' || raw === 'true') return true;
      if (raw === false || raw === '0' || raw === 'false') return false;
      throw new Error(`${where} must be true or false (got "${raw}").`);
    case 'list':
      return String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'string':
      return String(raw);
  }
}

/**
 * The operations settings from flags (commander's camelCase option names) over the environment over defaults.
 * @example opsConfig({ graceMs: '60000' }, {}).graceMs // 60000
 */
export function opsConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): OpsConfig {
  const out: Record<string, unknown> = {};
  for (const setting of OPS_SETTINGS) {
    const flag = flags[setting.key] as string | boolean | undefined;
    out[setting.key] = settingValue(setting, flag ?? env[setting.env]);
  }
  return out as unknown as OpsConfig;
}
