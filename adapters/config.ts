/**
 * Configuration from the environment: the only place omakase reads `process.env` (this module and the
 * settings of `serve` in ./config/).
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

// The operations settings of `serve` live in ./config/, one file per group; they are re-exported here so that
// this stays the one module callers read configuration from.
export { OPS_SETTINGS, opsConfig } from './config/opsConfig.ts';
export type { OpsConfig, Setting } from './config/opsSetting.ts';
