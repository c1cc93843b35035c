import type { Setting } from './opsSetting.ts';

/**
 * Settings of the HTTP edge: who may connect (API keys, JWT, page Origins, a trusted proxy), the HTTP
 * server's own timeouts and sizes, and the log level.
 */
export const EDGE_SETTINGS: readonly Setting[] = [
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
