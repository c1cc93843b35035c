/**
 * The voice endpoint's answer time as Alexa sees it: PlaybackNearlyFinished → the ENQUEUE answer, over
 * loopback HTTP (keep-alive, one request at a time, like one device), on the demo engine `npm start` serves
 * (its catalog and model), the memory store and default session settings. Between two timed requests the
 * device reports the item finished and the next one started, as a player does; those are not timed.
 * Request verification is off (`UNVERIFIED`): what is timed is the adapter, the session and the engine.
 * Then the same stream with the handler called in process (what HTTP adds), and over a session service that
 * answers at once (the adapter's own share).
 * Last line: one JSON object.
 *
 *   npm run bench:voice        (BENCH_VOICE_REQUESTS overrides the 1,000 timed requests)
 */
import { Agent, request } from 'node:http';
import { loadRuntime } from '../adapters/runtime.ts';
import { createAlexaHandler, UNVERIFIED } from '../adapters/voice/alexaHandler.ts';
import type { AlexaResponseEnvelope, PlayDirective } from '../adapters/voice/alexaResponse.ts';
import { streamUrlTemplate } from '../adapters/voice/voiceEndpoint.ts';
import { createVoiceServer } from '../adapters/voice/voiceServer.ts';
import { createMemoryStore } from '../sessions/memoryStore.ts';
import { createSessionManager } from '../sessions/sessionManager.ts';
import type { SessionService } from '../sessions/sessionService.ts';

const REQUESTS = Number(process.env.BENCH_VOICE_REQUESTS ?? 1000);
const WARMUP = 50;
const GOAL_P99_MS = 5;
const SKILL_ID = 'amzn1.ask.skill.voice-bench';
const log = (m: string): void => void process.stdout.write(`${m}\n`);

const runtime = await loadRuntime();
const service = createSessionManager({ engine: runtime.engine, store: createMemoryStore() });
const handler = createAlexaHandler({
  service,
  catalog: runtime.catalog,
  skillId: SKILL_ID,
  streamUrl: streamUrlTemplate('https://media.example.com/{id}.mp3'),
  verify: UNVERIFIED,
  warn: () => {},
  onError: (err) => {
    throw err;
  },
});
const server = await createVoiceServer({ handler, port: 0 });
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

const post = (body: string) => postTo(server.url, body);
function postTo(url: string, body: string): Promise<AlexaResponseEnvelope> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`answered ${res.statusCode}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

let n = 0;
function envelope(request: Record<string, unknown>, token?: string): string {
  return JSON.stringify({
    version: '1.0',
    context: {
      ...(token ? { AudioPlayer: { token, offsetInMilliseconds: 0, playerActivity: 'PLAYING' } } : {}),
      System: {
        application: { applicationId: SKILL_ID },
        user: { userId: 'amzn1.ask.account.bench' },
        device: { deviceId: 'amzn1.ask.device.bench', supportedInterfaces: { AudioPlayer: {} } },
      },
    },
    request: {
      requestId: `bench.${++n}`,
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      locale: 'en-US',
      ...request,
    },
  });
}
const audio = (type: string, token: string, offset: number) =>
  envelope({ type: `AudioPlayer.${type}`, token, offsetInMilliseconds: offset }, token);
const playOf = (answer: AlexaResponseEnvelope) => {
  const play = answer.response.directives?.find((d): d is PlayDirective => d.type === 'AudioPlayer.Play');
  if (!play) throw new Error(`no Play in ${JSON.stringify(answer)}`);
  return play;
};

/** One device's stream: `count` PlaybackNearlyFinished answers timed, each sent through `send`. */
async function listen(send: (body: string) => Promise<AlexaResponseEnvelope>, count: number) {
  let token = playOf(await send(envelope({ type: 'LaunchRequest' }))).audioItem.stream.token;
  await send(audio('PlaybackStarted', token, 0));
  const times: number[] = [];
  const items = new Set<string>();
  for (let i = 0; i < WARMUP + count; i++) {
    const body = audio('PlaybackNearlyFinished', token, 170_000);
    const t = performance.now();
    const answer = await send(body);
    const ms = performance.now() - t;
    if (i >= WARMUP) times.push(ms);
    const play = playOf(answer);
    if (play.playBehavior !== 'ENQUEUE' || play.audioItem.stream.expectedPreviousToken !== token)
      throw new Error(`not an ENQUEUE after ${token}: ${JSON.stringify(play)}`);
    await send(audio('PlaybackFinished', token, 180_000));
    token = play.audioItem.stream.token;
    items.add(token.split(':')[2]);
    await send(audio('PlaybackStarted', token, 0));
  }
  return { times: times.sort((a, b) => a - b), items: items.size };
}

const inProcess = async (body: string) => (await handler(body)).body as AlexaResponseEnvelope;
const { times, items } = await listen(post, REQUESTS);
// The same stream with the handler called directly: what HTTP and the socket add.
const direct = await listen(inProcess, REQUESTS);

/**
 * A session service that answers at once (the catalog's items in order, no engine, no store): the handler
 * over it, behind the same HTTP server, is the adapter's own share of an answer.
 */
function instantService(): SessionService {
  let seq = 0;
  const none = async () => ({ invalidated: [] });
  return {
    start: async () => ({
      sessionId: 'instant',
      resumeToken: 'x',
      status: 'streaming',
      lastSeq: 0,
      missed: [],
      graceMs: 0,
    }),
    resume: async () => {
      throw new Error('not used');
    },
    more: async () => {
      const item = runtime.catalog.items[seq % runtime.catalog.size];
      seq++;
      return [
        {
          pos: seq - 1,
          seq,
          id: item.id,
          title: item.title,
          artist: item.artist,
          durationMs: item.durationMs,
          startMs: 0,
          score: 0,
          propensity: 1,
          degraded: false,
          reasons: {
            source: [],
            score: 0,
            rank: 0,
            mmr: 0,
            explored: false,
            degraded: false,
            model: '',
            rules: [],
            removed: {},
            candidates: 0,
          },
        },
      ];
    },
    feedback: none,
    steer: none,
    pause: async () => {},
    play: async () => {},
    end: async () => {},
    disconnected: () => {},
    subscribe: () => () => {},
    close: async () => {},
  };
}
const bareHandler = createAlexaHandler({
  service: instantService(),
  catalog: runtime.catalog,
  skillId: SKILL_ID,
  streamUrl: streamUrlTemplate('https://media.example.com/{id}.mp3'),
  verify: UNVERIFIED,
  warn: () => {},
});
const bareServer = await createVoiceServer({ handler: bareHandler, port: 0 });
const bare = await listen((body) => postTo(bareServer.url, body), REQUESTS);
await bareServer.close();
await server.close();
await service.close();
agent.destroy();

const quantile = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const at = (q: number) => quantile(times, q);
const round = (x: number) => Math.round(x * 1000) / 1000;
const result = {
  bench: 'voice',
  catalog: runtime.description,
  requests: times.length,
  p50Ms: round(at(0.5)),
  p90Ms: round(at(0.9)),
  p99Ms: round(at(0.99)),
  maxMs: round(times[times.length - 1]),
  meanMs: round(times.reduce((a, b) => a + b, 0) / times.length),
  distinctItems: items,
  inProcessP50Ms: round(quantile(direct.times, 0.5)),
  inProcessP99Ms: round(quantile(direct.times, 0.99)),
  adapterOnlyP50Ms: round(quantile(bare.times, 0.5)),
  adapterOnlyP99Ms: round(quantile(bare.times, 0.99)),
  goalP99Ms: GOAL_P99_MS,
  goalMet: at(0.99) <= GOAL_P99_MS,
};
log(
  `PlaybackNearlyFinished → ENQUEUE over loopback HTTP, ${times.length} requests (${WARMUP} warm-up not counted): p50 ${result.p50Ms} ms, p90 ${result.p90Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms; goal p99 ≤ ${GOAL_P99_MS} ms ${result.goalMet ? 'met' : 'NOT met'}`,
);
log(
  `the handler called in process (no HTTP): p50 ${result.inProcessP50Ms} ms, p99 ${result.inProcessP99Ms} ms`,
);
log(
  `the adapter alone (HTTP + handler over a session service that answers at once): p50 ${result.adapterOnlyP50Ms} ms, p99 ${result.adapterOnlyP99Ms} ms`,
);
log(JSON.stringify(result));
