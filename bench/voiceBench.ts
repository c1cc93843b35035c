/**
 * The voice endpoint's answer time as Alexa sees it: PlaybackNearlyFinished → the ENQUEUE answer, over
 * loopback HTTP (keep-alive, one request at a time, like one device), on the demo engine `npm start` serves
 * (its catalog and model), the memory store and default session settings. The device (`voiceDevice.ts`) runs
 * in a process of its own, as Alexa does; between two timed requests it reports the item finished and the
 * next one started, as a player does (those are not timed). Request verification is off (`UNVERIFIED`):
 * what is timed is the adapter, the session and the engine.
 *
 * Then the same stream from a device inside the server's process (it waits for whatever the server's event
 * loop does after answering), with the handler called in process (what HTTP adds), and over a session
 * service that answers at once (the adapter's own share). The slowest requests are matched against the
 * engine decisions in flight while they waited, and against the server's garbage-collector pauses.
 * Last line: one JSON object.
 *
 *   npm run bench:voice        (BENCH_VOICE_REQUESTS overrides the 1,000 timed requests)
 */
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadRuntime } from '../adapters/runtime.ts';
import { createAlexaHandler, UNVERIFIED } from '../adapters/voice/alexaHandler.ts';
import type { AlexaResponseEnvelope } from '../adapters/voice/alexaResponse.ts';
import { streamUrlTemplate } from '../adapters/voice/voiceEndpoint.ts';
import { createVoiceRecording } from '../adapters/voice/voiceRecorder.ts';
import { createVoiceServer } from '../adapters/voice/voiceServer.ts';
import { createMemoryStore } from '../sessions/memoryStore.ts';
import { createSessionManager } from '../sessions/sessionManager.ts';
import type { SessionService } from '../sessions/sessionService.ts';
import { blankReasons } from './blankReasons.ts';
import { BENCH_SKILL_ID, httpSender, type Listened, listen } from './voiceDevice.ts';

const REQUESTS = Number(process.env.BENCH_VOICE_REQUESTS ?? 1000);
const WARMUP = 50;
const GOAL_P99_MS = 5;
const log = (m: string): void => void process.stdout.write(`${m}\n`);

const runtime = await loadRuntime();
/** Each engine decision's span, ms since the epoch: from its start to its pool. */
const decisions: { from: number; to: number }[] = [];
const epochNow = () => performance.timeOrigin + performance.now();
const score = runtime.engine.score;
runtime.engine.score = (state, options) => {
  const span = { from: epochNow(), to: Number.POSITIVE_INFINITY };
  decisions.push(span);
  return score(state, options).finally(() => {
    span.to = epochNow();
  });
};
/** The server process's garbage-collector pauses, ms since the epoch. */
const pauses: { from: number; to: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const from = performance.timeOrigin + e.startTime;
    pauses.push({ from, to: from + e.duration });
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const service = createSessionManager({ engine: runtime.engine, store: createMemoryStore() });
const handlerOptions = {
  catalog: runtime.catalog,
  skillId: BENCH_SKILL_ID,
  streamUrl: streamUrlTemplate('https://media.example.com/{id}.mp3'),
  verify: UNVERIFIED as typeof UNVERIFIED,
  warn: () => {},
};
// Recording on, as `serve` runs the endpoint (startVoiceEndpoint): each request and a hash of its answer go
// to the session's log.
const recordingSettings = {
  skillId: BENCH_SKILL_ID,
  streamUrlTemplate: 'https://media.example.com/{id}.mp3',
  verified: false,
};
const recording = createVoiceRecording({ service, settings: recordingSettings });
const handler = recording.wrap(
  createAlexaHandler({
    ...handlerOptions,
    service: recording.service,
    onError: (err) => {
      throw err;
    },
  }),
);
const server = await createVoiceServer({ handler, port: 0 });

// The device in its own process: the headline figure.
const device = fileURLToPath(new URL('./voiceDevice.ts', import.meta.url));
const { stdout } = await promisify(execFile)(
  process.execPath,
  ['--import', 'tsx', device, server.url, String(REQUESTS), String(WARMUP)],
  { maxBuffer: 64 << 20 },
);
const outside = JSON.parse(stdout.trim().split('\n').at(-1)!) as Listened;
const decisionsOutside = decisions.length;
const pausesOutside = pauses.filter((p) => p.from >= outside.sentAt[0]);
gcObserver.disconnect();

// The same device in this process: its reads wait for whatever the server's loop does after answering.
const inside = httpSender(server.url);
const sameProcess = await listen(inside.send, REQUESTS, WARMUP);
inside.close();
const direct = await listen(
  async (body) => (await handler(body)).body as AlexaResponseEnvelope,
  REQUESTS,
  WARMUP,
);

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
          reasons: blankReasons(''),
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
const bareServer = await createVoiceServer({
  handler: createAlexaHandler({ ...handlerOptions, service: instantService() }),
  port: 0,
});
const bareHttp = httpSender(bareServer.url);
const bare = await listen(bareHttp.send, REQUESTS, WARMUP);
bareHttp.close();
await bareServer.close();
// The same with recording on: what redacting, hashing and keeping each request costs the adapter.
const instant = instantService();
const bareRecording = createVoiceRecording({ service: instant, settings: recordingSettings });
const recordedServer = await createVoiceServer({
  handler: bareRecording.wrap(createAlexaHandler({ ...handlerOptions, service: bareRecording.service })),
  port: 0,
});
const recordedHttp = httpSender(recordedServer.url);
const recordedBare = await listen(recordedHttp.send, REQUESTS, WARMUP);
recordedHttp.close();
await recordedServer.close();
await server.close();
await service.close();

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const round = (x: number) => Math.round(x * 1000) / 1000;
const times = sorted(outside.times);
const at = (q: number) => quantile(times, q);

/** Of the slowest 1 % of the device's requests, how many had an engine decision running while they waited. */
const slowest = outside.times
  .map((ms, i) => ({ ms, from: outside.sentAt[i], to: outside.sentAt[i] + ms }))
  .sort((a, b) => b.ms - a.ms)
  .slice(0, Math.max(1, Math.ceil(outside.times.length / 100)));
const overlapping = slowest.filter((r) =>
  decisions.slice(0, decisionsOutside).some((d) => d.from < r.to && d.to > r.from),
).length;
/** Of the same slowest requests, how many waited while the server's garbage collector paused it. */
const duringPause = slowest.filter((r) => pausesOutside.some((p) => p.from < r.to && p.to > r.from)).length;
const pauseMs = pausesOutside.map((p) => p.to - p.from).sort((a, b) => a - b);

const result = {
  bench: 'voice',
  catalog: runtime.description,
  requests: times.length,
  p50Ms: round(at(0.5)),
  p90Ms: round(at(0.9)),
  p99Ms: round(at(0.99)),
  maxMs: round(times[times.length - 1]),
  meanMs: round(times.reduce((a, b) => a + b, 0) / times.length),
  distinctItems: outside.items,
  decisions: decisionsOutside,
  slowestWithDecision: `${overlapping}/${slowest.length}`,
  gcPauses: pauseMs.length,
  gcPauseP50Ms: round(quantile(pauseMs, 0.5) ?? 0),
  gcPauseMaxMs: round(pauseMs.at(-1) ?? 0),
  slowestWithGcPause: `${duringPause}/${slowest.length}`,
  sameProcessP50Ms: round(quantile(sorted(sameProcess.times), 0.5)),
  sameProcessP99Ms: round(quantile(sorted(sameProcess.times), 0.99)),
  inProcessP50Ms: round(quantile(sorted(direct.times), 0.5)),
  inProcessP99Ms: round(quantile(sorted(direct.times), 0.99)),
  adapterOnlyP50Ms: round(quantile(sorted(bare.times), 0.5)),
  adapterOnlyP99Ms: round(quantile(sorted(bare.times), 0.99)),
  adapterRecordingP50Ms: round(quantile(sorted(recordedBare.times), 0.5)),
  adapterRecordingP99Ms: round(quantile(sorted(recordedBare.times), 0.99)),
  goalP99Ms: GOAL_P99_MS,
  goalMet: at(0.99) <= GOAL_P99_MS,
  /** The machine's 1-minute load average at the end: a p99 this small moves with whatever else runs. */
  loadAverage: round(loadavg()[0]),
};
log(
  `PlaybackNearlyFinished → ENQUEUE over loopback HTTP from a device process, ${times.length} requests (${WARMUP} warm-up not counted): p50 ${result.p50Ms} ms, p90 ${result.p90Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms; goal p99 ≤ ${GOAL_P99_MS} ms ${result.goalMet ? 'met' : 'NOT met'}`,
);
log(
  `${decisionsOutside} engine decisions meanwhile; of the ${slowest.length} slowest requests, ${overlapping} waited while one ran`,
);
log(
  `${pauseMs.length} garbage-collector pauses in the server meanwhile (p50 ${result.gcPauseP50Ms} ms, max ${result.gcPauseMaxMs} ms); ${duringPause} of the ${slowest.length} slowest requests met one`,
);
log(
  `the device in the server's process: p50 ${result.sameProcessP50Ms} ms, p99 ${result.sameProcessP99Ms} ms`,
);
log(
  `the handler called in process (no HTTP): p50 ${result.inProcessP50Ms} ms, p99 ${result.inProcessP99Ms} ms`,
);
log(
  `the adapter alone (HTTP + handler over a session service that answers at once): p50 ${result.adapterOnlyP50Ms} ms, p99 ${result.adapterOnlyP99Ms} ms`,
);
log(
  `the adapter alone with recording on: p50 ${result.adapterRecordingP50Ms} ms, p99 ${result.adapterRecordingP99Ms} ms`,
);
log(JSON.stringify(result));
