import { hash } from 'node:crypto';
import type { Catalog } from '../../engine/catalog.ts';
import { matchSpoken } from '../../engine/intent.ts';
import type { Steer } from '../../engine/session.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import { isRetryableSessionCode } from '../../sessions/errors.ts';
import type { SessionService } from '../../sessions/sessionService.ts';
import {
  type AlexaRequestEnvelope,
  isPlaybackRequest,
  parseAlexaRequest,
  slotValue,
  slotValues,
} from './alexaRequest.ts';
import {
  type AlexaResponseEnvelope,
  type AudioDirective,
  playbackResponse,
  speechResponse,
} from './alexaResponse.ts';
import { VOICE_ERRORS, type VoiceErrorBody, voiceError } from './errors.ts';
import { createPlaybackMemory } from './playbackMemory.ts';
import { createPlayerCommands } from './playerCommands.ts';
import type { RequestHeaders, RequestVerifier } from './requestVerifier.ts';
import { createOpenings, quoted, resolveSpoken } from './spokenRequest.ts';
import { createVoiceStream, GONE_CODES, isGone } from './voiceStream.ts';

/** `verify: UNVERIFIED` runs the endpoint without checking that Alexa sent the request: a local demo only. */
export const UNVERIFIED = 'unverified';

export interface AlexaHandlerOptions {
  service: SessionService;
  /** The engine's catalog: spoken genres, moods and artists are matched against it; items' `streamUrl`. */
  catalog: Catalog;
  /** The skill id (`amzn1.ask.skill....`); requests for any other are refused with VOICE_WRONG_SKILL. */
  skillId: string;
  /** The https URL of an item whose catalog row has no `streamUrl` (e.g. `streamUrlTemplate(...)`). */
  streamUrl?: (itemId: string) => string;
  /**
   * Checks that Alexa sent the request (`createRequestVerifier`). `UNVERIFIED` turns the check off, with a
   * warning at creation: for a local demo, or behind a proxy that verifies.
   */
  verify: RequestVerifier | typeof UNVERIFIED;
  /** Where the no-verification warning goes; default `console.warn`. */
  warn?: (message: string) => void;
  /** Draws the starting point of a "play music" stream (default `Math.random`); tests fix it. */
  random?: () => number;
  now?: () => number;
  /** Stream tokens remembered for idempotent enqueues and stop offsets (default 10 000). */
  maxTokens?: number;
  /** Failures answered with an apology or an empty response; default `console.warn`. */
  onError?: (err: unknown) => void;
}

export interface VoiceResponse {
  status: number;
  body: AlexaResponseEnvelope | VoiceErrorBody;
  /** `body` as JSON text, when the handler made it: what the server sends and the recorder hashes. */
  text?: string;
}

/** Takes a raw request body and its headers; always resolves (never rejects) with what to answer. */
export type AlexaHandler = (rawBody: string, headers?: RequestHeaders) => Promise<VoiceResponse>;

/** Refusals that are normal in a voice stream (late feedback, pause while paused): not reported. */
const QUIET = new Set([...GONE_CODES, 'SESSION_UNKNOWN_SEQ', 'SESSION_INVALID_EVENT']);

/**
 * The Alexa custom skill endpoint over a `SessionService`: "play music" starts a session and an AudioPlayer
 * stream that never stops (each PlaybackNearlyFinished enqueues the session's next item), with skip, pause,
 * resume, thumbs and steering ("more like this", "less of this artist", "something calmer", "play some jazz").
 * See docs/voice.md for the request → session call mapping.
 *
 * @example
 * const handler = createAlexaHandler({
 *   service, catalog: engine.catalog, skillId,
 *   streamUrl: streamUrlTemplate('https://cdn.example/{id}.mp3'),
 *   verify: createRequestVerifier({ skillId }),
 * });
 * const { status, body } = await handler(rawBody, req.headers);
 */
export function createAlexaHandler(options: AlexaHandlerOptions): AlexaHandler {
  const { service, skillId, catalog } = options;
  if (options.verify === undefined) {
    throw new TypeError(
      'createAlexaHandler needs `verify`: createRequestVerifier({ skillId }), or UNVERIFIED for a local demo.',
    );
  }
  const verify = options.verify === UNVERIFIED ? undefined : options.verify;
  if (!verify) {
    (options.warn ?? console.warn)(
      'omakase voice: REQUEST VERIFICATION IS OFF. Anyone who can reach this endpoint can drive its sessions; use it for a local demo only.',
    );
  }
  const onError = options.onError ?? ((err: unknown) => console.warn('omakase voice:', err));
  const memory = createPlaybackMemory({ maxTokens: options.maxTokens, now: options.now });

  const report = (err: unknown) => {
    if (!(isOmakaseError(err) && QUIET.has(err.code))) onError(err);
  };

  const opening = createOpenings(catalog, options.random ?? Math.random);
  const stream = createVoiceStream({
    service,
    catalog,
    streamUrl: options.streamUrl,
    memory,
    report,
    opening,
  });
  const { entryFor, playing, play, openStream, nextAfter } = stream;

  const { current, feedback, skip, pause, resume, stop, changeOn } = createPlayerCommands({
    service,
    stream,
    report,
  });

  /**
   * Feedback or a steer on what plays now, and the words to say. `how` gives the steer for the playing item,
   * or a sentence saying why there is none; "Nothing is playing" when the device has no stream.
   */
  async function onCurrent(
    env: AlexaRequestEnvelope,
    connectionId: string,
    how: 'liked' | 'disliked' | ((itemId: string) => { steer: Steer; said: string } | string),
    said = '',
  ): Promise<AlexaResponseEnvelope> {
    const nothingPlaying = speechResponse('Nothing is playing. Say "play music" to start.');
    const entry = current(env, connectionId);
    if (!entry) return nothingPlaying;
    if (typeof how === 'string') return speechResponse(said, await changeOn(entry, connectionId, how));
    if (entry.ref.itemId === undefined) return nothingPlaying;
    const made = how(entry.ref.itemId);
    if (typeof made === 'string') return speechResponse(made);
    return speechResponse(made.said, await changeOn(entry, connectionId, made.steer));
  }

  /** "Play some jazz": a new stream, or mid-stream a steer of the one playing. */
  async function playIntent(env: AlexaRequestEnvelope, connectionId: string): Promise<AlexaResponseEnvelope> {
    const text = slotValues(env.request).join(' ');
    const spoken = text ? resolveSpoken(text, catalog) : undefined;
    if (spoken && !spoken.intent) {
      return speechResponse(
        `I couldn't find ${quoted(text)} in this catalog. Try another genre, mood or artist.`,
      );
    }
    const entry = current(env, connectionId);
    if (spoken?.intent && entry && entry.ref.sessionId === stream.sessionOf(connectionId)) {
      const { tag, artist } = spoken.intent;
      // "Play something calm" names a mood only: the mood steer, which keeps the genre the stream has.
      const moodOnly = !slotValue(env.request, 'genre') && !slotValue(env.request, 'artist');
      const steer: Steer =
        artist !== undefined
          ? { kind: 'artist', artist }
          : { kind: moodOnly && slotValue(env.request, 'mood') ? 'mood' : 'tag', tag: tag! };
      try {
        return speechResponse(`Playing ${spoken.name}.`, await changeOn(entry, connectionId, steer));
      } catch (err) {
        if (!isGone(err)) throw err;
        // The session ended meanwhile: a new stream of what was asked for.
      }
    }
    const first = await openStream(connectionId, spoken?.intent ? { text, ...spoken.intent } : undefined);
    if (!first) return speechResponse('I found nothing to play for that. Try asking for something else.');
    return speechResponse(spoken ? `Playing ${spoken.name}.` : 'Playing music.', [
      play('REPLACE_ALL', first),
    ]);
  }

  /** A mood by name ("upbeat", "calm") as a steer, or why it cannot be one. */
  function moodSteer(mood: string | undefined, said?: string): { steer: Steer; said: string } | string {
    if (!mood) return 'Which mood would you like? Say something calmer, or something more upbeat.';
    const tag = matchSpoken(mood, catalog).tag;
    if (tag === undefined) return `I have nothing ${quoted(mood)} in this catalog.`;
    return { steer: { kind: 'mood', tag }, said: said ?? `Something ${tag} it is.` };
  }

  async function onIntent(env: AlexaRequestEnvelope, connectionId: string): Promise<AlexaResponseEnvelope> {
    const name = env.request.intent?.name ?? '';
    switch (name) {
      case 'PlayIntent':
        return playIntent(env, connectionId);
      case 'AMAZON.NextIntent':
        return speechResponse(undefined, await skip(env, connectionId));
      case 'AMAZON.PauseIntent':
        return speechResponse(undefined, await pause(env, connectionId));
      case 'AMAZON.ResumeIntent':
        return speechResponse(undefined, await resume(env, connectionId));
      case 'AMAZON.StartOverIntent': {
        const entry = current(env, connectionId);
        if (!entry || entry.ref.itemId === undefined)
          return speechResponse('Nothing is playing. Say "play music" to start.');
        return speechResponse(undefined, [play('REPLACE_ALL', entry, 0)]);
      }
      case 'AMAZON.StopIntent':
      case 'AMAZON.CancelIntent':
        return speechResponse(undefined, await stop(env, connectionId));
      case 'ThumbsDownIntent':
      case 'DislikeIntent':
        return onCurrent(env, connectionId, 'disliked', 'Okay, less like this.');
      case 'ThumbsUpIntent':
      case 'LikeIntent':
        return onCurrent(env, connectionId, 'liked', 'Glad you like it.');
      case 'MoreLikeThisIntent':
        return onCurrent(env, connectionId, (itemId) => ({
          steer: { kind: 'more-like', itemId },
          said: 'More like this.',
        }));
      case 'LessArtistIntent':
        return onCurrent(env, connectionId, (itemId) => {
          const artist = catalog.get(itemId)?.artist;
          if (artist === undefined) return "I don't know who this is, so I can't play less of them.";
          return { steer: { kind: 'less-artist', artist }, said: `Okay, less of ${quoted(artist)}.` };
        });
      case 'CalmerIntent':
        return onCurrent(env, connectionId, () => moodSteer('calm', 'Calmer it is.'));
      case 'MoodIntent': {
        const mood = slotValue(env.request, 'mood');
        return onCurrent(env, connectionId, () => moodSteer(mood));
      }
      case 'AMAZON.HelpIntent':
        return speechResponse(
          'Say "play music", or play some jazz. While it plays, say next, pause, resume, I like this, I don\'t like this, more like this, less of this artist, something calmer, or something more upbeat.',
          [],
          'What would you like to hear?',
        );
      default:
        return speechResponse("That isn't something this music stream can do.");
    }
  }

  async function onPlayback(env: AlexaRequestEnvelope, connectionId: string): Promise<AudioDirective[]> {
    const { request } = env;
    switch (request.type) {
      case 'AudioPlayer.PlaybackStarted': {
        const entry = entryFor(request.token, connectionId);
        if (entry) {
          playing(connectionId, entry);
          entry.offsetMs = undefined;
        }
        await feedback(entry, connectionId, 'started');
        return [];
      }
      case 'AudioPlayer.PlaybackFinished':
        await feedback(entryFor(request.token, connectionId), connectionId, 'completed');
        return [];
      case 'AudioPlayer.PlaybackStopped': {
        const entry = entryFor(request.token, connectionId);
        if (entry) entry.offsetMs = request.offsetInMilliseconds ?? entry.offsetMs;
        return [];
      }
      case 'AudioPlayer.PlaybackNearlyFinished': {
        const entry = entryFor(request.token, connectionId);
        const next = entry && (await nextAfter(entry, connectionId));
        return entry && next ? [play('ENQUEUE', next, 0, entry.token)] : [];
      }
      case 'AudioPlayer.PlaybackFailed': {
        // Not the listener's doing: no feedback; the queued follower (or a new one) replaces it.
        const entry = entryFor(request.token, connectionId);
        // A token that is not ours says nothing about the stream the device plays: leave that one alone.
        if (!entry && stream.sessionOf(connectionId)) return [];
        const next = entry ? await nextAfter(entry, connectionId) : await openStream(connectionId);
        if (!next) return [];
        playing(connectionId, next);
        return [play('REPLACE_ALL', next)];
      }
      case 'PlaybackController.NextCommandIssued':
        return skip(env, connectionId);
      case 'PlaybackController.PauseCommandIssued':
        return pause(env, connectionId);
      case 'PlaybackController.PlayCommandIssued':
        return resume(env, connectionId);
      default:
        return [];
    }
  }

  async function dispatch(env: AlexaRequestEnvelope, connectionId: string): Promise<AlexaResponseEnvelope> {
    const { type } = env.request;
    if (isPlaybackRequest(type)) {
      try {
        return playbackResponse(await onPlayback(env, connectionId));
      } catch (err) {
        report(err);
        return playbackResponse();
      }
    }
    try {
      if (type === 'LaunchRequest') {
        const first = await openStream(connectionId);
        if (!first) return speechResponse('I found nothing to play right now. Please try again later.');
        return speechResponse('Playing music.', [play('REPLACE_ALL', first)]);
      }
      if (type === 'IntentRequest') return await onIntent(env, connectionId);
      // SessionEndedRequest, System.ExceptionEncountered, skill events: nothing to say or play.
      if (type === 'System.ExceptionEncountered')
        onError(new Error(`Alexa reported: ${JSON.stringify(env.request.error)}`));
      return playbackResponse();
    } catch (err) {
      report(err);
      return speechResponse(apology(err));
    }
  }

  return async (rawBody, headers = {}) => {
    try {
      if (verify) await verify(rawBody, headers);
      const env = parseAlexaRequest(rawBody);
      const appId = env.context.System.application.applicationId;
      if (appId !== skillId) {
        throw voiceError('VOICE_WRONG_SKILL', 'The request is for another skill than this endpoint serves.', {
          details: { applicationId: appId },
        });
      }
      const connectionId = connectionIdOf(env);
      const key = `${connectionId} ${env.request.requestId}`;
      const repeated = memory.answers.get(key);
      if (repeated) {
        const text = await repeated;
        return { status: 200, body: JSON.parse(text), text };
      }
      const first = dispatch(env, connectionId).then((body) => ({ body, text: JSON.stringify(body) }));
      // Remembered as its text, not its object tree: a repeat is rare, and every answer is kept for the next
      // 1,000 requests, long enough to outlive the young generation (each survivor is copied by a scavenge).
      const text = first.then((answer) => answer.text);
      text.catch(() => {}); // a failed answer fails its repeats too, each where it is awaited
      memory.answers.set(key, text);
      return { status: 200, ...(await first) };
    } catch (err) {
      return httpError(err, onError);
    }
  };
}

/**
 * The session's connection id for a device: the same user on the same device is the same connection.
 * Hashed so Amazon's account and device ids never reach the session store or its event log.
 */
export function connectionIdOf(env: AlexaRequestEnvelope): string {
  const { user, device } = env.context.System;
  // One-shot `hash`: no Hash object (each holds a weak handle the garbage collector visits) per request.
  const digest = hash('sha256', `${user.userId}\n${device?.deviceId ?? ''}`, 'base64url');
  return `alexa:${digest.slice(0, 32)}`;
}

function apology(err: unknown): string {
  if (isGone(err)) return 'That stream has ended. Say "play music" to start a new one.';
  if (isOmakaseError(err) && isRetryableSessionCode(err.code))
    return 'Something went wrong on my side. Please try again in a moment.';
  return "Sorry, I couldn't do that.";
}

/** VOICE_* errors with their status and message; anything else as INTERNAL with nothing leaked. */
function httpError(err: unknown, onError: (err: unknown) => void): VoiceResponse {
  if (isOmakaseError(err) && err.code in VOICE_ERRORS) {
    const { status } = VOICE_ERRORS[err.code as keyof typeof VOICE_ERRORS];
    return { status, body: { error: { code: err.code, message: err.message } } };
  }
  onError(err);
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error; retry later' } } };
}
