import { createServer } from 'node:http';
import { Command } from 'commander';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createRedisStore } from '../../../sessions/redisStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import { configFromEnv } from '../../config.ts';
import { loadRuntime } from '../../runtime.ts';
import { createAlexaHandler } from '../../voice/alexaHandler.ts';
import { createRequestVerifier } from '../../voice/requestVerifier.ts';
import { createVoiceServer, type VoiceServer } from '../../voice/voiceServer.ts';
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
        if (!config.streamUrlTemplate?.startsWith('https://')) {
          throw new Error(
            'OMAKASE_ALEXA_SKILL_ID needs OMAKASE_STREAM_URL, an https URL template with {id}.',
          );
        }
        const template = config.streamUrlTemplate;
        const handler = createAlexaHandler({
          service,
          skillId: config.alexaSkillId,
          streamUrl: (id) => template.replace('{id}', encodeURIComponent(id)),
          verify: createRequestVerifier({ skillId: config.alexaSkillId }),
        });
        voice = await createVoiceServer({ handler, port: config.voicePort, host: config.host });
        log(`voice (Alexa AudioPlayer) endpoint: ${voice.url}`);
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
