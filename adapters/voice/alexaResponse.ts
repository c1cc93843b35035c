/**
 * Alexa response envelopes and AudioPlayer directives, typed after `ask-sdk-model`
 * (`ResponseEnvelope`, `interfaces.audioplayer.PlayDirective`, `StopDirective`).
 */
export type PlayBehavior = 'REPLACE_ALL' | 'ENQUEUE' | 'REPLACE_ENQUEUED';

export interface PlayDirective {
  type: 'AudioPlayer.Play';
  playBehavior: PlayBehavior;
  audioItem: {
    stream: {
      url: string;
      /** At most 1024 characters; comes back in every AudioPlayer request about this stream. */
      token: string;
      /** Only with ENQUEUE: the token that must be playing for the enqueue to take. */
      expectedPreviousToken?: string;
      offsetInMilliseconds: number;
    };
    metadata?: { title?: string; subtitle?: string };
  };
}

export interface StopDirective {
  type: 'AudioPlayer.Stop';
}

/** CLEAR_ENQUEUED drops the queued items and lets the current one play on. */
export interface ClearQueueDirective {
  type: 'AudioPlayer.ClearQueue';
  clearBehavior: 'CLEAR_ENQUEUED' | 'CLEAR_ALL';
}

export type AudioDirective = PlayDirective | StopDirective | ClearQueueDirective;

export interface AlexaResponseEnvelope {
  version: '1.0';
  response: {
    outputSpeech?: { type: 'PlainText'; text: string };
    reprompt?: { outputSpeech: { type: 'PlainText'; text: string } };
    directives?: AudioDirective[];
    shouldEndSession?: boolean;
  };
}

/** What the handler plays: a stream token, its URL and what a screen may show. */
export interface StreamSpec {
  token: string;
  url: string;
  offsetMs: number;
  title?: string;
  subtitle?: string;
}

/** An `AudioPlayer.Play` directive; `expectedPreviousToken` is set only for ENQUEUE, as Alexa requires. */
export function playDirective(
  behavior: PlayBehavior,
  stream: StreamSpec,
  expectedPreviousToken?: string,
): PlayDirective {
  // Catalog titles are unbounded; Alexa refuses a response over 24 kB.
  const short = (text: string | undefined) => (text === undefined ? undefined : boundSpeech(text, 200));
  const metadata =
    stream.title !== undefined || stream.subtitle !== undefined
      ? { metadata: { title: short(stream.title), subtitle: short(stream.subtitle) } }
      : {};
  return {
    type: 'AudioPlayer.Play',
    playBehavior: behavior,
    audioItem: {
      stream: {
        url: stream.url,
        token: stream.token,
        ...(behavior === 'ENQUEUE' && expectedPreviousToken !== undefined ? { expectedPreviousToken } : {}),
        offsetInMilliseconds: Math.max(0, Math.floor(stream.offsetMs)),
      },
      ...metadata,
    },
  };
}

export const stopDirective = (): StopDirective => ({ type: 'AudioPlayer.Stop' });

export const clearEnqueuedDirective = (): ClearQueueDirective => ({
  type: 'AudioPlayer.ClearQueue',
  clearBehavior: 'CLEAR_ENQUEUED',
});

/** The answer to an AudioPlayer or PlaybackController request: directives only, or nothing at all. */
export function playbackResponse(directives: AudioDirective[] = []): AlexaResponseEnvelope {
  return directives.length === 0
    ? { version: '1.0', response: {} }
    : { version: '1.0', response: { directives, shouldEndSession: true } };
}

/** Alexa's limit on `outputSpeech` text ("must be less than 8000 characters"). */
export const MAX_SPEECH_CHARS = 8000;
/** Alexa's limit on an `audioItem.stream.url` (the whole response must stay under 24 kB). */
export const MAX_STREAM_URL_CHARS = 8000;

/** Speech cut below Alexa's limit at a word break, so no answer is refused for its length. */
export function boundSpeech(text: string, max = MAX_SPEECH_CHARS): string {
  if (text.length < max) return text;
  const cut = text.slice(0, max - 2);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

/**
 * The answer to a launch or an intent: optional speech, optional directives. With `reprompt` the session
 * stays open for the listener's answer; otherwise it ends and any audio plays on.
 */
export function speechResponse(
  text: string | undefined,
  directives: AudioDirective[] = [],
  reprompt?: string,
): AlexaResponseEnvelope {
  return {
    version: '1.0',
    response: {
      ...(text ? { outputSpeech: { type: 'PlainText' as const, text: boundSpeech(text) } } : {}),
      ...(reprompt
        ? { reprompt: { outputSpeech: { type: 'PlainText' as const, text: boundSpeech(reprompt) } } }
        : {}),
      ...(directives.length > 0 ? { directives } : {}),
      shouldEndSession: reprompt === undefined,
    },
  };
}
