/**
 * Alexa request bodies shaped like the real ones (alexa-samples/skill-sample-nodejs-audio-player,
 * single-stream/lambda/test/request/*.json; types in ask-sdk-model): LaunchRequest and IntentRequest carry a
 * `session`, AudioPlayer and PlaybackController requests do not; `context.System` always names the skill,
 * user and device; `context.AudioPlayer` carries the player's token and offset once the skill played audio.
 */
export const SKILL_ID = 'amzn1.ask.skill.6f354531-e96b-4b80-b446-1b77bce73996';
export const USER_ID = 'amzn1.ask.account.AEZGJNUG46HFLWNRQRXMNMRTMWM2VQ3GQSTHSM4JD6EQHVQK4O5NB453QFPH';
export const DEVICE_ID = 'amzn1.ask.device.AH6KGBY2K7VVKPZSRKYO7JMHGKAE6W33ZZQL7J33F22WOAISGYRX7EVX';

export interface Who {
  skillId?: string;
  userId?: string;
  deviceId?: string;
  timestamp?: string;
}

/** The player's state, as in `context.AudioPlayer`. */
export interface Player {
  token: string;
  offsetInMilliseconds: number;
  playerActivity?: string;
}

let requestNo = 0;

function envelope(request: Record<string, unknown>, who: Who, player?: Player, withSession = false) {
  const skillId = who.skillId ?? SKILL_ID;
  const userId = who.userId ?? USER_ID;
  const body: Record<string, unknown> = {
    version: '1.0',
    context: {
      ...(player ? { AudioPlayer: { playerActivity: 'PLAYING', ...player } } : {}),
      System: {
        application: { applicationId: skillId },
        user: { userId },
        device: { deviceId: who.deviceId ?? DEVICE_ID, supportedInterfaces: { AudioPlayer: {} } },
        apiEndpoint: 'https://api.amazonalexa.com',
        apiAccessToken: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test',
      },
    },
    request: {
      requestId: `amzn1.echo-api.request.${++requestNo}`,
      timestamp: who.timestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      locale: 'en-US',
      ...request,
    },
  };
  if (withSession) {
    body.session = {
      new: true,
      sessionId: `amzn1.echo-api.session.${requestNo}`,
      application: { applicationId: skillId },
      user: { userId },
      attributes: {},
    };
  }
  return JSON.stringify(body);
}

export const launchRequest = (who: Who = {}, player?: Player) =>
  envelope({ type: 'LaunchRequest' }, who, player, true);

/** An IntentRequest; `slots` maps slot name → said value (e.g. `{ genre: 'jazz' }`). */
export function intentRequest(
  name: string,
  options: { slots?: Record<string, string>; player?: Player } & Who = {},
) {
  const slots = Object.fromEntries(
    Object.entries(options.slots ?? {}).map(([slot, value]) => [
      slot,
      { name: slot, value, confirmationStatus: 'NONE', source: 'USER' },
    ]),
  );
  return envelope(
    { type: 'IntentRequest', dialogState: 'COMPLETED', intent: { name, confirmationStatus: 'NONE', slots } },
    options,
    options.player,
    true,
  );
}

export type AudioEvent =
  | 'AudioPlayer.PlaybackStarted'
  | 'AudioPlayer.PlaybackFinished'
  | 'AudioPlayer.PlaybackStopped'
  | 'AudioPlayer.PlaybackNearlyFinished';

/** An AudioPlayer event about `token` at `offset` (no `session`, as Alexa sends them). */
export function audioEvent(type: AudioEvent, token: string, offset = 0, who: Who = {}) {
  const activity = type === 'AudioPlayer.PlaybackStopped' ? 'STOPPED' : 'PLAYING';
  return envelope({ type, token, offsetInMilliseconds: offset }, who, {
    token,
    offsetInMilliseconds: offset,
    playerActivity: activity,
  });
}

export function playbackFailed(token: string, who: Who = {}) {
  return envelope(
    {
      type: 'AudioPlayer.PlaybackFailed',
      token,
      error: { type: 'MEDIA_ERROR_SERVICE_UNAVAILABLE', message: 'stream not found' },
      currentPlaybackState: { token, offsetInMilliseconds: 0, playerActivity: 'PLAYING' },
    },
    who,
    { token, offsetInMilliseconds: 0, playerActivity: 'STOPPED' },
  );
}

export type ControllerCommand =
  | 'PlaybackController.NextCommandIssued'
  | 'PlaybackController.PreviousCommandIssued'
  | 'PlaybackController.PlayCommandIssued'
  | 'PlaybackController.PauseCommandIssued';

/** A button press on the device or a remote: the player's state is in `context.AudioPlayer` only. */
export const controllerCommand = (type: ControllerCommand, player?: Player, who: Who = {}) =>
  envelope({ type }, who, player);

export const sessionEnded = (who: Who = {}) =>
  envelope({ type: 'SessionEndedRequest', reason: 'USER_INITIATED' }, who, undefined, true);

export const exceptionEncountered = (who: Who = {}) =>
  envelope(
    {
      type: 'System.ExceptionEncountered',
      error: { type: 'INVALID_RESPONSE', message: 'Invalid directive' },
      cause: { requestId: 'amzn1.echo-api.request.0' },
    },
    who,
  );
