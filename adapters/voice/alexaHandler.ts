import { createHash } from 'node:crypto';
import type { Steer } from '../../engine/session.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import { isRetryableSessionCode } from '../../sessions/errors.ts';
import type { SeqFeedback, SessionService } from '../../sessions/sessionService.ts';
import {
  type AlexaRequestEnvelope,
  isPlaybackRequest,
  parseAlexaRequest,
  slotValues,
} from './alexaRequest.ts';
import {
  type AlexaResponseEnvelope,
  type AudioDirective,
  clearEnqueuedDirective,
  playbackResponse,
  speechResponse,
  stopDirective,
} from './alexaResponse.ts';
import { VOICE_ERRORS, type VoiceErrorBody, voiceError } from './errors.ts';
import { createPlaybackMemory, type TokenEntry } from './playbackMemory.ts';
import type { RequestHeaders, RequestVerifier } from './requestVerifier.ts';
import { createVoiceStream, GONE_CODES, isGone } from './voiceStream.ts';

export interface AlexaHandlerOptions {
  service: SessionService;
  /** The skill id (`amzn1.ask.skill....`); requests for any other are refused with VOICE_WRONG_SKILL. */
  skillId: string;
  /** The https URL Alexa streams an item from. */
  streamUrl: (itemId: string) => string;
  /** Checks that Alexa sent the request (`createRequestVerifier`); leave out only behind a verifying proxy. */
  verify?: RequestVerifier;
  now?: () => number;
  /** Stream tokens remembered for idempotent enqueues and stop offsets (default 10 000). */
  maxTokens?: number;
  /** Failures answered with an apology or an empty response; default `console.warn`. */
  onError?: (err: unknown) => void;
}

export interface VoiceResponse {
  status: number;
  body: AlexaResponseEnvelope | VoiceErrorBody;
}

/** Takes a raw request body and its headers; always resolves (never rejects) with what to answer. */
export type AlexaHandler = (rawBody: string, headers?: RequestHeaders) => Promise<VoiceResponse>;

/** Refusals that are normal in a voice stream (late feedback, pause while paused): not reported. */
const QUIET = new Set([...GONE_CODES, 'SESSION_UNKNOWN_SEQ', 'SESSION_INVALID_EVENT']);

const MOOD_CALM: Steer = { kind: 'mood', tag: 'calm' };

/**
 * The Alexa custom skill endpoint over a `SessionService`: "play music" starts a session and an AudioPlayer
 * stream that never stops (each PlaybackNearlyFinished enqueues the session's next item), with skip, pause,
 * resume, thumbs and "calmer". See docs/voice.md for the request → session call mapping.
 *
 * @example
 * const handler = createAlexaHandler({ service, skillId, streamUrl: (id) => `https://cdn.example/${id}.mp3` });
 * const { status, body } = await handler(rawBody, req.headers);
 */
export function createAlexaHandler(options: AlexaHandlerOptions): AlexaHandler {
  const { service, skillId, verify } = options;
  const onError = options.onError ?? ((err: unknown) => console.warn('omakase voice:', err));
  const memory = createPlaybackMemory({ maxTokens: options.maxTokens, now: options.now });

  const report = (err: unknown) => {
    if (!(isOmakaseError(err) && QUIET.has(err.code))) onError(err);
  };

  const stream = createVoiceStream({ service, streamUrl: options.streamUrl, memory, report });
  const { entryFor, playing, play, openStream, nextAfter, dropIfWithdrawn } = stream;

  /** What this device plays now: the request's token, the player's, or the one it last started. */
  const current = (env: AlexaRequestEnvelope, connectionId: string) =>
    stream.current(connectionId, env.request.token || env.context.AudioPlayer?.token);

  async function feedback(entry: TokenEntry | undefined, connectionId: string, fb: SeqFeedback['type']) {
    if (!entry) return;
    const { sessionId, seq } = entry.ref;
    await service.feedback(sessionId, connectionId, { type: fb, seq } as SeqFeedback).catch(report);
  }

  async function skip(env: AlexaRequestEnvelope, connectionId: string): Promise<AudioDirective[]> {
    const entry = current(env, connectionId);
    if (!entry) {
      const first = await openStream(connectionId);
      return first ? [play('REPLACE_ALL', first)] : [];
    }
    const atMs = env.context.AudioPlayer?.offsetInMilliseconds ?? 0;
    try {
      const changed = await service.feedback(entry.ref.sessionId, connectionId, {
        type: 'skipped',
        seq: entry.ref.seq,
        atMs,
      });
      await dropIfWithdrawn(entry, changed.invalidated);
    } catch (err) {
      // A refused skip must not stop the skip itself.
      report(err);
    }
    const next = await nextAfter(entry, connectionId);
    if (!next) return [];
    playing(connectionId, next);
    return [play('REPLACE_ALL', next)];
  }

  async function pause(env: AlexaRequestEnvelope, connectionId: string): Promise<AudioDirective[]> {
    const entry = current(env, connectionId);
    if (entry) {
      entry.offsetMs = env.context.AudioPlayer?.offsetInMilliseconds ?? entry.offsetMs;
      await service.pause(entry.ref.sessionId, connectionId).catch(report);
    }
    return [stopDirective()];
  }

  async function resume(env: AlexaRequestEnvelope, connectionId: string): Promise<AudioDirective[]> {
    const entry = current(env, connectionId);
    if (!entry || entry.ref.itemId === undefined) {
      const first = await openStream(connectionId);
      return first ? [play('REPLACE_ALL', first)] : [];
    }
    await service.play(entry.ref.sessionId, connectionId).catch(report);
    playing(connectionId, entry);
    const offsetMs = entry.offsetMs ?? env.context.AudioPlayer?.offsetInMilliseconds ?? 0;
    return [play('REPLACE_ALL', entry, offsetMs)];
  }

  /** Feedback or steering, then a fresh queued item if the session withdrew the one Alexa holds. */
  async function change(
    env: AlexaRequestEnvelope,
    connectionId: string,
    how: 'liked' | 'disliked' | Steer,
  ): Promise<AudioDirective[] | undefined> {
    const entry = current(env, connectionId);
    if (!entry) return undefined;
    const { sessionId, seq } = entry.ref;
    const { invalidated } =
      typeof how === 'string'
        ? await service.feedback(sessionId, connectionId, { type: how, seq })
        : await service.steer(sessionId, connectionId, how);
    if (!(await dropIfWithdrawn(entry, invalidated))) return [];
    const fresh = await nextAfter(entry, connectionId);
    // Nothing fits any more: the withdrawn item must not play either.
    return [fresh ? play('REPLACE_ENQUEUED', fresh) : clearEnqueuedDirective()];
  }

  async function stop(env: AlexaRequestEnvelope, connectionId: string): Promise<AudioDirective[]> {
    await stream.endFor(connectionId, current(env, connectionId)?.ref.sessionId);
    return [stopDirective()];
  }

  async function onIntent(env: AlexaRequestEnvelope, connectionId: string): Promise<AlexaResponseEnvelope> {
    const name = env.request.intent?.name ?? '';
    const nothingPlaying = speechResponse('Nothing is playing. Say "play music" to start.');
    switch (name) {
      case 'PlayIntent': {
        const text = slotValues(env.request).join(' ');
        const first = await openStream(connectionId, text ? { text } : {});
        if (!first) return speechResponse('I found nothing to play for that. Try asking for something else.');
        return speechResponse(text ? `Playing ${text}.` : 'Playing music.', [play('REPLACE_ALL', first)]);
      }
      case 'AMAZON.NextIntent':
        return speechResponse(undefined, await skip(env, connectionId));
      case 'AMAZON.PauseIntent':
        return speechResponse(undefined, await pause(env, connectionId));
      case 'AMAZON.ResumeIntent':
        return speechResponse(undefined, await resume(env, connectionId));
      case 'AMAZON.StartOverIntent': {
        const entry = current(env, connectionId);
        if (!entry || entry.ref.itemId === undefined) return nothingPlaying;
        return speechResponse(undefined, [play('REPLACE_ALL', entry, 0)]);
      }
      case 'AMAZON.StopIntent':
      case 'AMAZON.CancelIntent':
        return speechResponse(undefined, await stop(env, connectionId));
      case 'ThumbsDownIntent':
      case 'DislikeIntent': {
        const directives = await change(env, connectionId, 'disliked');
        return directives ? speechResponse('Okay, less like this.', directives) : nothingPlaying;
      }
      case 'ThumbsUpIntent':
      case 'LikeIntent': {
        const directives = await change(env, connectionId, 'liked');
        return directives ? speechResponse('Glad you like it.', directives) : nothingPlaying;
      }
      case 'CalmerIntent': {
        const directives = await change(env, connectionId, MOOD_CALM);
        return directives ? speechResponse('Calmer it is.', directives) : nothingPlaying;
      }
      case 'AMAZON.HelpIntent':
        return speechResponse(
          'Say "play music", or play some jazz. While it plays, say next, pause, resume, I like this, I don\'t like this, or calmer.',
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
        if (entry) playing(connectionId, entry);
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

  async function dispatch(env: AlexaRequestEnvelope): Promise<AlexaResponseEnvelope> {
    const connectionId = connectionIdOf(env);
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
      return { status: 200, body: await dispatch(env) };
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
  const digest = createHash('sha256')
    .update(`${user.userId}\n${device?.deviceId ?? ''}`)
    .digest('base64url');
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
