import { describe, expect, it } from 'vitest';
import { parseAlexaRequest, slotValues } from '../../../adapters/voice/alexaRequest.ts';
import {
  formatStreamToken,
  MAX_TOKEN_LENGTH,
  parseStreamToken,
} from '../../../adapters/voice/streamToken.ts';
import { intentRequest } from './alexaRequests.ts';

/** As in alexa-samples/skill-sample-nodejs-audio-player single-stream/lambda/test/request/next_intent.json: no deviceId. */
const sampleNextIntent = JSON.stringify({
  version: '1.0',
  session: {
    new: true,
    sessionId: 'amzn1.echo-api.session.123',
    application: { applicationId: 'amzn1.ask.skill.123' },
    user: { userId: 'amzn1.ask.account.123' },
  },
  context: {
    AudioPlayer: {
      offsetInMilliseconds: 255764,
      token: 'https://audio1.maxi80.com',
      playerActivity: 'STOPPED',
    },
    System: {
      application: { applicationId: 'amzn1.ask.skill.123' },
      user: { userId: 'amzn1.ask.account.123' },
      device: { supportedInterfaces: { AudioPlayer: {} } },
    },
  },
  request: {
    type: 'IntentRequest',
    requestId: 'amzn1.echo-api.request.123',
    timestamp: '2017-03-13T22:39:07Z',
    locale: 'en-GB',
    intent: { name: 'AMAZON.NextIntent' },
  },
});

// biome-ignore lint/suspicious/noExplicitAny: each case spoils one field of a parsed body, whatever its type.
type Body = any;

describe('parseAlexaRequest', () => {
  it('reads a real sample request', () => {
    const env = parseAlexaRequest(sampleNextIntent);
    expect(env.request.intent?.name).toBe('AMAZON.NextIntent');
    expect(env.context.AudioPlayer?.offsetInMilliseconds).toBe(255764);
    expect(env.context.System.device?.deviceId).toBeUndefined();
  });

  it.each([
    ['request.type', (b: Body) => delete b.request.type],
    ['request.timestamp', (b: Body) => (b.request.timestamp = 12)],
    ['context.System', (b: Body) => delete b.context],
    ['context.System.user.userId', (b: Body) => (b.context.System.user = {})],
    ['context.System.application.applicationId', (b: Body) => delete b.context.System.application],
    [
      'context.AudioPlayer.offsetInMilliseconds',
      (b: Body) => (b.context.AudioPlayer.offsetInMilliseconds = -1),
    ],
    ['request.intent.name', (b: Body) => (b.request.intent = {})],
  ])('names the first bad field (%s) in VOICE_INVALID_REQUEST', (field, spoil) => {
    const body = JSON.parse(sampleNextIntent);
    spoil(body);
    expect(() => parseAlexaRequest(JSON.stringify(body))).toThrow(
      expect.objectContaining({ code: 'VOICE_INVALID_REQUEST', details: expect.objectContaining({ field }) }),
    );
  });

  it('refuses text that is not JSON, and JSON that is not an object', () => {
    expect(() => parseAlexaRequest('{')).toThrow(expect.objectContaining({ code: 'VOICE_MALFORMED_JSON' }));
    expect(() => parseAlexaRequest('[1]')).toThrow(
      expect.objectContaining({ code: 'VOICE_INVALID_REQUEST' }),
    );
  });

  it('collects said slot values, dropping empty ones', () => {
    const env = parseAlexaRequest(
      intentRequest('PlayIntent', { slots: { mood: 'calm', genre: ' jazz ', artist: '' } }),
    );
    expect(slotValues(env.request)).toEqual(['calm', 'jazz']);
  });
});

describe('stream tokens', () => {
  const sessionId = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('round-trips session, seq and item id, any characters in the id', () => {
    for (const itemId of ['t1', 'spotify:track:6rqhFgbbKwnb9MLmUQDhG6', 'ä/ü?&:%']) {
      const token = formatStreamToken({ sessionId, seq: 12, itemId });
      expect(token.split(':')).toHaveLength(3);
      expect(parseStreamToken(token)).toEqual({ sessionId, seq: 12, itemId });
    }
  });

  it('drops the item id rather than pass 1024 characters', () => {
    const token = formatStreamToken({ sessionId, seq: 3, itemId: 'x'.repeat(2000) });
    expect(token).toBe(`${sessionId}:3`);
    expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(parseStreamToken(token)).toEqual({ sessionId, seq: 3 });
  });

  it('reads foreign or corrupt tokens as nothing', () => {
    for (const token of [
      '',
      'https://audio1.maxi80.com',
      `${sessionId}:0:t1`,
      `${sessionId}:x:t1`,
      `${sessionId}:1:%E0`,
      'a:1:b:c',
      `:1:t1`,
    ]) {
      expect(parseStreamToken(token), token).toBeUndefined();
    }
  });
});
