import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { VOICE_ERRORS } from '../../../adapters/voice/errors.ts';
import { readInteractionModel } from '../../../adapters/voice/interactionModel.ts';
import { intentRequest, launchRequest } from './alexaRequests.ts';
import { harness, openServices, speechOf, tokenOf } from './voiceHarness.ts';

const doc = readFileSync(new URL('../../../docs/voice.md', import.meta.url), 'utf8');

/** Rows of the error table: `| \`VOICE_X\` | 400 | meaning |`. */
const errorRows = new Map(
  [...doc.matchAll(/^\| `(VOICE_[A-Z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])] as const),
);

const model = readInteractionModel();

afterEach(async () => {
  await Promise.all(openServices.splice(0).map((s) => s.close()));
});

describe('docs/voice.md', () => {
  it('documents every VOICE_* code with its HTTP status, and no code that does not exist', () => {
    for (const [code, { status }] of Object.entries(VOICE_ERRORS)) {
      expect(errorRows.get(code), `${code} is missing from docs/voice.md or has another status`).toBe(status);
    }
    for (const [, code] of doc.matchAll(/`(VOICE_(?!ERRORS`)[A-Z0-9_]+)`/g)) {
      expect(code in VOICE_ERRORS, `${code} is in the doc but not in VOICE_ERRORS`).toBe(true);
    }
  });

  it('names the shipped interaction model and every setting of `omakase serve`', () => {
    expect(doc).toContain('adapters/voice/skill-package/interactionModels/custom/en-US.json');
    for (const setting of [
      'OMAKASE_ALEXA_SKILL_ID',
      'OMAKASE_STREAM_URL',
      'OMAKASE_VOICE_PORT',
      'OMAKASE_ALEXA_VERIFY',
      'OMAKASE_ALEXA_TRUST_ROOT',
      '--alexa-skill-id',
      '--stream-url',
      '--voice-port',
      '--alexa-unverified',
      '--alexa-trust-root',
    ]) {
      expect(doc, setting).toContain(setting);
    }
  });

  it('ships a valid interaction model whose custom intents the handler answers', async () => {
    const { intents } = model.interactionModel.languageModel;
    const custom = intents.filter((i) => !i.name.startsWith('AMAZON.'));
    expect(custom.map((i) => i.name).sort()).toEqual([
      'CalmerIntent',
      'LessArtistIntent',
      'MoodIntent',
      'MoreLikeThisIntent',
      'PlayIntent',
      'ThumbsDownIntent',
      'ThumbsUpIntent',
    ]);
    // Every slot type the model uses is built in or defined in the model.
    const types = new Set(model.interactionModel.languageModel.types.map((t) => t.name));
    for (const slot of intents.flatMap((i) => i.slots ?? [])) {
      expect(slot.type.startsWith('AMAZON.') || types.has(slot.type), slot.type).toBe(true);
    }
    // Alexa's audio skills must declare these built-ins.
    for (const builtIn of [
      'PauseIntent',
      'ResumeIntent',
      'NextIntent',
      'StopIntent',
      'CancelIntent',
      'HelpIntent',
    ]) {
      expect(intents.some((i) => i.name === `AMAZON.${builtIn}`)).toBe(true);
    }
    const h = harness();
    const token = tokenOf(await h.call(launchRequest()));
    // PlayIntent last: it replaces the session the other intents talk about.
    const playLast = [...custom].sort(
      (a, b) => Number(a.name === 'PlayIntent') - Number(b.name === 'PlayIntent'),
    );
    for (const intent of playLast) {
      const slots = Object.fromEntries(
        (intent.slots ?? []).map((s) => [s.name, s.name === 'mood' ? 'calm' : '']),
      );
      const answer = await h.call(
        intentRequest(intent.name, { slots, player: { token, offsetInMilliseconds: 1_000 } }),
      );
      expect(answer.status).toBe(200);
      expect(speechOf(answer), intent.name).not.toMatch(
        /isn't something|Sorry|went wrong|Nothing is playing/,
      );
    }
  });
});
