import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWire } from '../../../adapters/replay/exactWire.ts';
import { replayVoice } from '../../../adapters/replay/voiceReplay.ts';
import { createAlexaHandler, UNVERIFIED, type VoiceResponse } from '../../../adapters/voice/alexaHandler.ts';
import type { AlexaResponseEnvelope, PlayDirective } from '../../../adapters/voice/alexaResponse.ts';
import { streamUrlTemplate } from '../../../adapters/voice/voiceEndpoint.ts';
import { createVoiceRecording, redactedJson } from '../../../adapters/voice/voiceRecorder.ts';
import { hashId } from '../../../adapters/ws/wireRecorder.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { WIRE_TRAILER } from '../../../sessions/sessionLog.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import type { SessionService } from '../../../sessions/sessionService.ts';
import type { SessionLogEvent, SessionStore } from '../../../sessions/sessionStore.ts';
import { createWireTrailer } from '../../../sessions/wireTrailer.ts';
import {
  audioEvent,
  controllerCommand,
  DEVICE_ID,
  intentRequest,
  launchRequest,
  USER_ID,
} from '../voice/alexaRequests.ts';
import { smallEngine as engine, seededRandom } from '../voice/voiceHarness.ts';

const TEMPLATE = 'https://media.example.com/tracks/{id}.mp3';
const SKILL = 'amzn1.ask.skill.6f354531-e96b-4b80-b446-1b77bce73996';

let store: SessionStore;
let service: SessionService;
let first: string;
let second: string;

/** The device: sends a body, keeps what plays from the answer's REPLACE_ALL. */
let playing = '';
let queued = '';
async function send(handler: (b: string) => Promise<VoiceResponse>, body: string) {
  const answer = await handler(body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  for (const d of (answer.body as AlexaResponseEnvelope).response.directives ?? []) {
    if (d.type !== 'AudioPlayer.Play') continue;
    const play = d as PlayDirective;
    if (play.playBehavior === 'REPLACE_ALL') playing = play.audioItem.stream.token;
    else queued = play.audioItem.stream.token;
  }
  return answer;
}
const player = () => ({ token: playing, offsetInMilliseconds: 20_000 });
const sessionOf = (token: string) => token.split(':')[0];

/** The Alexa handler as `serve` builds it, recording into `store`; `seed` drives its random choices. */
function recordedEndpoint(manager: SessionService, store: SessionStore, seed: number) {
  const recording = createVoiceRecording({
    service: manager,
    trailer: createWireTrailer(store),
    settings: { skillId: SKILL, streamUrlTemplate: TEMPLATE, verified: false },
  });
  const handler = recording.wrap(
    createAlexaHandler({
      service: recording.service,
      catalog: engine.catalog,
      skillId: SKILL,
      streamUrl: streamUrlTemplate(TEMPLATE),
      verify: UNVERIFIED,
      warn: () => {},
      onError: () => {},
      random: seededRandom(seed),
    }),
  );
  return { recording, handler };
}

async function logOf(sessionId: string): Promise<SessionLogEvent[]> {
  return (await store.readEvents(sessionId)).map((e) => e.event);
}

beforeAll(async () => {
  store = createMemoryStore();
  service = createSessionManager({ engine, store, randomSeed: () => 7, onError: () => {} });
  const { handler } = recordedEndpoint(service, store, 4);
  const h = (body: string) => send(handler, body);
  // One stream: launch, a track plays out, a skip by voice, a like, a dislike, pause, resume by button,
  // "play some jazz" mid-stream; then a new launch (a second session), a skip by button, and "stop".
  await h(launchRequest());
  first = sessionOf(playing);
  await h(audioEvent('AudioPlayer.PlaybackStarted', playing));
  await h(audioEvent('AudioPlayer.PlaybackNearlyFinished', playing, 180_000));
  await h(audioEvent('AudioPlayer.PlaybackNearlyFinished', playing, 181_000)); // Alexa asks again
  await h(audioEvent('AudioPlayer.PlaybackFinished', playing, 200_000));
  playing = queued;
  await h(audioEvent('AudioPlayer.PlaybackStarted', playing));
  await h(intentRequest('AMAZON.NextIntent', { player: player() }));
  await h(audioEvent('AudioPlayer.PlaybackStarted', playing));
  await h(intentRequest('ThumbsUpIntent', { player: player() }));
  await h(audioEvent('AudioPlayer.PlaybackNearlyFinished', playing, 150_000));
  await h(intentRequest('ThumbsDownIntent', { player: player() }));
  await h(intentRequest('AMAZON.PauseIntent', { player: player() }));
  await h(audioEvent('AudioPlayer.PlaybackStopped', playing, 30_000));
  await h(controllerCommand('PlaybackController.PlayCommandIssued', player()));
  await h(audioEvent('AudioPlayer.PlaybackStarted', playing, 30_000));
  await h(intentRequest('PlayIntent', { slots: { genre: 'jazz' }, player: player() }));
  await h(intentRequest('AMAZON.HelpIntent', { player: player() }));
  await h(launchRequest({}, player()));
  second = sessionOf(playing);
  await h(audioEvent('AudioPlayer.PlaybackStarted', playing));
  await h(controllerCommand('PlaybackController.NextCommandIssued', player()));
  await h(audioEvent('AudioPlayer.PlaybackStarted', playing));
  await h(intentRequest('AMAZON.StopIntent', { player: player() }));
  const deadline = Date.now() + 5000;
  while (!(await logOf(second)).some((e) => e.type === WIRE_TRAILER)) {
    if (Date.now() > deadline) throw new Error('no adapter.wire entry after "stop"');
    await new Promise((r) => setTimeout(r, 10));
  }
});

afterAll(async () => {
  await service.close();
});

describe('exact replay of a voice session through the Alexa handler', () => {
  it('re-drives the real handler: every answer hashes as recorded, every Alexa rule holds', async () => {
    expect(first).not.toBe(second);
    for (const id of [first, second]) {
      const voice = await replayVoice(await logOf(id), engine);
      const text = withWire('REPLAY OK\n', { ...voice, ok: true });
      expect(voice.callMismatch, text).toBeNull();
      expect(voice.firstFrameDivergence, text).toBeNull();
      expect(voice.framesMatched).toBe(voice.framesRecorded);
      expect(voice.deliveries.diverged).toBe(0);
      expect(voice.frames.results.filter((r) => !r.ok)).toEqual([]);
      expect(voice.frames.results.map((r) => r.name)).toContain('expected-previous-token');
      // The stream's own rules hold over what played by voice too.
      expect(voice.frames.results.map((r) => r.name)).toEqual(
        expect.arrayContaining(['no-repeats', 'artist-spacing']),
      );
    }
    const one = await replayVoice(await logOf(first), engine);
    // Launch through "play some jazz" and help: 17 requests answered in the first session.
    expect(one.framesRecorded).toBe(17);
    // The second session's log ends with the "stop" request and its answer (the final adapter.wire entry).
    const two = await replayVoice(await logOf(second), engine);
    expect(two.framesRecorded).toBe(5);
  });

  it('keeps no Amazon id or credential in the log', async () => {
    const text = JSON.stringify([...(await logOf(first)), ...(await logOf(second))]);
    expect(text).toContain('"req"');
    expect(text).not.toContain(USER_ID);
    expect(text).not.toContain(DEVICE_ID);
    expect(text).not.toContain('eyJ0eXAiOiJKV1Qi');
  });

  it('hashes ids and drops credentials wherever they sit, and keeps everything else as it was', () => {
    const envelope = {
      context: { System: { user: { userId: 'u1', accessToken: 'secret' }, apiAccessToken: 'jwt' } },
      request: { type: 'X', token: 'stream-token', list: [{ deviceId: 'd1' }, { consentToken: { a: 1 } }] },
      userId: 42,
    };
    expect(JSON.parse(redactedJson(envelope))).toEqual({
      context: { System: { user: { userId: `h:${hashId('u1')}`, accessToken: '…' }, apiAccessToken: '…' } },
      request: {
        type: 'X',
        token: 'stream-token',
        list: [{ deviceId: `h:${hashId('d1')}` }, { consentToken: '…' }],
      },
      // Only string ids are hashed.
      userId: 42,
    });
  });

  it('prints both sides at the first answer that differs', async () => {
    const events = structuredClone(await logOf(first));
    // The first decision's best candidate scored last: the launch plays another item.
    const pool = events.find((e) => e.type === 'engine.pool') as unknown as { pool: { scores: number[] } };
    pool.pool.scores[0] = -1e6;
    const voice = await replayVoice(events, engine);
    const d = voice.firstFrameDivergence!;
    expect(d).toMatchObject({ frame: 0, expected: { type: 'LaunchRequest 200' } });
    expect(d.got!.text).toContain('AudioPlayer.Play');
    expect(d.input).toContain('"LaunchRequest"');
    const text = withWire('REPLAY DIVERGED\n', { ...voice, ok: false });
    expect(text).toMatch(/first divergent answer: device v[0-9a-f]{8}, answer 0/);
    expect(text).toContain('recorded: LaunchRequest 200 sha256');
    expect(text).toContain('replayed: LaunchRequest 200 sha256');
  });

  it('finds a changed answer hash (a response that changed), not only changed picks', async () => {
    const events = structuredClone(await logOf(first));
    const carrier = events.filter((e) => Array.isArray(e.wire)).at(-1) as unknown as {
      wire: [string, string, unknown][];
    };
    const res = [...carrier.wire].reverse().find((r) => r[1] === 'res')!;
    (res[2] as [number, string])[1] = '0123456789abcdef';
    const voice = await replayVoice(events, engine);
    expect(voice.firstFrameDivergence?.expected?.hash).toBe('0123456789abcdef');
    expect(voice.framesMatched).toBe(voice.framesRecorded - 1);
  });

  it('breaks the Alexa rules on an ENQUEUE after another token than the one playing', async () => {
    const { checkAlexaRules } = await import('../../../adapters/replay/alexaRules.ts');
    const play = (behavior: string, token: string, previous?: string) => ({
      version: '1.0',
      response: {
        shouldEndSession: true,
        directives: [
          {
            type: 'AudioPlayer.Play',
            playBehavior: behavior,
            audioItem: {
              stream: {
                url: 'https://x/a.mp3',
                token,
                offsetInMilliseconds: 0,
                expectedPreviousToken: previous,
              },
            },
          },
        ],
      },
    });
    const req = (type: string, token?: string) => ({ request: { type, token } });
    const results = checkAlexaRules([
      { request: req('LaunchRequest'), status: 200, body: play('REPLACE_ALL', 's:1') },
      {
        request: req('AudioPlayer.PlaybackStarted', 's:1'),
        status: 200,
        body: { version: '1.0', response: {} },
      },
      {
        request: req('AudioPlayer.PlaybackNearlyFinished', 's:1'),
        status: 200,
        body: play('ENQUEUE', 's:2', 's:0'),
      },
      {
        request: req('AudioPlayer.PlaybackStarted', 's:2'),
        status: 200,
        body: { version: '1.0', response: {} },
      },
      { request: req('IntentRequest'), status: 200, body: play('REPLACE_ENQUEUED', 's:1', 's:2') },
    ]);
    const broken = Object.fromEntries(results.filter((r) => !r.ok).map((r) => [r.name, r.broken]));
    expect(broken).toEqual({ 'expected-previous-token': 2, 'no-repeated-token': 1 });
  });
});

describe('a voice session across a restart of the endpoint', () => {
  it('is recorded on both sides of it and replays with a fresh handler where the live one started afresh', async () => {
    const shared = createMemoryStore();
    const endpoint = () => {
      const manager = createSessionManager({ engine, store: shared, randomSeed: () => 9, onError: () => {} });
      const { recording, handler } = recordedEndpoint(manager, shared, 5);
      return { manager, recording, h: (body: string) => send(handler, body) };
    };
    const before = endpoint();
    await before.h(launchRequest());
    const id = sessionOf(playing);
    await before.h(audioEvent('AudioPlayer.PlaybackStarted', playing));
    await before.h(audioEvent('AudioPlayer.PlaybackNearlyFinished', playing, 180_000));
    // A shutdown as `serve` does it: sessions closed, then the requests no later call carries are written.
    await before.manager.close();
    await before.recording.flush();
    // The process restarts: a new manager restores the session from the store, a new handler has no memory.
    const after = endpoint();
    await after.h(audioEvent('AudioPlayer.PlaybackFinished', playing, 200_000));
    playing = queued;
    await after.h(audioEvent('AudioPlayer.PlaybackStarted', playing));
    await after.h(intentRequest('AMAZON.NextIntent', { player: player() }));
    await after.h(audioEvent('AudioPlayer.PlaybackStarted', playing));
    await after.h(intentRequest('AMAZON.StopIntent', { player: player() }));
    const deadline = Date.now() + 5000;
    const events = async () => (await shared.readEvents(id)).map((e) => e.event);
    while (!(await events()).some((e) => e.type === WIRE_TRAILER)) {
      if (Date.now() > deadline) throw new Error('no adapter.wire entry after "stop"');
      await new Promise((r) => setTimeout(r, 10));
    }
    const log = await events();
    expect(JSON.stringify(log).match(/"voice",\{/g)).toHaveLength(2);
    expect(log.filter((e) => e.type === WIRE_TRAILER)).toHaveLength(2);
    const voice = await replayVoice(log, engine);
    const text = withWire('REPLAY OK\n', { ...voice, ok: true });
    expect(voice.callMismatch, text).toBeNull();
    expect(voice.firstFrameDivergence, text).toBeNull();
    expect(voice.framesRecorded).toBe(8);
    expect(voice.framesMatched).toBe(8);
    expect(voice.frames.ok).toBe(true);
    await after.manager.close();
  });
});
