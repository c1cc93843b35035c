import { describe, expect, it } from 'vitest';
import {
  dropUnseenItems,
  splitByMode,
  splitSessions,
  splitSessionsByTime,
} from '../../../engine/eval/sessionSplit.ts';
import { isOmakaseError } from '../../../models/omakaseError.ts';

const sessions = Array.from({ length: 200 }, (_, i) => ({ id: `p${i}`, items: [] }));

describe('splitSessions', () => {
  it('gives the same split for the same seed, whatever the input order', () => {
    const a = splitSessions(sessions, { seed: 7, validation: 0.1, test: 0.2 });
    const b = splitSessions([...sessions].reverse(), { seed: 7, validation: 0.1, test: 0.2 });
    const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort();
    expect(ids(a.test)).toEqual(ids(b.test));
    expect(ids(a.validation)).toEqual(ids(b.validation));
    expect(a.test).toHaveLength(40);
    expect(a.validation).toHaveLength(20);
    expect(a.train).toHaveLength(140);
  });

  it('partitions the sessions and keeps input order within each part', () => {
    const s = splitSessions(sessions, { seed: 1 });
    const all = [...s.train, ...s.validation, ...s.test].map((x) => x.id);
    expect(new Set(all).size).toBe(200);
    const pos = (id: string) => Number(id.slice(1));
    for (const part of [s.train, s.validation, s.test]) {
      const order = part.map((x) => pos(x.id));
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  });

  it('changes with the seed', () => {
    const a = splitSessions(sessions, { seed: 1 }).test.map((x) => x.id);
    const b = splitSessions(sessions, { seed: 2 }).test.map((x) => x.id);
    expect(a).not.toEqual(b);
  });

  it('rejects shares that leave nothing to train on', () => {
    expect(() => splitSessions(sessions, { validation: 0.5, test: 0.5 })).toThrow(RangeError);
  });
});

describe('splitSessionsByTime', () => {
  const H = 3_600_000;
  // Out of order on purpose; the latest start is at 72 h.
  const timed = [
    { id: 'late', startMs: 72 * H, items: [] },
    { id: 'first', startMs: 0, items: [] },
    { id: 'val', startMs: 40 * H, items: [] },
    { id: 'edge', startMs: 48 * H, items: [] },
    { id: 'test', startMs: 60 * H, items: [] },
    { id: 'train', startMs: 10 * H, items: [] },
  ];

  it('holds out the last days as test and the days before as validation, each part in time order', () => {
    const s = splitSessionsByTime(timed, { testDays: 1, validationDays: 1 });
    // Test: after 48 h (72 − 24); validation: after 24 h up to 48 h.
    expect(s.test.map((x) => x.id)).toEqual(['test', 'late']);
    expect(s.validation.map((x) => x.id)).toEqual(['val', 'edge']);
    expect(s.train.map((x) => x.id)).toEqual(['first', 'train']);
    expect(s.testFromMs).toBe(48 * H);
    expect(splitByMode(timed, { kind: 'time', testDays: 2, validationDays: 0 }).description).toMatch(
      /by time: test = sessions starting after 1970-01-02 00:00 UTC \(last 2 d\).* 2 train \/ 0 validation \/ 4 test/,
    );
  });

  it('refuses sessions without a start time, with a code', () => {
    let err: unknown;
    try {
      splitSessionsByTime([...timed, { id: 'undated', items: [] }]);
    } catch (e) {
      err = e;
    }
    expect(isOmakaseError(err, 'ENGINE_SPLIT_NO_TIME')).toBe(true);
    expect((err as Error).message).toMatch(/session "undated" has no startMs/);
  });
});

describe('dropUnseenItems', () => {
  it('drops held-out plays of items training never played, then held-out sessions under 2 plays', () => {
    const s = (id: string, ids: string[]) => ({ id, items: ids.map((x) => ({ id: x })) });
    const out = dropUnseenItems({
      train: [s('t', ['a', 'b', 'c'])],
      validation: [s('v', ['a', 'new', 'b'])],
      test: [s('x', ['a', 'new']), s('y', ['c', 'new', 'a', 'b'])],
    });
    expect(out.train.map((x) => x.items.length)).toEqual([3]);
    expect(out.validation.map((x) => x.items.map((p) => p.id))).toEqual([['a', 'b']]);
    expect(out.test.map((x) => [x.id, x.items.map((p) => p.id)])).toEqual([['y', ['c', 'a', 'b']]]);
  });
});
