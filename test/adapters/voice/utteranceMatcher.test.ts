import { describe, expect, it } from 'vitest';
import { readInteractionModel } from '../../../adapters/voice/interactionModel.ts';
import { createUtteranceMatcher } from '../../../adapters/voice/utteranceMatcher.ts';

const understand = createUtteranceMatcher(readInteractionModel());

describe('createUtteranceMatcher (the shipped interaction model as grammar)', () => {
  it.each([
    ['Play some jazz.', 'PlayIntent', { genre: { heard: 'jazz' } }],
    ['play music', 'PlayIntent', {}],
    ['play something relaxing', 'PlayIntent', { mood: { heard: 'relaxing', resolved: 'calm' } }],
    ['play music by the morning saints', 'PlayIntent', { artist: { heard: 'the morning saints' } }],
    ['skip', 'AMAZON.NextIntent', {}],
    ['I love this', 'ThumbsUpIntent', {}],
    ["I don't like this", 'ThumbsDownIntent', {}],
    ['not this artist', 'LessArtistIntent', {}],
    ['more like this', 'MoreLikeThisIntent', {}],
    ['something calmer', 'CalmerIntent', {}],
    ['something more lively', 'MoodIntent', { mood: { heard: 'lively', resolved: 'upbeat' } }],
    ['play something more upbeat', 'MoodIntent', { mood: { heard: 'upbeat', resolved: 'upbeat' } }],
    ['pause', 'AMAZON.PauseIntent', {}],
    ['stop', 'AMAZON.StopIntent', {}],
  ])('"%s" is %s', (said, intent, slots) => {
    expect(understand(said)).toEqual({ type: 'IntentRequest', intent, slots });
  });

  it('opens the skill, and matches nothing it does not know', () => {
    expect(understand('open omakase radio')).toEqual({ type: 'LaunchRequest' });
    expect(understand('sing me a song')).toBeUndefined();
    expect(understand('   ')).toBeUndefined();
  });
});
