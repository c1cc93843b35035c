import type { ServerLimits } from '../ws/admission.ts';

/**
 * The shapes of the operations settings of `serve`: one `Setting` row per flag and environment variable, and
 * the `OpsConfig` they are read into. The rows themselves are grouped by concern in the `*Settings.ts` files.
 */

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
