import { voiceError } from './errors.ts';

/**
 * The part of an Alexa request envelope the voice adapter reads, typed after `ask-sdk-model`
 * (`RequestEnvelope`, `interfaces.system.SystemState`, `interfaces.audioplayer.*`), and its validator.
 * Unknown fields are ignored: Alexa adds fields over time.
 */
export interface AlexaRequestEnvelope {
  version: string;
  session?: { sessionId?: string; application?: { applicationId?: string }; user?: { userId?: string } };
  context: {
    System: {
      application: { applicationId: string };
      user: { userId: string };
      device?: { deviceId?: string; supportedInterfaces?: Record<string, unknown> };
    };
    /** The skill's player state; present on requests while (or after) this skill played audio. */
    AudioPlayer?: AudioPlayerState;
  };
  request: AlexaRequest;
}

export interface AudioPlayerState {
  token?: string;
  offsetInMilliseconds?: number;
  playerActivity?: 'IDLE' | 'PAUSED' | 'PLAYING' | 'BUFFER_UNDERRUN' | 'FINISHED' | 'STOPPED';
}

export interface SlotValue {
  name: string;
  /** What Alexa heard ("relaxing"). */
  value?: string;
  /** Entity resolution: the slot type's value the heard word resolved to (a synonym's canonical value). */
  resolutions?: {
    resolutionsPerAuthority?: {
      authority?: string;
      status?: { code?: string };
      values?: { value?: { name?: string; id?: string } }[];
    }[];
  };
}

/**
 * One Alexa request, all types in one shape: which optional fields are set depends on `type`
 * (`intent` on IntentRequest; `token` and `offsetInMilliseconds` on AudioPlayer.Playback*; `error` and
 * `currentPlaybackState` on PlaybackFailed). The validator checks the fields each type needs.
 */
export interface AlexaRequest {
  type: string;
  requestId: string;
  /** ISO 8601, e.g. 2017-10-26T07:46:38Z. */
  timestamp: string;
  locale?: string;
  intent?: { name: string; slots?: Record<string, SlotValue> };
  token?: string;
  offsetInMilliseconds?: number;
  error?: { type?: string; message?: string };
  currentPlaybackState?: AudioPlayerState;
  reason?: string;
}

export const AUDIO_PLAYER_EVENTS = [
  'AudioPlayer.PlaybackStarted',
  'AudioPlayer.PlaybackFinished',
  'AudioPlayer.PlaybackStopped',
  'AudioPlayer.PlaybackNearlyFinished',
] as const;
export type AudioPlayerEventType = (typeof AUDIO_PLAYER_EVENTS)[number];

export const PLAYBACK_CONTROLLER_COMMANDS = [
  'PlaybackController.NextCommandIssued',
  'PlaybackController.PreviousCommandIssued',
  'PlaybackController.PlayCommandIssued',
  'PlaybackController.PauseCommandIssued',
] as const;
export type PlaybackControllerType = (typeof PLAYBACK_CONTROLLER_COMMANDS)[number];

/** True for requests whose answer may hold AudioPlayer directives only (no speech, card or reprompt). */
export function isPlaybackRequest(type: string): boolean {
  return type.startsWith('AudioPlayer.') || type.startsWith('PlaybackController.');
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Parses and checks a raw request body. Throws VOICE_MALFORMED_JSON for text that is not JSON and
 * VOICE_INVALID_REQUEST (naming the first missing field) for JSON that is not an Alexa request envelope.
 */
export function parseAlexaRequest(rawBody: string): AlexaRequestEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch (err) {
    throw voiceError(
      'VOICE_MALFORMED_JSON',
      'The request body is not JSON; send an Alexa request envelope.',
      {
        cause: err,
      },
    );
  }
  const bad = (field: string) =>
    voiceError(
      'VOICE_INVALID_REQUEST',
      `Not an Alexa request: \`${field}\` is missing or of the wrong type.`,
      {
        details: { field },
      },
    );
  if (!isObject(json)) throw bad('(root object)');
  const { request, context } = json;
  if (!isObject(request)) throw bad('request');
  if (!isText(request.type)) throw bad('request.type');
  if (!isText(request.requestId)) throw bad('request.requestId');
  if (!isText(request.timestamp)) throw bad('request.timestamp');
  if (!isObject(context) || !isObject(context.System)) throw bad('context.System');
  const system = context.System;
  if (!isObject(system.application) || !isText(system.application.applicationId))
    throw bad('context.System.application.applicationId');
  if (!isObject(system.user) || !isText(system.user.userId)) throw bad('context.System.user.userId');
  if (system.device !== undefined && !isObject(system.device)) throw bad('context.System.device');
  if (context.AudioPlayer !== undefined) {
    const player = context.AudioPlayer;
    if (!isObject(player)) throw bad('context.AudioPlayer');
    if (player.token !== undefined && typeof player.token !== 'string')
      throw bad('context.AudioPlayer.token');
    if (player.offsetInMilliseconds !== undefined && !isOffset(player.offsetInMilliseconds))
      throw bad('context.AudioPlayer.offsetInMilliseconds');
  }
  if (request.type.startsWith('AudioPlayer.Playback')) {
    if (typeof request.token !== 'string') throw bad('request.token');
    if (request.offsetInMilliseconds !== undefined && !isOffset(request.offsetInMilliseconds))
      throw bad('request.offsetInMilliseconds');
  }
  if (request.type === 'IntentRequest') {
    if (!isObject(request.intent) || !isText(request.intent.name)) throw bad('request.intent.name');
    if (request.intent.slots !== undefined && !isObject(request.intent.slots))
      throw bad('request.intent.slots');
  }
  return json as unknown as AlexaRequestEnvelope;
}

function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/**
 * A slot's value: the resolved value when entity resolution matched (`ER_SUCCESS_MATCH`: "relaxing" → "calm"
 * through the slot type's synonyms), else what was heard; undefined when the slot is empty.
 */
export function slotText(slot: unknown): string | undefined {
  if (!isObject(slot)) return undefined;
  const authorities = isObject(slot.resolutions) ? slot.resolutions.resolutionsPerAuthority : undefined;
  if (Array.isArray(authorities)) {
    for (const authority of authorities) {
      if (!isObject(authority) || !isObject(authority.status)) continue;
      if (authority.status.code !== 'ER_SUCCESS_MATCH' || !Array.isArray(authority.values)) continue;
      const first = authority.values[0];
      const name = isObject(first) && isObject(first.value) ? first.value.name : undefined;
      if (typeof name === 'string' && name.trim().length > 0) return name.trim();
    }
  }
  return typeof slot.value === 'string' && slot.value.trim().length > 0 ? slot.value.trim() : undefined;
}

/** The slot values said with an intent, in slot order ("jazz", "calm"), resolved where Alexa resolved them. */
export function slotValues(request: AlexaRequest): string[] {
  const slots = request.type === 'IntentRequest' ? (request.intent?.slots ?? {}) : {};
  return Object.values(slots)
    .map(slotText)
    .filter((value): value is string => value !== undefined);
}

/** One named slot's value (see `slotText`). */
export function slotValue(request: AlexaRequest, name: string): string | undefined {
  return request.type === 'IntentRequest' ? slotText(request.intent?.slots?.[name]) : undefined;
}
