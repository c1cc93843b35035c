import type { InvariantResult } from './frameInvariants.ts';

/**
 * The Alexa response rules a voice session's answers must keep, from Amazon's AudioPlayer interface
 * reference and response format (developer.amazon.com/docs/custom-skills/audioplayer-interface-reference.html,
 * request-and-response-json-reference.html):
 * - `one-play`: at most one `AudioPlayer.Play` directive in a response;
 * - `end-session`: a response that sends a Play directive sets `shouldEndSession: true`;
 * - `playback-answer`: an answer to an `AudioPlayer.*` or `PlaybackController.*` request has no
 *   `outputSpeech`, `card` or `reprompt`; an answer to `PlaybackStopped` has no directive either;
 * - `stream`: every Play's `url` is https and at most 8,000 characters, its `token` 1 to 1,024 characters;
 * - `expected-previous-token`: `expectedPreviousToken` is set on ENQUEUE only, and equals the token playing
 *   at that moment (Alexa drops an enqueue that names another);
 * - `no-repeated-token`: a token that played and was followed by another is never sent again;
 * - `speech-length`: `outputSpeech` and `reprompt` text under 8,000 characters;
 * - `response-size`: the response body at most 24 kB.
 */
export const ALEXA_RULES = [
  'one-play',
  'end-session',
  'playback-answer',
  'stream',
  'expected-previous-token',
  'no-repeated-token',
  'speech-length',
  'response-size',
] as const;
export type AlexaRule = (typeof ALEXA_RULES)[number];

const MAX_SPEECH = 8000;
const MAX_URL = 8000;
const MAX_TOKEN = 1024;
const MAX_RESPONSE_BYTES = 24 * 1024;

/** One request as Alexa sent it and the answer the endpoint gave. */
export interface VoiceExchange {
  request: {
    request: { type: string; token?: string; intent?: { name?: string } };
    context?: { AudioPlayer?: { token?: string } };
  };
  status: number;
  body: unknown;
}

interface Play {
  type: 'AudioPlayer.Play';
  playBehavior: string;
  audioItem?: { stream?: { url?: string; token?: string; expectedPreviousToken?: string } };
}

/**
 * Checks a session's answers, in the order they were given, against `ALEXA_RULES`, following the device as
 * Alexa's player would: what plays is the token of the last `PlaybackStarted` (or `PlaybackNearlyFinished`)
 * the device reported, or of the last REPLACE_ALL it was sent.
 *
 * @example
 * const results = checkAlexaRules([{ request: envelope, status: 200, body }]);
 */
export function checkAlexaRules(exchanges: readonly VoiceExchange[]): InvariantResult[] {
  const results = new Map<AlexaRule, InvariantResult>(
    ALEXA_RULES.map((name) => [name, { name, ok: true, broken: 0 }]),
  );
  let playing: string | undefined;
  /** Tokens that played and were followed by another. */
  const done = new Set<string>();
  const nowPlaying = (token: string | undefined) => {
    if (token === undefined || token === playing) return;
    if (playing !== undefined) done.add(playing);
    playing = token;
  };

  exchanges.forEach((x, k) => {
    const type = x.request.request.type;
    const what = `answer ${k} (${type === 'IntentRequest' ? (x.request.request.intent?.name ?? type) : type})`;
    const broke = (rule: AlexaRule, why: string) => {
      const r = results.get(rule)!;
      r.ok = false;
      r.broken++;
      r.first ??= `${what}: ${why}`;
    };
    if (type === 'AudioPlayer.PlaybackStarted' || type === 'AudioPlayer.PlaybackNearlyFinished')
      nowPlaying(x.request.request.token);
    if (x.status !== 200) return;
    const text = JSON.stringify(x.body);
    if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES)
      broke('response-size', `${Buffer.byteLength(text)} bytes`);
    const response = ((x.body as { response?: Record<string, unknown> }).response ?? {}) as {
      outputSpeech?: { text?: string };
      reprompt?: { outputSpeech?: { text?: string } };
      card?: unknown;
      directives?: { type: string }[];
      shouldEndSession?: boolean;
    };
    const directives = response.directives ?? [];
    const plays = directives.filter((d): d is Play => d.type === 'AudioPlayer.Play');
    for (const spoken of [response.outputSpeech?.text, response.reprompt?.outputSpeech?.text])
      if (spoken !== undefined && spoken.length >= MAX_SPEECH)
        broke('speech-length', `${spoken.length} characters of speech`);
    if (plays.length > 1) broke('one-play', `${plays.length} Play directives`);
    if (plays.length > 0 && response.shouldEndSession !== true)
      broke('end-session', 'a Play directive without shouldEndSession: true');
    if (type.startsWith('AudioPlayer.') || type.startsWith('PlaybackController.')) {
      for (const field of ['outputSpeech', 'card', 'reprompt'] as const)
        if (response[field] !== undefined) broke('playback-answer', `it has ${field}`);
      if (type === 'AudioPlayer.PlaybackStopped' && directives.length > 0)
        broke('playback-answer', 'PlaybackStopped answered with directives');
    }
    for (const play of plays) {
      const stream = play.audioItem?.stream ?? {};
      const token = stream.token;
      if (typeof stream.url !== 'string' || !stream.url.startsWith('https://') || stream.url.length > MAX_URL)
        broke('stream', `url ${JSON.stringify(stream.url?.slice(0, 80))}`);
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN)
        broke('stream', `token of ${token?.length ?? 0} characters`);
      if (play.playBehavior === 'ENQUEUE') {
        if (stream.expectedPreviousToken !== playing)
          broke(
            'expected-previous-token',
            `ENQUEUE expects ${stream.expectedPreviousToken} while ${playing ?? 'nothing'} plays`,
          );
      } else if (stream.expectedPreviousToken !== undefined)
        broke('expected-previous-token', `${play.playBehavior} carries an expectedPreviousToken`);
      if (token !== undefined && done.has(token)) broke('no-repeated-token', `${token} played already`);
      if (play.playBehavior === 'REPLACE_ALL') nowPlaying(token);
    }
  });
  return [...results.values()];
}
