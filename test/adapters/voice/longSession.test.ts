import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlexaHandler, UNVERIFIED } from '../../../adapters/voice/alexaHandler.ts';
import type { AlexaResponseEnvelope, PlayDirective } from '../../../adapters/voice/alexaResponse.ts';
import { parseStreamToken } from '../../../adapters/voice/streamToken.ts';
import { createVoiceServer, type VoiceServer } from '../../../adapters/voice/voiceServer.ts';
import { createEngine } from '../../../engine/engine.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import type { SessionService } from '../../../sessions/sessionService.ts';
import { smallCatalog } from '../../engine/fixtures.ts';
import {
  audioEvent,
  type ControllerCommand,
  controllerCommand,
  intentRequest,
  launchRequest,
  SKILL_ID,
} from './alexaRequests.ts';
import { loggedFeedback, postJson, seededRandom, streamUrl } from './voiceHarness.ts';

/**
 * A long listening session through the HTTP endpoint, driven by a simulated AudioPlayer device that keeps its
 * own state (what plays, what is queued, where it paused) and holds every answer to Alexa's rules.
 */

const servers: VoiceServer[] = [];
const services: SessionService[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(services.splice(0).map((s) => s.close()));
});

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
const post = (url: string, body: string) => postJson<AlexaResponseEnvelope>(url, body, { agent: keepAlive });

/** The device: Alexa's player state, changed only by the directives it accepts. */
class Device {
  playing: string | undefined;
  offsetMs = 0;
  paused = false;
  queue: string[] = [];
  answers = 0;

  constructor(private readonly url: string) {}

  get player() {
    return this.playing ? { token: this.playing, offsetInMilliseconds: this.offsetMs } : undefined;
  }

  /** Sends a request; checks the answer against the AudioPlayer rules, then applies its directives. */
  async send(body: string): Promise<AlexaResponseEnvelope> {
    const type = (JSON.parse(body) as { request: { type: string } }).request.type;
    const { status, json } = await post(this.url, body);
    expect(status, `${type} answered ${status}: ${JSON.stringify(json)}`).toBe(200);
    this.answers++;
    const { response } = json;
    const directives = response.directives ?? [];
    const playback = type.startsWith('AudioPlayer.') || type.startsWith('PlaybackController.');
    if (playback) {
      expect(response.outputSpeech, type).toBeUndefined();
      expect((response as Record<string, unknown>).card, type).toBeUndefined();
      expect(response.reprompt, type).toBeUndefined();
      if (directives.length > 0) expect(response.shouldEndSession, type).toBe(true);
      else expect(json).toEqual({ version: '1.0', response: {} });
    }
    if (type === 'AudioPlayer.PlaybackStopped') expect(directives).toEqual([]);
    if (response.outputSpeech) expect(response.outputSpeech.text.length).toBeLessThan(8000);
    const plays = directives.filter((d): d is PlayDirective => d.type === 'AudioPlayer.Play');
    expect(plays.length, type).toBeLessThanOrEqual(1);
    for (const d of directives) {
      if (d.type === 'AudioPlayer.Stop') {
        this.paused = true;
        continue;
      }
      if (d.type === 'AudioPlayer.ClearQueue') {
        expect(d.clearBehavior).toBe('CLEAR_ENQUEUED');
        this.queue = [];
        continue;
      }
      const { stream } = d.audioItem;
      expect(stream.url.startsWith('https://')).toBe(true);
      expect(stream.token.length).toBeLessThanOrEqual(1024);
      expect(parseStreamToken(stream.token)).toBeDefined();
      if (d.playBehavior === 'ENQUEUE') {
        // Alexa drops an enqueue whose expectedPreviousToken is not the stream playing now.
        expect(stream.expectedPreviousToken, 'ENQUEUE after the stream now playing').toBe(this.playing);
        expect(stream.offsetInMilliseconds).toBe(0);
        this.queue.push(stream.token);
      } else {
        expect(stream.expectedPreviousToken, `${d.playBehavior} carries no expectedPreviousToken`).toBe(
          undefined,
        );
        if (d.playBehavior === 'REPLACE_ENQUEUED') {
          expect(stream.offsetInMilliseconds).toBe(0);
          this.queue = [stream.token];
        } else {
          this.playing = stream.token;
          this.offsetMs = stream.offsetInMilliseconds;
          this.paused = false;
          this.queue = [];
        }
      }
    }
    return json;
  }
}

describe('a long listening session over HTTP (300+ tracks)', () => {
  it('never repeats, keeps every AudioPlayer rule, and expectedPreviousToken is always the token playing', async () => {
    const catalog = smallCatalog({ items: 1500, artists: 120 });
    const engine = createEngine({ catalog, scorer: createFallbackScorer() });
    // The test reads every feedback back from the log: keep all of it (the default cap holds about 400 items).
    const store = createMemoryStore({ maxLogChars: 4 * 1024 * 1024 });
    const service = createSessionManager({ engine, store, randomSeed: () => 11 });
    services.push(service);
    const handler = createAlexaHandler({
      service,
      catalog,
      skillId: SKILL_ID,
      streamUrl,
      verify: UNVERIFIED,
      warn: () => {},
      random: seededRandom(3),
      onError: (err) => {
        throw err;
      },
    });
    const server = await createVoiceServer({ handler, port: 0 });
    servers.push(server);
    const device = new Device(server.url);

    const started: string[] = [];
    const sessions = new Set<string>();
    const counts = {
      finished: 0,
      skipped: 0,
      liked: 0,
      disliked: 0,
      paused: 0,
      swapped: 0,
      repeatedNearly: 0,
    };
    const start = async () => {
      const token = device.playing!;
      await device.send(audioEvent('AudioPlayer.PlaybackStarted', token, device.offsetMs));
      const ref = parseStreamToken(token)!;
      sessions.add(ref.sessionId);
      if (device.offsetMs === 0) started.push(ref.itemId!);
    };

    await device.send(launchRequest());
    await start();
    const sessionId = parseStreamToken(device.playing!)!.sessionId;

    for (let i = 1; started.length < 320; i++) {
      const token = device.playing!;
      // The player asks for the next stream while this one plays; sometimes twice, as Alexa may.
      if (device.queue.length === 0) {
        await device.send(audioEvent('AudioPlayer.PlaybackNearlyFinished', token, 150_000));
        if (i % 13 === 0) {
          const queued = device.queue.slice();
          device.queue = [];
          await device.send(audioEvent('AudioPlayer.PlaybackNearlyFinished', token, 150_500));
          expect(device.queue, 'a repeated PlaybackNearlyFinished enqueues the same item').toEqual(queued);
          counts.repeatedNearly++;
        }
        expect(device.queue).toHaveLength(1);
      }
      const player = { token, offsetInMilliseconds: 40_000 };
      if (i === 60) {
        // A thumbs-down: the queued item may be withdrawn and swapped.
        const queued = device.queue[0];
        await device.send(intentRequest('ThumbsDownIntent', { player }));
        if (device.queue[0] !== queued) counts.swapped++;
        counts.disliked++;
      } else if (i % 11 === 0) {
        await device.send(intentRequest('ThumbsUpIntent', { player }));
        counts.liked++;
      }
      if (i % 37 === 0) {
        // Pause, the player reports where it stopped, and resume plays the same token from there.
        await device.send(intentRequest('AMAZON.PauseIntent', { player }));
        expect(device.paused).toBe(true);
        await device.send(audioEvent('AudioPlayer.PlaybackStopped', token, 41_234));
        device.offsetMs = 41_234;
        const resume =
          i % 2 === 0
            ? intentRequest('AMAZON.ResumeIntent', { player: { token, offsetInMilliseconds: 41_234 } })
            : controllerCommand('PlaybackController.PlayCommandIssued', {
                token,
                offsetInMilliseconds: 41_234,
              });
        await device.send(resume);
        expect(device).toMatchObject({ playing: token, offsetMs: 41_234, paused: false, queue: [] });
        await start();
        counts.paused++;
        continue;
      }
      if (i % 7 === 0) {
        const skip =
          i % 2 === 0
            ? intentRequest('AMAZON.NextIntent', { player: { token, offsetInMilliseconds: 12_000 } })
            : controllerCommand('PlaybackController.NextCommandIssued' as ControllerCommand, {
                token,
                offsetInMilliseconds: 12_000,
              });
        await device.send(skip);
        expect(device.playing).not.toBe(token);
        expect(device.queue).toEqual([]);
        counts.skipped++;
      } else {
        await device.send(audioEvent('AudioPlayer.PlaybackFinished', token, 200_000));
        device.playing = device.queue.shift();
        device.offsetMs = 0;
        counts.finished++;
      }
      await start();
    }

    expect(started.length).toBeGreaterThanOrEqual(320);
    expect(new Set(started).size, 'no item played twice').toBe(started.length);
    // All in the one session the launch opened.
    expect([...sessions]).toEqual([sessionId]);
    expect(counts.skipped).toBeGreaterThan(30);
    expect(counts.finished).toBeGreaterThan(200);
    expect(counts.paused).toBeGreaterThanOrEqual(5);
    expect(counts.repeatedNearly).toBeGreaterThan(10);
    const feedback = await loggedFeedback(store, sessionId);
    expect(feedback.filter((f) => f.type === 'skipped')).toHaveLength(counts.skipped);
    expect(feedback.filter((f) => f.type === 'completed')).toHaveLength(counts.finished);
    expect(feedback.filter((f) => f.type === 'liked')).toHaveLength(counts.liked);
    expect(feedback.filter((f) => f.type === 'disliked')).toHaveLength(1);
    expect(device.answers).toBeGreaterThan(1000);
  }, 120_000);
});
