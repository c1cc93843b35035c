import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../engine/engine.ts';
import { steerLead } from '../../../engine/policy/steerLead.ts';
import { replaces } from '../../../engine/sessionUpdate.ts';
import { nextPicks, type StreamCursor } from '../../../engine/streamCursor.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { smallCatalog } from '../fixtures.ts';

const catalog = smallCatalog({ items: 600, artists: 60 });
const engine = createEngine({ catalog, scorer: createFallbackScorer() });
const T0 = Date.UTC(2026, 0, 1, 20);
const tagsOf = (id: string) => catalog.get(id)!.tags;

describe('steering that orders (artist, mood, tag) leads the very next pick', () => {
  it('a mood steer: the next picks have that mood, the spacing rules still hold', async () => {
    const mood = catalog.items[0]!.tags[1]!;
    for (const seed of [1, 2, 3]) {
      let cursor: StreamCursor = { state: engine.start({ seed }), pool: null };
      for (let k = 0; k < 6; k++) {
        const out = await nextPicks(engine, cursor, 1, T0);
        const pos = out.picks[0]!.pos;
        cursor = {
          ...out.cursor,
          state: engine.feedback(out.cursor.state, { type: 'completed', pos }, T0).state,
        };
      }
      cursor = { ...cursor, state: engine.steer(cursor.state, { kind: 'mood', tag: mood }, T0).state };
      const out = await nextPicks(engine, cursor, 5, T0);
      for (const pick of out.picks) expect(tagsOf(pick.id), `seed ${seed}`).toContain(mood);
      const artists = out.picks.map((p) => p.artist);
      expect(new Set(artists).size).toBe(artists.length);
    }
  });

  it('steers combine; steering nothing in the catalog meets leads nothing', () => {
    const item = catalog.items[0]!;
    const both = steerLead(catalog, [
      { steer: { kind: 'artist', artist: item.artist } },
      { steer: { kind: 'mood', tag: item.tags[1]! } },
    ])!;
    const byArtist = catalog.byArtist(item.artist);
    expect(byArtist.filter(both).every((i) => catalog.items[i]!.tags.includes(item.tags[1]!))).toBe(true);
    expect(byArtist.some(both)).toBe(true);
    const other = catalog.items.find((i) => i.artist !== item.artist)!;
    expect(both(catalog.indexOf(other.id)!)).toBe(false);
    expect(steerLead(catalog, [{ steer: { kind: 'clear' } }])).toBeUndefined();
    expect(steerLead(catalog, [{ steer: { kind: 'tag', tag: 'no such tag' } }])).toBeUndefined();
  });

  it('a genre or an artist says anew what to play; a mood refines it, and leads alone when nothing is both', () => {
    expect(replaces({ kind: 'tag', tag: 'genre1' }, { kind: 'mood', tag: 'calm' })).toBe(true);
    expect(replaces({ kind: 'artist', artist: 'a' }, { kind: 'tag', tag: 'genre1' })).toBe(true);
    expect(replaces({ kind: 'tag', tag: 'genre1' }, { kind: 'artist', artist: 'a' })).toBe(true);
    expect(replaces({ kind: 'mood', tag: 'calm' }, { kind: 'tag', tag: 'genre1' })).toBe(false);
    expect(replaces({ kind: 'mood', tag: 'calm' }, { kind: 'mood', tag: 'upbeat' })).toBe(true);
    expect(replaces({ kind: 'tag', tag: 'genre1' }, { kind: 'less-artist', artist: 'a' })).toBe(false);
    let state = engine.start({ seed: 1 });
    state = engine.steer(state, { kind: 'mood', tag: 'calm' }, T0).state;
    state = engine.steer(state, { kind: 'tag', tag: 'genre2' }, T0).state;
    expect(state.steers.map((s) => s.steer)).toEqual([{ kind: 'tag', tag: 'genre2' }]);
    state = engine.steer(state, { kind: 'mood', tag: 'calm' }, T0).state;
    expect(state.steers.map((s) => s.steer.kind)).toEqual(['tag', 'mood']);
    // Nothing is both (an artist and a genre none of theirs has): the newest steer leads alone, not nothing.
    const artist = catalog.items[0]!.artist;
    const theirs = new Set(catalog.byArtist(artist).flatMap((k) => catalog.items[k]!.tags));
    const genre = catalog.items.map((i) => i.tags[0]!).find((t) => !theirs.has(t))!;
    const lead = steerLead(catalog, [
      { steer: { kind: 'artist', artist } },
      { steer: { kind: 'tag', tag: genre } },
    ])!;
    expect(lead).toBeDefined();
    expect(catalog.byTag(genre).every(lead)).toBe(true);
    expect(catalog.byArtist(artist).some(lead)).toBe(false);
  });
});
