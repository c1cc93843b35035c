import { describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog.ts';
import { generateDemoCatalog } from '../../engine/demo/demoCatalog.ts';
import { catalogTag, matchSpoken, resolveIntent, spokenWords } from '../../engine/intent.ts';
import type { CatalogRow } from '../../engine/item.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';

const TAGS = ['hip-hop', 'lo-fi hip-hop', 'r&b', 'k-pop', 'synth-pop', 'singer-songwriter', 'jazz', 'pop'];

function punctuatedCatalog(): Catalog {
  const rows: CatalogRow[] = TAGS.flatMap((tag, t) =>
    Array.from({ length: 5 }, (_, i) => ({
      id: `${t}-${i}`,
      title: `Song ${i}`,
      artist: t === 0 ? 'The Café Kings' : `Band ${t}`,
      tags: [tag],
      durationMs: 200_000,
      popularity: i,
    })),
  );
  return new Catalog(rows);
}

describe('spokenWords', () => {
  it('reads tags, names and speech the same way', () => {
    expect(spokenWords('Lo-Fi Hip-Hop')).toEqual(['lo', 'fi', 'hip', 'hop']);
    expect(spokenWords('R&B')).toEqual(['r', 'and', 'b']);
    expect(spokenWords('café')).toEqual(['cafe']);
  });
});

describe('matchSpoken and resolveIntent', () => {
  const catalog = punctuatedCatalog();

  it.each([
    ['play some hip hop', 'hip-hop'],
    ['hip-hop', 'hip-hop'],
    ['play hiphop', 'hip-hop'],
    ['lofi hip hop please', 'lo-fi hip-hop'],
    ['lo fi hiphop', 'lo-fi hip-hop'],
    ['R&B', 'r&b'],
    ['some r and b', 'r&b'],
    ['k-pop', 'k-pop'],
    ['kpop', 'k-pop'],
    ['synth pop', 'synth-pop'],
    ['singer songwriter stuff', 'singer-songwriter'],
    ['pop', 'pop'],
  ])('"%s" names the tag %s', (text, tag) => {
    expect(matchSpoken(text, catalog).tag).toBe(tag);
    expect(resolveIntent({ text }, catalog).tag).toBe(tag);
  });

  it('matches artists with accents and punctuation, and nothing in unrelated text', () => {
    expect(matchSpoken('music by the cafe kings', catalog).artist).toBe('The Café Kings');
    expect(matchSpoken('polka', catalog)).toEqual({});
    expect(resolveIntent({ text: 'polka' }, catalog)).toEqual({ text: 'polka' });
  });

  it('takes a tag in any spelling and refuses one the catalog lacks', () => {
    expect(catalogTag('Hip Hop', catalog)).toBe('hip-hop');
    expect(resolveIntent({ tag: 'K-Pop' }, catalog).tag).toBe('k-pop');
    let refused: unknown;
    try {
      resolveIntent({ tag: 'polka' }, catalog);
    } catch (err) {
      refused = err;
    }
    expect(isOmakaseError(refused, 'ENGINE_INVALID_REQUEST')).toBe(true);
  });

  it('every tag of the demo catalog can be asked for by its spoken words', () => {
    const demo = new Catalog(generateDemoCatalog({ seed: 1, tracks: 3000 }));
    const tags = [...demo.tags()];
    expect(tags.some((t) => /[^a-z ]/.test(t))).toBe(true);
    for (const tag of tags) {
      const said = spokenWords(tag).join(' ');
      expect(matchSpoken(`play some ${said}`, demo).tag, said).toBe(tag);
    }
  });
});
