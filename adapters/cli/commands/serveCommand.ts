import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Command } from 'commander';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createRedisStore } from '../../../sessions/redisStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import { configFromEnv } from '../../config.ts';
import { loadRuntime } from '../../runtime.ts';
import { startVoiceEndpoint } from '../../voice/voiceEndpoint.ts';
import type { VoiceServer } from '../../voice/voiceServer.ts';
import { catalogLookup } from '../../web/catalogLookup.ts';
import { createWebApp } from '../../web/webApp.ts';
import { createWsServer } from '../../ws/wsServer.ts';

/**
 * `omakase serve` (`npm start`): sessions over WebSockets at /ws and the infinite-scroll page at /, on the
 * demo catalog and model unless configured. With REDIS_URL (or --redis), sessions live in Redis and several
 * nodes can share them.
 */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve sessions over WebSockets (ws://HOST:PORT/ws) and the web client (http://HOST:PORT/)')
    .option('--port <port>', 'port (env PORT, default 8080; 0 picks a free one)')
    .option('--host <host>', 'host (env HOST, default 127.0.0.1)')
    .option('--redis <url>', 'share sessions through Redis (env REDIS_URL)')
    .option('--memory', 'keep sessions in memory even when REDIS_URL is set')
    .option('--catalog <file>', 'a JSONL catalog (env OMAKASE_CATALOG)')
    .option('--sessions <file>', 'logged sessions for the transition memory (env OMAKASE_SESSIONS)')
    .option('--model <dir>', 'a model directory (env OMAKASE_MODEL)')
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
    )
    .action(async (opts) => {
      const env = configFromEnv();
      const config = {
        ...env,
        port: opts.port === undefined ? env.port : Number(opts.port),
        host: opts.host ?? env.host,
        redisUrl: opts.memory ? undefined : (opts.redis ?? env.redisUrl),
        catalogPath: opts.catalog ?? env.catalogPath,
        sessionsPath: opts.sessions ?? env.sessionsPath,
        modelDir: opts.model ?? env.modelDir,
        alexaSkillId: opts.alexaSkillId ?? env.alexaSkillId,
        streamUrlTemplate: opts.streamUrl ?? env.streamUrlTemplate,
        voicePort: opts.voicePort === undefined ? env.voicePort : Number(opts.voicePort),
        alexaVerify: opts.alexaUnverified ? false : env.alexaVerify,
        alexaTrustRootPath: opts.alexaTrustRoot ?? env.alexaTrustRootPath,
      };
      const log = (m: string) => process.stdout.write(`${m}\n`);
      const runtime = await loadRuntime({ ...config, warn: (m) => process.stderr.write(`omakase: ${m}\n`) });
      const store = config.redisUrl
        ? createRedisStore({ url: config.redisUrl, prefix: config.redisPrefix })
        : createMemoryStore();
      const provenance = runtime.card && {
        model: `${runtime.card.name}@${runtime.card.version}`,
        sha256: runtime.card.sha256,
        runtime: runtime.card.runtime,
      };
      const service = createSessionManager({
        engine: runtime.engine,
        store,
        nodeId: config.nodeId,
        provenance,
      });
      const web = await createWebApp({ catalog: catalogLookup(runtime.catalog) });
      const http = createServer(web);
      // Reasons go out with every item: the page's "Why this?" reads them from the item frame.
      const ws = await createWsServer({ service, server: http, path: '/ws', reasons: true });
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(config.port, config.host, resolve);
      });
      const address = http.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      log(
        `omakase ${config.nodeId}: ${runtime.description}; sessions in ${config.redisUrl ? `Redis (${config.redisUrl})` : 'memory'}`,
      );
      log(`listening on ws://${config.host}:${port}/ws  (web client: http://${config.host}:${port}/)`);
      let voice: VoiceServer | undefined;
      if (config.alexaSkillId) {
        if (!Number.isInteger(config.voicePort) || config.voicePort < 0 || config.voicePort > 65535)
          throw new Error(`--voice-port must be an integer from 0 to 65535 (got "${opts.voicePort}").`);
        voice = await startVoiceEndpoint({
          service,
          catalog: runtime.catalog,
          skillId: config.alexaSkillId,
          streamUrlTemplate: config.streamUrlTemplate,
          verify: config.alexaVerify,
          trustRootsPem: config.alexaTrustRootPath && readFileSync(config.alexaTrustRootPath, 'utf8'),
          port: config.voicePort,
          host: config.host,
          log,
          warn: (m) => process.stderr.write(`${m}\n`),
        });
      }

      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        log('shutting down: closing sockets (sessions keep their grace window)');
        await voice?.close();
        await ws.close();
        await new Promise((resolve) => http.close(resolve));
        await service.close();
        await store.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
