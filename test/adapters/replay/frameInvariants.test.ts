import { describe, expect, it } from 'vitest';
import { checkFrames, checkPlayed, type PlayedItem } from '../../../adapters/replay/frameInvariants.ts';

const item = (seq: number, id: string, artist: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'item',
    seq,
    re: 'm1',
    item: { id, artist, album: `${artist}-a`, startMs: seq * 200_000, ...extra },
  });
const more = (n: number) => JSON.stringify({ type: 'more', id: 'm1', n });
const broken = (check: { results: { name: string; ok: boolean; first?: string }[] }) =>
  Object.fromEntries(check.results.filter((r) => !r.ok).map((r) => [r.name, r.first]));

describe('checkFrames', () => {
  it('passes a clean stream', () => {
    const sent = ['a', 'b', 'c', 'd', 'e', 'f'].map((artist, k) => item(k + 1, `i${k}`, artist));
    expect(checkFrames([sent], [[more(6)]]).ok).toBe(true);
  });

  it('finds a seq gap, an item past its more, a repeat and an artist too soon, each with where', () => {
    const sent = [
      item(1, 'x', 'A'),
      item(3, 'y', 'B'),
      item(4, 'z', 'C'),
      item(5, 'x', 'D'),
      item(6, 'w', 'C'),
    ];
    expect(broken(checkFrames([sent], [[more(4)]]))).toEqual({
      'contiguous-seq': 'frame 1 of connection 0: seq 3 after 1',
      credit: 'frame 4 of connection 0: item 5 for more m1, which asked for 4',
      'no-repeats': 'seq 5: x again, 3 items after seq 1',
      'artist-spacing': 'seq 6: C again after 2 picks (gap 4)',
    });
  });

  it('leaves withdrawn items out, and a resume may send older seqs again', () => {
    const first = [item(1, 'x', 'A'), item(2, 'y', 'B'), JSON.stringify({ type: 'invalidated', seqs: [2] })];
    // After the resume seq 2 is not sent again (withdrawn); y may come back as a new pick only if it
    // never played: here it did not, so it is no repeat.
    const second = [item(1, 'x', 'A'), item(3, 'y', 'C'), item(4, 'v', 'D')];
    expect(broken(checkFrames([first, second], [[more(2)], [more(3)]]))).toEqual({});
  });
});

describe('checkPlayed', () => {
  const played = (artists: string[]): PlayedItem[] =>
    artists.map((artist, k) => ({
      seq: k + 1,
      item: { id: `i${k}`, artist, album: `${artist}-a`, startMs: k * 200_000 },
    }));

  it('an artist within the gap is fine where the engine says it relaxed the spacing', () => {
    const stream = played(['A', 'B', 'A']);
    expect(checkPlayed(stream).find((r) => r.name === 'artist-spacing')!.ok).toBe(false);
    stream[2].item.reasons = { rules: [] };
    expect(checkPlayed(stream).find((r) => r.name === 'artist-spacing')!.ok).toBe(true);
  });

  it('checks the radio rules only in a radio session', () => {
    const stream = played(['A', 'A', 'A', 'A', 'A']).map((p) => ({
      ...p,
      item: { ...p.item, reasons: { rules: [] } },
    }));
    expect(checkPlayed(stream).find((r) => r.name === 'radio-rules')!.ok).toBe(true);
    const radio = checkPlayed(stream, { profile: 'radio' }).find((r) => r.name === 'radio-rules')!;
    expect(radio.ok).toBe(false);
    expect(radio.first).toMatch(/^seq \d: radio-/);
  });
});
