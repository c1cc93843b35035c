import { afterEach, describe, expect, it } from 'vitest';
import type { Steer } from '../../../engine/session.ts';
import type { SessionStore } from '../../../sessions/sessionStore.ts';
import { audioEvent, intentRequest, launchRequest } from './alexaRequests.ts';
import {
  directivesOf,
  type Harness,
  harness,
  openServices,
  playOf,
  refOf,
  smallEngine,
  speechOf,
  tokenOf,
} from './voiceHarness.ts';

afterEach(async () => {
  await Promise.all(openServices.splice(0).map((s) => s.close()));
});

const player = (token: string, offsetInMilliseconds: number) => ({ token, offsetInMilliseconds });
const nearly = (token: string) => audioEvent('AudioPlayer.PlaybackNearlyFinished', token, 170_000);
const item = (token: string) => smallEngine.catalog.get(refOf(token).itemId!)!;

async function loggedSteers(store: SessionStore, sessionId: string): Promise<Steer[]> {
  const events = await store.readEvents(sessionId);
  return events
    .filter((e) => e.event.type === 'user.steer')
    .map((e) => (e.event as unknown as { steer: Steer }).steer);
}

/** A started stream with its follower queued: what a steer mid-stream meets. */
async function playingWithQueued(h: Harness) {
  const current = tokenOf(await h.call(launchRequest()));
  await h.call(audioEvent('AudioPlayer.PlaybackStarted', current));
  const queued = tokenOf(await h.call(nearly(current)));
  return { current, queued };
}

/** The tokens of the next `n` items after `token`. */
async function following(h: Harness, token: string, n: number) {
  const out: string[] = [];
  for (let t = token; out.length < n; ) {
    t = tokenOf(await h.call(nearly(t)));
    out.push(t);
  }
  return out;
}

describe('steering by voice, through the session', () => {
  it('"more like this" steers more-like the playing item and swaps the queued one', async () => {
    const h = harness();
    const { current, queued } = await playingWithQueued(h);
    const answer = await h.call(intentRequest('MoreLikeThisIntent', { player: player(current, 60_000) }));
    expect(speechOf(answer)).toBe('More like this.');
    const swap = playOf(answer);
    expect(swap.playBehavior).toBe('REPLACE_ENQUEUED');
    expect(swap.audioItem.stream.token).not.toBe(queued);
    expect(await loggedSteers(h.store, refOf(current).sessionId)).toEqual([
      { kind: 'more-like', itemId: refOf(current).itemId },
    ]);
  });

  it('"less of this artist" keeps the artist out of what follows', async () => {
    const h = harness();
    const { current } = await playingWithQueued(h);
    const artist = item(current).artist;
    const answer = await h.call(intentRequest('LessArtistIntent', { player: player(current, 60_000) }));
    expect(speechOf(answer)).toBe(`Okay, less of ${artist}.`);
    const fresh = playOf(answer).audioItem.stream.token;
    expect(playOf(answer).playBehavior).toBe('REPLACE_ENQUEUED');
    for (const t of [fresh, ...(await following(h, fresh, 10))]) expect(item(t).artist).not.toBe(artist);
    expect(await loggedSteers(h.store, refOf(current).sessionId)).toEqual([{ kind: 'less-artist', artist }]);
  });

  it('"something more upbeat" steers the mood, resolved through the slot type', async () => {
    const h = harness();
    const { current } = await playingWithQueued(h);
    const body = JSON.parse(
      intentRequest('MoodIntent', { slots: { mood: 'lively' }, player: player(current, 1) }),
    );
    body.request.intent.slots.mood.resolutions = {
      resolutionsPerAuthority: [
        { status: { code: 'ER_SUCCESS_MATCH' }, values: [{ value: { name: 'upbeat' } }] },
      ],
    };
    const answer = await h.call(JSON.stringify(body));
    expect(speechOf(answer)).toBe('Something upbeat it is.');
    const fresh = playOf(answer).audioItem.stream.token;
    for (const t of [fresh, ...(await following(h, fresh, 5))]) expect(item(t).tags).toContain('upbeat');
    expect(await loggedSteers(h.store, refOf(current).sessionId)).toEqual([{ kind: 'mood', tag: 'upbeat' }]);
  });

  it('"play some <genre>" mid-stream steers the same session rather than starting another', async () => {
    const h = harness();
    const { current, queued } = await playingWithQueued(h);
    const genre = item(current).tags[0] === 'genre5' ? 'genre6' : 'genre5';
    const answer = await h.call(
      intentRequest('PlayIntent', { slots: { genre }, player: player(current, 60_000) }),
    );
    expect(speechOf(answer)).toBe(`Playing ${genre}.`);
    const swap = playOf(answer);
    expect(swap.playBehavior).toBe('REPLACE_ENQUEUED');
    const fresh = swap.audioItem.stream.token;
    expect(fresh).not.toBe(queued);
    expect(refOf(fresh).sessionId).toBe(refOf(current).sessionId);
    const after = [fresh, ...(await following(h, fresh, 5))].map((t) => item(t).tags);
    expect(after.filter((tags) => tags.includes(genre)).length).toBeGreaterThanOrEqual(4);
    expect(await loggedSteers(h.store, refOf(current).sessionId)).toEqual([{ kind: 'tag', tag: genre }]);
  });

  it('"play some <genre>" after "something calmer" is that genre, not calm only; "calmer" after it is calm <genre>', async () => {
    const h = harness();
    const { current } = await playingWithQueued(h);
    const sid = refOf(current).sessionId;
    const genre = item(current).tags[0] === 'genre5' ? 'genre6' : 'genre5';
    await h.call(intentRequest('CalmerIntent', { player: player(current, 30_000) }));
    const answer = await h.call(
      intentRequest('PlayIntent', { slots: { genre }, player: player(current, 60_000) }),
    );
    expect(speechOf(answer)).toBe(`Playing ${genre}.`);
    const fresh = playOf(answer).audioItem.stream.token;
    const tokens = [fresh, ...(await following(h, fresh, 7))];
    const played = tokens.map((t) => item(t).tags);
    expect(played.filter((tags) => tags.includes(genre)).length).toBeGreaterThanOrEqual(6);
    // The mood said before gave way: not only calm items of the genre.
    expect(played.some((tags) => !tags.includes('calm'))).toBe(true);
    // A mood now refines the genre: calm items of it lead.
    const last = tokens.at(-1)!;
    await h.call(intentRequest('CalmerIntent', { player: player(last, 10_000) }));
    const calmer = (await following(h, last, 6)).map((t) => item(t).tags);
    expect(
      calmer.filter((tags) => tags.includes(genre) && tags.includes('calm')).length,
    ).toBeGreaterThanOrEqual(5);
    expect(await loggedSteers(h.store, sid)).toEqual([
      { kind: 'mood', tag: 'calm' },
      { kind: 'tag', tag: genre },
      { kind: 'mood', tag: 'calm' },
    ]);
  });

  it('with nothing queued yet, a steer speaks and the next enqueue follows it', async () => {
    const h = harness();
    const current = tokenOf(await h.call(launchRequest()));
    const answer = await h.call(intentRequest('CalmerIntent', { player: player(current, 1_000) }));
    expect(speechOf(answer)).toBe('Calmer it is.');
    expect(directivesOf(answer)).toEqual([]);
    expect(item(tokenOf(await h.call(nearly(current)))).tags).toContain('calm');
  });

  it('says so when the mood is not in the catalog, and changes nothing', async () => {
    const h = harness();
    const { current } = await playingWithQueued(h);
    const answer = await h.call(
      intentRequest('MoodIntent', { slots: { mood: 'spooky' }, player: player(current, 1_000) }),
    );
    expect(speechOf(answer)).toBe('I have nothing spooky in this catalog.');
    expect(directivesOf(answer)).toEqual([]);
    expect(await loggedSteers(h.store, refOf(current).sessionId)).toEqual([]);
  });
});
