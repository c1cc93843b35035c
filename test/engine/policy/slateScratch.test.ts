import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../engine/config.ts';
import { type SlateRequest, type SlotChoices, selectSlate } from '../../../engine/policy/slatePolicy.ts';
import { createRng } from '../../../engine/rng.ts';
import type { HistoryEntry, Profile } from '../../../engine/session.ts';
import { smallCatalog } from '../fixtures.ts';

const catalog = smallCatalog();

/** The last `length` plays of a stream of catalog items, back to back, ending at time 0. */
function historyOf(length: number, seed: number): HistoryEntry[] {
  const rng = createRng(seed);
  const out: HistoryEntry[] = [];
  let startMs = 0;
  for (let pos = length - 1; pos >= 0; pos--) {
    const item = catalog.items[rng.int(catalog.size)];
    startMs -= item.durationMs;
    out.unshift({
      pos,
      id: item.id,
      artist: item.artist,
      album: item.album,
      startMs,
      durationMs: item.durationMs,
    });
  }
  return out;
}

/** A slate of `n` from `size` scored candidates after `history`, all drawn from `seed`. */
function request(size: number, seed: number, profile: Profile, n = 5): SlateRequest {
  const rng = createRng(seed);
  const history = historyOf(40, seed + 1);
  const played = new Set(history.map((h) => catalog.indexOf(h.id)));
  const indexes: number[] = [];
  while (indexes.length < size) {
    const i = rng.int(catalog.size);
    if (!played.has(i) && !indexes.includes(i)) indexes.push(i);
  }
  return {
    catalog,
    config: DEFAULT_CONFIG,
    profile,
    history,
    candidates: { indexes, sources: indexes.map(() => 1) },
    scores: Float32Array.from(indexes, () => rng.next()),
    n,
    firstPos: history.length,
    nowMs: 0,
    rng: createRng(seed + 2),
    model: { id: 'test', degraded: false },
  };
}

describe('selectSlate working arrays (kept between calls)', () => {
  for (const profile of ['default', 'radio'] as const) {
    it(`picks the same whatever slates came before it (${profile})`, () => {
      const first = selectSlate(request(40, 7, profile));
      // A larger slate leaves other values in every kept array, and a longer one more seeds.
      selectSlate(request(300, 8, profile, 12));
      expect(selectSlate(request(40, 7, profile))).toEqual(first);
      selectSlate(request(25, 9, profile, 3));
      expect(selectSlate(request(40, 7, profile))).toEqual(first);
    });
  }

  it('a slate picked while another is being picked (a follow callback) gets arrays of its own', () => {
    const alone = selectSlate(request(60, 11, 'radio'));
    const follow = (inner: () => void) => {
      const base = request(50, 12, 'radio');
      const greedy = selectSlate(request(50, 12, 'radio')).map((p) => catalog.indexOf(p.id)!);
      const slots: SlotChoices[] = [];
      const picks = selectSlate({
        ...base,
        follow: {
          items: greedy,
          onSlot: (_slot, choices) => {
            slots.push(choices);
            inner();
          },
        },
      });
      return { picks, slots };
    };
    const without = follow(() => {});
    let nested: unknown;
    const withInner = follow(() => {
      nested = selectSlate(request(60, 11, 'radio'));
    });
    expect(withInner).toEqual(without);
    expect(nested).toEqual(alone);
  });
});
