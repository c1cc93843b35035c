import { afterEach, describe, expect, it } from 'vitest';
import { connectionIdOf, createAlexaHandler, UNVERIFIED } from '../../../adapters/voice/alexaHandler.ts';
import { parseAlexaRequest } from '../../../adapters/voice/alexaRequest.ts';
import type { AlexaResponseEnvelope } from '../../../adapters/voice/alexaResponse.ts';
import { isOmakaseError } from '../../../models/omakaseError.ts';
import {
  audioEvent,
  controllerCommand,
  exceptionEncountered,
  intentRequest,
  launchRequest,
  playbackFailed,
  SKILL_ID,
  sessionEnded,
} from './alexaRequests.ts';
import {
  directivesOf,
  harness,
  loggedFeedback,
  oneArtistEngine,
  openServices,
  playOf,
  refOf,
  smallEngine,
  speechOf,
  streamUrl,
  tokenOf,
} from './voiceHarness.ts';

afterEach(async () => {
  await Promise.all(openServices.splice(0).map((s) => s.close()));
});

const player = (token: string, offsetInMilliseconds: number) => ({ token, offsetInMilliseconds });

describe('createAlexaHandler: starting a stream', () => {
  it("answers LaunchRequest with speech and one REPLACE_ALL Play of the session's first item at offset 0", async () => {
    const h = harness();
    const answer = await h.call(launchRequest());
    expect(answer.status).toBe(200);
    expect(speechOf(answer)).toBe('Playing music.');
    const play = playOf(answer);
    expect(play.playBehavior).toBe('REPLACE_ALL');
    const { stream } = play.audioItem;
    expect(stream.offsetInMilliseconds).toBe(0);
    expect(stream.expectedPreviousToken).toBeUndefined();
    const ref = refOf(stream.token);
    expect(ref.seq).toBe(1);
    expect(stream.url).toBe(streamUrl(ref.itemId!));
    expect(play.audioItem.metadata?.title).toBe(smallEngine.catalog.get(ref.itemId!)!.title);
    expect((answer.body as AlexaResponseEnvelope).response.shouldEndSession).toBe(true);
    // The token leads back to a live session owned by this device.
    const more = await h.service.more(ref.sessionId, connectionIdOf(parseAlexaRequest(launchRequest())), 1);
    expect(more[0].seq).toBe(2);
  });

  it('turns PlayIntent slots into the intent text: "play genre3" streams genre3', async () => {
    const h = harness();
    const answer = await h.call(intentRequest('PlayIntent', { slots: { genre: 'genre3' } }));
    expect(speechOf(answer)).toBe('Playing genre3.');
    let token = tokenOf(answer);
    for (let i = 0; i < 4; i++) {
      expect(smallEngine.catalog.get(refOf(token).itemId!)!.tags).toContain('genre3');
      token = tokenOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', token, 150_000)));
    }
  });

  it('a new launch on the same device ends the previous session', async () => {
    const h = harness();
    const first = refOf(tokenOf(await h.call(launchRequest())));
    const second = refOf(tokenOf(await h.call(launchRequest())));
    expect(second.sessionId).not.toBe(first.sessionId);
    const conn = connectionIdOf(parseAlexaRequest(launchRequest()));
    await expect(h.service.more(first.sessionId, conn, 1)).rejects.toMatchObject({ code: 'SESSION_ENDED' });
  });
});

describe('createAlexaHandler: the endless stream', () => {
  it('records started and completed, and enqueues the next item with expectedPreviousToken', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const started = await h.call(audioEvent('AudioPlayer.PlaybackStarted', t1));
    expect(started.body).toEqual({ version: '1.0', response: {} });
    const nearly = await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 170_000));
    const play = playOf(nearly);
    expect(play.playBehavior).toBe('ENQUEUE');
    expect(play.audioItem.stream.expectedPreviousToken).toBe(t1);
    const t2 = play.audioItem.stream.token;
    expect(refOf(t2).seq).toBe(2);
    expect(refOf(t2).itemId).not.toBe(refOf(t1).itemId);
    expect(directivesOf(await h.call(audioEvent('AudioPlayer.PlaybackFinished', t1, 180_000)))).toEqual([]);
    await h.call(audioEvent('AudioPlayer.PlaybackStarted', t2));
    const t3 = tokenOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t2, 100_000)));
    expect(refOf(t3).seq).toBe(3);
    expect(await loggedFeedback(h.store, refOf(t1).sessionId)).toEqual([
      { type: 'started', seq: 1 },
      { type: 'completed', seq: 1 },
      { type: 'started', seq: 2 },
    ]);
    expect(h.errors).toEqual([]);
  });

  it('is idempotent per token: a repeated PlaybackNearlyFinished gets the identical ENQUEUE', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const first = await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 170_000));
    const again = await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 171_000));
    expect(again.body).toEqual(first.body);
    // Concurrent repeats too, and the session delivered only one item for them.
    const t2 = tokenOf(first);
    const [a, b] = await Promise.all([
      h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t2, 1)),
      h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t2, 2)),
    ]);
    expect(a.body).toEqual(b.body);
    expect(refOf(tokenOf(a)).seq).toBe(3);
  });

  it('reads a token it never saw (restart, another node) back from the token text', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const other = createAlexaHandler({
      service: h.service,
      catalog: h.engine.catalog,
      skillId: SKILL_ID,
      streamUrl,
      verify: UNVERIFIED,
      warn: () => {},
    });
    const answer = await other(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 170_000));
    const next = tokenOf(answer);
    expect(refOf(next)).toMatchObject({ sessionId: refOf(t1).sessionId, seq: 2 });
  });

  it('starts a new session when the old one is gone, so the stream does not stop', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const stop = await h.call(intentRequest('AMAZON.StopIntent', { player: player(t1, 5_000) }));
    expect(directivesOf(stop)).toEqual([{ type: 'AudioPlayer.Stop' }]);
    expect(speechOf(stop)).toBeUndefined();
    const play = playOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 170_000)));
    expect(play.playBehavior).toBe('ENQUEUE');
    expect(refOf(play.audioItem.stream.token).sessionId).not.toBe(refOf(t1).sessionId);
  });

  it('PlaybackFailed plays the queued follower (or a new item) with REPLACE_ALL, without feedback', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const t2 = tokenOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 170_000)));
    const failed = playOf(await h.call(playbackFailed(t1)));
    expect(failed.playBehavior).toBe('REPLACE_ALL');
    expect(failed.audioItem.stream.token).toBe(t2);
    const failedAgain = playOf(await h.call(playbackFailed(t2)));
    expect(refOf(failedAgain.audioItem.stream.token).seq).toBe(3);
    expect(await loggedFeedback(h.store, refOf(t1).sessionId)).toEqual([]);
  });
});

describe('createAlexaHandler: skip, pause, resume', () => {
  it('AMAZON.NextIntent records a skip at the offset and plays a different item with REPLACE_ALL', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    await h.call(audioEvent('AudioPlayer.PlaybackStarted', t1));
    const next = await h.call(intentRequest('AMAZON.NextIntent', { player: player(t1, 42_000) }));
    const play = playOf(next);
    expect(play.playBehavior).toBe('REPLACE_ALL');
    expect(play.audioItem.stream.offsetInMilliseconds).toBe(0);
    expect(play.audioItem.stream.token).not.toBe(t1);
    expect(refOf(play.audioItem.stream.token).itemId).not.toBe(refOf(t1).itemId);
    expect(await loggedFeedback(h.store, refOf(t1).sessionId)).toEqual([
      { type: 'started', seq: 1 },
      { type: 'skipped', seq: 1, atMs: 42_000 },
    ]);
  });

  it('PlaybackController.NextCommandIssued skips too, and plays the item already queued if it still fits', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    await h.call(audioEvent('AudioPlayer.PlaybackStarted', t1));
    const t2 = tokenOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 170_000)));
    // A late skip (past 30 s) withdraws nothing: the queued item plays.
    const play = playOf(
      await h.call(controllerCommand('PlaybackController.NextCommandIssued', player(t1, 175_000))),
    );
    expect(play.playBehavior).toBe('REPLACE_ALL');
    expect(play.audioItem.stream.token).toBe(t2);
    expect((await loggedFeedback(h.store, refOf(t1).sessionId)).at(-1)).toEqual({
      type: 'skipped',
      seq: 1,
      atMs: 175_000,
    });
  });

  it('pause → Stop; PlaybackStopped → empty; resume → the same token at the stored offset', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    await h.call(audioEvent('AudioPlayer.PlaybackStarted', t1));
    const pause = await h.call(intentRequest('AMAZON.PauseIntent', { player: player(t1, 61_000) }));
    expect(directivesOf(pause)).toEqual([{ type: 'AudioPlayer.Stop' }]);
    const stopped = await h.call(audioEvent('AudioPlayer.PlaybackStopped', t1, 61_250));
    expect(stopped.body).toEqual({ version: '1.0', response: {} });
    // Alexa's player context may lag; the offset PlaybackStopped reported wins.
    const resume = playOf(await h.call(intentRequest('AMAZON.ResumeIntent', { player: player(t1, 0) })));
    expect(resume.playBehavior).toBe('REPLACE_ALL');
    expect(resume.audioItem.stream.token).toBe(t1);
    expect(resume.audioItem.stream.offsetInMilliseconds).toBe(61_250);
  });

  it('buttons: PauseCommandIssued → Stop, PlayCommandIssued → the same token at the offset', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const pause = await h.call(controllerCommand('PlaybackController.PauseCommandIssued', player(t1, 9_000)));
    expect(directivesOf(pause)).toEqual([{ type: 'AudioPlayer.Stop' }]);
    // A handler that never saw the token resumes from Alexa's own player offset.
    const fresh = harness(smallEngine, h.service);
    const play = playOf(
      await fresh.call(controllerCommand('PlaybackController.PlayCommandIssued', player(t1, 9_000))),
    );
    expect(play.audioItem.stream).toMatchObject({ token: t1, offsetInMilliseconds: 9_000 });
  });
});

describe('createAlexaHandler: thumbs and steering', () => {
  it('thumbs-down withdraws a queued item of the same artist and swaps it with REPLACE_ENQUEUED', async () => {
    const engine = oneArtistEngine();
    const h = harness(engine);
    const artist = (token: string) => engine.catalog.get(refOf(token).itemId!)!.artist;
    let current = tokenOf(await h.call(intentRequest('PlayIntent', { slots: { artist: 'Artist A' } })));
    let queued = tokenOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', current, 190_000)));
    for (let i = 0; i < 20 && artist(queued) !== artist(current); i++) {
      await h.call(audioEvent('AudioPlayer.PlaybackFinished', current, 200_000));
      current = queued;
      await h.call(audioEvent('AudioPlayer.PlaybackStarted', current));
      queued = tokenOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', current, 190_000)));
    }
    expect(artist(queued)).toBe(artist(current));
    const down = await h.call(intentRequest('ThumbsDownIntent', { player: player(current, 30_000) }));
    expect(speechOf(down)).toBe('Okay, less like this.');
    const swap = playOf(down);
    expect(swap.playBehavior).toBe('REPLACE_ENQUEUED');
    expect(swap.audioItem.stream.expectedPreviousToken).toBeUndefined();
    const fresh = swap.audioItem.stream.token;
    expect(fresh).not.toBe(queued);
    expect(artist(fresh)).not.toBe(artist(current));
    // A repeated PlaybackNearlyFinished now enqueues the replacement, never the withdrawn item.
    const repeat = playOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', current, 191_000)));
    expect(repeat.audioItem.stream.token).toBe(fresh);
    expect((await loggedFeedback(h.store, refOf(current).sessionId)).at(-1)).toEqual({
      type: 'disliked',
      seq: refOf(current).seq,
    });
  });

  it('thumbs-down with nothing withdrawn only speaks; thumbs-up records liked', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const down = await h.call(intentRequest('DislikeIntent', { player: player(t1, 10_000) }));
    expect(speechOf(down)).toBe('Okay, less like this.');
    expect(directivesOf(down)).toEqual([]);
    const up = await h.call(intentRequest('LikeIntent', { player: player(t1, 11_000) }));
    expect(speechOf(up)).toBe('Glad you like it.');
    expect(await loggedFeedback(h.store, refOf(t1).sessionId)).toEqual([
      { type: 'disliked', seq: 1 },
      { type: 'liked', seq: 1 },
    ]);
  });

  it('CalmerIntent steers the mood to calm and swaps the queued item with REPLACE_ENQUEUED', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const t2 = tokenOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 170_000)));
    const calmer = await h.call(intentRequest('CalmerIntent', { player: player(t1, 171_000) }));
    expect(speechOf(calmer)).toBe('Calmer it is.');
    const swap = playOf(calmer);
    expect(swap.playBehavior).toBe('REPLACE_ENQUEUED');
    expect(swap.audioItem.stream.token).not.toBe(t2);
    expect(smallEngine.catalog.get(refOf(swap.audioItem.stream.token).itemId!)!.tags).toContain('calm');
  });
});

describe('createAlexaHandler: request verification is never silently off', () => {
  it('needs `verify`: a verifier, or UNVERIFIED, which it warns about when made', () => {
    const h = harness();
    const base = { service: h.service, catalog: h.engine.catalog, skillId: SKILL_ID, streamUrl };
    // A JavaScript caller (or a cast) leaving it out is refused, not served unverified.
    expect(() =>
      createAlexaHandler({ ...base } as unknown as Parameters<typeof createAlexaHandler>[0]),
    ).toThrow(/needs `verify`/);
    const warnings: string[] = [];
    createAlexaHandler({ ...base, verify: UNVERIFIED, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/REQUEST VERIFICATION IS OFF/)]);
    createAlexaHandler({ ...base, verify: async () => {}, warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
  });
});

describe('createAlexaHandler: errors and odd requests', () => {
  it('refuses bodies that are not Alexa requests with a coded 400', async () => {
    const h = harness();
    expect(await h.call('{"request":')).toEqual({
      status: 400,
      body: { error: { code: 'VOICE_MALFORMED_JSON', message: expect.any(String) } },
    });
    const noType = JSON.parse(launchRequest());
    delete noType.request.type;
    expect((await h.call(JSON.stringify(noType))).body).toMatchObject({
      error: { code: 'VOICE_INVALID_REQUEST' },
    });
    const noToken = JSON.parse(audioEvent('AudioPlayer.PlaybackStarted', 'x:1:t1'));
    delete noToken.request.token;
    expect((await h.call(JSON.stringify(noToken))).status).toBe(400);
    const other = await h.call(launchRequest({ skillId: 'amzn1.ask.skill.someone-else' }));
    expect(other).toMatchObject({ status: 400, body: { error: { code: 'VOICE_WRONG_SKILL' } } });
  });

  it('a failing session service gives a spoken apology on intents and an empty answer on AudioPlayer events', async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    await h.service.close();
    const launch = await h.call(launchRequest());
    expect(launch.status).toBe(200);
    expect(speechOf(launch)).toBe('Something went wrong on my side. Please try again in a moment.');
    expect(JSON.stringify(launch.body)).not.toMatch(/SESSION_|closed|Error/);
    const nearly = await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 170_000));
    const empty = { version: '1.0', response: {} };
    expect(nearly).toEqual({ status: 200, body: empty, text: JSON.stringify(empty) });
    expect(h.errors.some((e) => isOmakaseError(e, 'SESSION_STORE_UNAVAILABLE'))).toBe(true);
  });

  it("another user's token leads nowhere: empty answer, and that session is untouched", async () => {
    const h = harness();
    const t1 = tokenOf(await h.call(launchRequest()));
    const intruder = { userId: 'amzn1.ask.account.INTRUDER' };
    const answer = await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 1, intruder));
    expect(directivesOf(answer)).toEqual([]);
    expect(h.errors.some((e) => isOmakaseError(e, 'SESSION_TAKEN_OVER'))).toBe(true);
    expect(refOf(tokenOf(await h.call(audioEvent('AudioPlayer.PlaybackNearlyFinished', t1, 2)))).seq).toBe(2);
  });

  it('answers unknown tokens, SessionEnded and ExceptionEncountered with an empty response', async () => {
    const h = harness();
    for (const body of [
      audioEvent('AudioPlayer.PlaybackNearlyFinished', 'https://audio1.maxi80.com'),
      audioEvent('AudioPlayer.PlaybackStarted', 'not-ours:0'),
      sessionEnded(),
      exceptionEncountered(),
    ]) {
      const answer = await h.call(body);
      expect(answer).toEqual({
        status: 200,
        body: { version: '1.0', response: {} },
        text: JSON.stringify(answer.body),
      });
    }
    expect(h.errors).toHaveLength(1); // the ExceptionEncountered report
  });

  it('an insecure streamUrl is never sent to Alexa', async () => {
    const h = harness();
    const handler = createAlexaHandler({
      service: h.service,
      catalog: h.engine.catalog,
      verify: UNVERIFIED,
      warn: () => {},
      skillId: SKILL_ID,
      streamUrl: (id) => `http://media.example.com/${id}.mp3`,
      onError: (err) => h.errors.push(err),
    });
    const answer = await handler(launchRequest());
    expect(directivesOf(answer)).toEqual([]);
    expect(speechOf(answer)).toBe("Sorry, I couldn't do that.");
    expect(h.errors.some((e) => isOmakaseError(e, 'VOICE_STREAM_URL_INVALID'))).toBe(true);
  });

  it('speaks for intents it does not stream for, and keeps the session open for help', async () => {
    const h = harness();
    const help = await h.call(intentRequest('AMAZON.HelpIntent'));
    expect((help.body as AlexaResponseEnvelope).response.shouldEndSession).toBe(false);
    expect((help.body as AlexaResponseEnvelope).response.reprompt).toBeDefined();
    const shuffle = await h.call(intentRequest('AMAZON.ShuffleOnIntent'));
    expect(speechOf(shuffle)).toMatch(/isn't something/);
    const nothing = await h.call(intentRequest('ThumbsUpIntent'));
    expect(speechOf(nothing)).toMatch(/Nothing is playing/);
  });
});
