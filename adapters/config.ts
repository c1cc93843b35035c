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
  /** Name of this node in logs and session ownership records. */
  nodeId: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const port = env.PORT === undefined ? 8080 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535 (got "${env.PORT}").`);
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
    voicePort: env.OMAKASE_VOICE_PORT === undefined ? 8081 : Number(env.OMAKASE_VOICE_PORT),
    nodeId: env.OMAKASE_NODE_ID ?? `node-${process.pid}`,
  };
}
