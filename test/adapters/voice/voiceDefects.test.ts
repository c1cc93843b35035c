import { afterEach, describe, expect, it } from 'vitest';
import { connectionIdOf } from '../../../adapters/voice/alexaHandler.ts';
import { parseAlexaRequest } from '../../../adapters/voice/alexaRequest.ts';
import { boundSpeech, MAX_SPEECH_CHARS, playDirective } from '../../../adapters/voice/alexaResponse.ts';
import { createVoiceServer, type VoiceServer } from '../../../adapters/voice/voiceServer.ts';
import { Catalog } from '../../../engine/catalog.ts';
import { createEngine } from '../../../engine/engine.ts';
import type { CatalogRow } from '../../../engine/item.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import {
  audioEvent,
  controllerCommand,
  intentRequest,
  launchRequest,
  playbackFailed,
} from './alexaRequests.ts';
import {
  directivesOf,
  harness,
  loggedFeedback,
  openServices,
  playOf,
  postJson,
  refOf,
  smallEngine,
  speechOf,
  tokenOf,
} from './voiceHarness.ts';

/** Regression tests for the defects an outside AudioPlayer client found (issue 14). */

const servers: VoiceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(openServices.splice(0).map((s) => s.close()));
});

const player = (token: string, offsetInMilliseconds: number) => ({ token, offsetInMilliseconds });
const nearly = (token: string, offset = 170_000) =>
  audioEvent('AudioPlayer.PlaybackNearlyFinished', token, offset);

/** An IntentRequest whose slot Alexa resolved through the slot type's synonyms (entity resolution). */
function resolvedSlotRequest(intent: string, slot: string, heard: string, resolved?: string) {
  const body = JSON.parse(intentRequest(intent, { slots: { [slot]: heard } }));
  body.request.intent.slots[slot].resolutions = {
    resolutionsPerAuthority: [
      {
        authority: 'amzn1.er-authority.echo-sdk.amzn1.ask.skill.test.MOOD',
        status: { code: resolved ? 'ER_SUCCESS_MATCH' : 'ER_SUCCESS_NO_MATCH' },
        ...(resolved ? { values: [{ value: { name: resolved, id: resolved.toUpperCase() } }] } : {}),
      },
    ],
  };
  return JSON.stringify(body);
}

/** A catalog whose genres carry punctuation, as 7 of the demo's 59 tags do. */
function punctuatedEngine() {
  const genres = ['hip-hop', 'lo-fi hip-hop', 'r&b', 'k-pop', 'jazz'];
  const rows: CatalogRow[] = [];
  for (const [g, genre] of genres.entries()) {
    for (let i = 0; i < 40; i++) {
      rows.push({
        id: `g${g}-${i}`,
        title: `Song ${i}`,
        artist: `Artist ${g}-${i % 10}`,
        album: `Album ${g}-${i % 10}`,
        tags: [genre, i % 2 ? 'calm' : 'upbeat'],
        durationMs: 200_000,
        popularity: 100 - i,
      });
    }
  }
  return createEngine({ catalog: new Catalog(rows), scorer: createFallbackScorer() });
}

/** Follows the stream n items on from `token`, returning every token heard. */
async function follow(h: ReturnType<typeof harness>, token: string, n: number): Promise<string[]> {
  const tokens = [token];
  for (let i = 1; i < n; i++) tokens.push(tokenOf(await h.call(nearly(tokens[i - 1]))));
  return tokens;
}

describe('voice defects found by an outside client', () => {
  it('a late PlaybackNearlyFinished for an older stream leaves the current stream alone', async () => {
    const h = harness();
    const old = tokenOf(await h.call(launchRequest()));
    const now = tokenOf(await h.call(launchRequest()));
    const late = await h.call(nearly(old));
    expect(directivesOf(late)).toEqual([]);
    // The stream playing now still takes feedback and goes on in the same session.
    const conn = connectionIdOf(parseAlexaRequest(launchRequest()));
    const down = await h.call(intentRequest('ThumbsDownIntent', { player: player(now, 20_000) }));
    expect(speechOf(down)).toBe('Okay, less like this.');
    const next = refOf(tokenOf(await h.call(nearly(now))));
    expect(next.sessionId).toBe(refOf(now).sessionId);
    expect((await h.service.more(refOf(now).sessionId, conn, 1))[0].seq).toBeGreaterThan(next.seq);
    expect(await loggedFeedback(h.store, refOf(now).sessionId)).toEqual([{ type: 'disliked', seq: 1 }]);
  });

  it('a PlaybackFailed for a token that is not ours leaves the current stream alone', async () => {
    const h = harness();
    const now = tokenOf(await h.call(launchRequest()));
    expect(directivesOf(await h.call(playbackFailed('not-ours')))).toEqual([]);
    expect(refOf(tokenOf(await h.call(nearly(now)))).sessionId).toBe(refOf(now).sessionId);
    // A skip whose player context names a foreign token skips the device's own stream.
    const skipped = tokenOf(
      await h.call(intentRequest('AMAZON.NextIntent', { player: player('not-ours', 1) })),
    );
    expect(refOf(skipped).sessionId).toBe(refOf(now).sessionId);
  });

  it('reads the resolved slot value when entity resolution matched ("relaxing" → calm)', async () => {
    const h = harness();
    const answer = await h.call(resolvedSlotRequest('PlayIntent', 'mood', 'relaxing', 'calm'));
    expect(speechOf(answer)).toBe('Playing calm.');
    const tokens = await follow(h, tokenOf(answer), 8);
    const calm = tokens.filter((t) => smallEngine.catalog.get(refOf(t).itemId!)!.tags.includes('calm'));
    expect(calm).toHaveLength(8);
    // No match: what was heard is used, and the listener hears that nothing fits.
    const unresolved = await h.call(resolvedSlotRequest('PlayIntent', 'mood', 'polka', undefined));
    expect(speechOf(unresolved)).toMatch(/couldn't find polka/);
  });

  it.each([
    ['hip hop', 'hip-hop'],
    ['lofi hip hop', 'lo-fi hip-hop'],
    ['R&B', 'r&b'],
    ['k pop', 'k-pop'],
  ])('"play some %s" streams the catalog tag %s', async (said, tag) => {
    const engine = punctuatedEngine();
    const h = harness(engine);
    const answer = await h.call(intentRequest('PlayIntent', { slots: { genre: said } }));
    expect(speechOf(answer)).toBe(`Playing ${tag}.`);
    for (const token of await follow(h, tokenOf(answer), 6)) {
      expect(engine.catalog.get(refOf(token).itemId!)!.tags).toContain(tag);
    }
  });

  it('says so when nothing in the catalog matches, and plays nothing', async () => {
    const h = harness(punctuatedEngine());
    const answer = await h.call(intentRequest('PlayIntent', { slots: { genre: 'polka' } }));
    expect(speechOf(answer)).toBe(
      "I couldn't find polka in this catalog. Try another genre, mood or artist.",
    );
    expect(directivesOf(answer)).toEqual([]);
  });

  it('refuses a body that is not valid UTF-8 with VOICE_MALFORMED_JSON', async () => {
    const h = harness();
    const server = await createVoiceServer({ handler: (body) => h.call(body), port: 0 });
    servers.push(server);
    const valid = Buffer.from(launchRequest(), 'utf8');
    // "en-US" with the hyphen replaced by a lone continuation byte: JSON-shaped, but not UTF-8.
    const at = valid.indexOf('en-US');
    const broken = Buffer.concat([valid.subarray(0, at + 2), Buffer.from([0x80]), valid.subarray(at + 3)]);
    const answer = await postBytes(server.url, broken);
    expect(answer).toEqual({
      status: 400,
      json: { error: { code: 'VOICE_MALFORMED_JSON', message: expect.any(String) } },
    });
    expect((await postBytes(server.url, valid)).status).toBe(200);
  });

  it('keeps speech under Alexa’s 8,000 characters, even for a 10 kB slot', async () => {
    const h = harness();
    const huge = 'la '.repeat(3_400);
    for (const body of [
      intentRequest('PlayIntent', { slots: { genre: huge } }),
      intentRequest('MoodIntent', { slots: { mood: huge }, player: player('x:1:t1', 0) }),
    ]) {
      const text = speechOf(await h.call(body)) ?? '';
      expect(text.length).toBeGreaterThan(0);
      expect(text.length).toBeLessThan(200);
    }
    expect(boundSpeech('word '.repeat(3_000)).length).toBeLessThan(MAX_SPEECH_CHARS);
    expect(boundSpeech('short')).toBe('short');
    // Display text too: a catalog title of any length keeps the response far under Alexa's 24 kB.
    const long = playDirective('REPLACE_ALL', {
      token: 's:1:t1',
      url: 'https://media.example.com/t1.mp3',
      offsetMs: 0,
      title: 'x'.repeat(30_000),
      subtitle: 'y '.repeat(20_000),
    });
    expect(JSON.stringify(long).length).toBeLessThan(1_000);
  });

  it('"next" twice before the player reports the new item skips twice', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    await h.call(audioEvent('AudioPlayer.PlaybackStarted', t1));
    const first = tokenOf(await h.call(intentRequest('AMAZON.NextIntent', { player: player(t1, 40_000) })));
    // The second request still carries t1: the player has not started `first` yet.
    const second = tokenOf(
      await h.call(controllerCommand('PlaybackController.NextCommandIssued', player(t1, 40_500))),
    );
    expect(second).not.toBe(first);
    expect(second).not.toBe(t1);
    expect(await loggedFeedback(h.store, refOf(t1).sessionId)).toEqual([
      { type: 'started', seq: 1 },
      { type: 'skipped', seq: 1, atMs: 40_000 },
      { type: 'skipped', seq: refOf(first).seq, atMs: 0 },
    ]);
  });

  it('a request sent again with the same requestId gets the first answer (a retried "next" is one skip)', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const next = intentRequest('AMAZON.NextIntent', { player: player(t1, 40_000) });
    const first = await h.call(next);
    expect((await h.call(next)).body).toEqual(first.body);
    expect(
      (await loggedFeedback(h.store, refOf(t1).sessionId)).filter((f) => f.type === 'skipped'),
    ).toHaveLength(1);
  });

  it("on resume, the player's offset wins over a remembered one that already played", async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    await h.call(intentRequest('AMAZON.PauseIntent', { player: player(t1, 30_000) }));
    await h.call(audioEvent('AudioPlayer.PlaybackStopped', t1, 30_000));
    const resumed = playOf(
      await h.call(intentRequest('AMAZON.ResumeIntent', { player: player(t1, 30_000) })),
    );
    expect(resumed.audioItem.stream.offsetInMilliseconds).toBe(30_000);
    await h.call(audioEvent('AudioPlayer.PlaybackStarted', t1, 30_000));
    // Paused again where this node did not hear it; the player reports 100 s on the next resume.
    const again = playOf(
      await h.call(controllerCommand('PlaybackController.PlayCommandIssued', player(t1, 100_000))),
    );
    expect(again.audioItem.stream).toMatchObject({ token: t1, offsetInMilliseconds: 100_000 });
  });

  it('16 launches open on at least 12 different tracks', async () => {
    const h = harness();
    const openings = new Set<string>();
    for (let i = 0; i < 16; i++) openings.add(refOf(tokenOf(await h.call(launchRequest()))).itemId!);
    expect(openings.size).toBeGreaterThanOrEqual(12);
  });
});

const postBytes = async (url: string, body: Buffer) => {
  const { status, json } = await postJson(url, body);
  return { status, json };
};
