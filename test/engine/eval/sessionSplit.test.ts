import { describe, expect, it } from 'vitest';
import { splitSessions } from '../../../engine/eval/sessionSplit.ts';

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
