import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ENGINE_PRESET_NAMES, ENGINE_PRESETS, type EnginePreset } from '../../../engine/config.ts';
import { configFromEnv, OPS_SETTINGS, opsConfig } from '../../config.ts';
import { createLogger } from '../../http/logger.ts';
import { startServeApp } from '../../http/serveApp.ts';
import { engineHistoryWindow, loadRuntime } from '../../runtime.ts';
import { startVoiceEndpoint } from '../../voice/voiceEndpoint.ts';
import type { VoiceServer } from '../../voice/voiceServer.ts';

/**
 * `omakase serve` (`npm start`): sessions over WebSockets at /ws, the infinite-scroll page at /, /healthz,
 * /readyz and /metrics, on the demo catalog and model unless configured. With REDIS_URL (or --redis),
 * sessions live in Redis and several nodes can share them. Every setting: docs/operations.md.
 */
export function serveCommand(): Command {
  const command = new Command('serve')
    .description('serve sessions over WebSockets (ws://HOST:PORT/ws) and the web client (http://HOST:PORT/)')
    .option('--port <port>', 'port (env PORT, default 8080; 0 picks a free one)')
    .option('--host <host>', 'host (env HOST, default 127.0.0.1)')
    .option('--redis <url>', 'share sessions through Redis (env REDIS_URL)')
    .option('--redis-prefix <prefix>', 'key prefix in Redis (env OMAKASE_REDIS_PREFIX, default omakase)')
    .option('--memory', 'keep sessions in memory only (lost on exit), even when REDIS_URL is set')
    .option('--catalog <file>', 'a JSONL catalog (env OMAKASE_CATALOG)')
    .option('--sessions <file>', 'logged sessions for the transition memory (env OMAKASE_SESSIONS)')
    .option('--model <dir>', 'a model directory (env OMAKASE_MODEL)')
    .option(
      '--preset <name>',
      `engine settings for the kind of service (${ENGINE_PRESET_NAMES.join(', ')}; engine/config.ts), default served`,
      'served',
    )
    .option('--node-id <id>', 'name of this node in logs and session records (env OMAKASE_NODE_ID)')
    .option(
      '--alexa-skill-id <id>',
      'serve the Alexa voice endpoint for this skill (env OMAKASE_ALEXA_SKILL_ID)',
    )
    .option(
      '--stream-url <template>',
      'https URL of an item without its own streamUrl, {id} = item id (env OMAKASE_STREAM_URL)',
    )
    .option(
      '--voice-port <port>',
      'port of the voice endpoint, POST /alexa (env OMAKASE_VOICE_PORT, default 8081)',
    )
    .option(
      '--alexa-unverified',
      'do NOT check that requests come from Alexa: a local demo only (env OMAKASE_ALEXA_VERIFY=off)',
    )
    .option(
      '--alexa-trust-root <pem>',
      'also trust this root for request signatures, e.g. a test PKI (env OMAKASE_ALEXA_TRUST_ROOT)',
    )
    .addHelpText(
      'after',
      '\nThe voice endpoint runs when a skill id is set; it is plain HTTP on 127.0.0.1 by default, meant to sit\nbehind a TLS proxy (Alexa calls https on port 443). Settings and the skill set-up: docs/voice.md.',
    );
  for (const setting of OPS_SETTINGS) {
    const shown = setting.default === undefined ? '' : `, default ${setting.default}`;
    const flag =
      setting.kind === 'bool' ? setting.flag : `${setting.flag} <${setting.kind === 'int' ? 'n' : 'value'}>`;
    command.option(flag, `${setting.doc} (env ${setting.env}${shown})`);
  }
  return command.action(async (opts) => {
    if (!ENGINE_PRESET_NAMES.includes(opts.preset))
      throw new InvalidArgumentError(`--preset must be one of ${ENGINE_PRESET_NAMES.join(', ')}`);
    const env = configFromEnv();
    const config = {
      ...env,
      port: opts.port === undefined ? env.port : Number(opts.port),
      host: opts.host ?? env.host,
      redisUrl: opts.memory ? undefined : (opts.redis ?? env.redisUrl),
      redisPrefix: opts.redisPrefix ?? env.redisPrefix,
      catalogPath: opts.catalog ?? env.catalogPath,
      sessionsPath: opts.sessions ?? env.sessionsPath,
      modelDir: opts.model ?? env.modelDir,
      nodeId: opts.nodeId ?? env.nodeId,
      alexaSkillId: opts.alexaSkillId ?? env.alexaSkillId,
      streamUrlTemplate: opts.streamUrl ?? env.streamUrlTemplate,
      voicePort: opts.voicePort === undefined ? env.voicePort : Number(opts.voicePort),
      alexaVerify: opts.alexaUnverified ? false : env.alexaVerify,
      alexaTrustRootPath: opts.alexaTrustRoot ?? env.alexaTrustRootPath,
    };
    const ops = opsConfig(opts);
    // --memory, or an explicit --redis, wins over a cluster named only in the environment.
    if (opts.memory) {
      ops.redisCluster = undefined;
      ops.dataDir = '';
    } else if (opts.redis && opts.redisCluster === undefined) ops.redisCluster = undefined;
    const log = createLogger({ level: ops.logLevel, nodeId: config.nodeId });
    const runtime = await loadRuntime({
      ...config,
      config: {
        ...ENGINE_PRESETS[opts.preset as EnginePreset],
        historyWindow: engineHistoryWindow(ops.historyWindow),
      },
      warn: (m) => log.warn({ event: 'runtime.warning' }, m),
    });
    const app = await startServeApp({ config, ops, runtime, log });

    let voice: (VoiceServer & { flushRecords(): Promise<void> }) | undefined;
    if (config.alexaSkillId) {
      if (!Number.isInteger(config.voicePort) || config.voicePort < 0 || config.voicePort > 65535)
        throw new Error(`--voice-port must be an integer from 0 to 65535 (got "${opts.voicePort}").`);
      voice = await startVoiceEndpoint({
        service: app.service,
        catalog: runtime.catalog,
        skillId: config.alexaSkillId,
        streamUrlTemplate: config.streamUrlTemplate,
        verify: config.alexaVerify,
        trustRootsPem: config.alexaTrustRootPath && readFileSync(config.alexaTrustRootPath, 'utf8'),
        port: config.voicePort,
        host: config.host,
        log: (m) => log.info({ event: 'voice.listening' }, m),
        warn: (m) => log.warn({ event: 'voice.warning' }, m),
        trailer: app.trailer,
      });
      const endpoint = voice;
      app.onSessionsClosed(() => endpoint.flushRecords());
    }

    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(
        { event: 'server.draining', signal },
        'draining: no new sessions, requests in flight answered, then sockets closed with 1001 (resume elsewhere)',
      );
      await voice?.close();
      await app.close();
      log.info({ event: 'server.stopped' }, 'stopped');
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
