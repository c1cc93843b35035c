import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContextTreeRecommender } from '../../../engine/baselines/contextTreeRecommender.ts';
import { SequentialRulesRecommender } from '../../../engine/baselines/sequentialRulesRecommender.ts';
import type { TrainSession } from '../../../engine/baselines/sessionRecommender.ts';
import { StanRecommender } from '../../../engine/baselines/stanRecommender.ts';
import { VstanRecommender } from '../../../engine/baselines/vstanRecommender.ts';

const DAY = 86_400_000;
const session = (id: string, ids: string[], startMs?: number): TrainSession => ({
  id,
  items: ids.map((i) => ({ id: i })),
  ...(startMs !== undefined ? { startMs } : {}),
});

// s0..s3 in training order (the same sessions as baselines.test.ts).
const tiny = [
  session('s0', ['a', 'b', 'c']),
  session('s1', ['a', 'd']),
  session('s2', ['b', 'c', 'e', 'f']),
  session('s3', ['x', 'y']),
];
const e = Math.exp;

describe('STAN', () => {
  // Prefix [a, b]: w(a) = e^−1, w(b) = 1 (λ_spw = 1), ‖w‖ = √(e^−2 + 1).
  const norm = Math.sqrt(e(-2) + 1);
  const sim0 = (e(-1) + 1) / (norm * Math.sqrt(3));
  const sim1 = e(-1) / (norm * Math.sqrt(2));
  const sim2 = 1 / (norm * 2);

  it('weights the session by recency, and a neighbour item by its distance from the last shared play', () => {
    const stan = new StanRecommender({ lambdaSpw: 1, lambdaInh: 1, lambdaSnh: 0 });
    stan.fit(tiny);
    const n = stan.neighbours(['a', 'b']);
    expect(n.map((x) => x.session)).toEqual([0, 2, 1]);
    expect(n.map((x) => x.similarity)).toEqual([
      expect.closeTo(sim0, 12),
      expect.closeTo(sim2, 12),
      expect.closeTo(sim1, 12),
    ]);
    // s0 = a b c, last shared play b (2): a, c are 1 away. s2 = b c e f, shared b (1). s1 = a d, shared a (1).
    const expected: Record<string, number> = {
      a: sim0 * e(-1) + sim1,
      b: sim0 + sim2,
      c: sim0 * e(-1) + sim2 * e(-1),
      d: sim1 * e(-1),
      e: sim2 * e(-2),
      f: sim2 * e(-3),
    };
    const scores = stan.itemScores(['a', 'b']);
    expect([...scores.keys()].sort()).toEqual(Object.keys(expected));
    for (const [id, v] of Object.entries(expected)) expect(scores.get(id)).toBeCloseTo(v, 12);
    expect(stan.recommend(['a', 'b'], 10)).toEqual(['b', 'a', 'c', 'd', 'e', 'f']);
    expect(stan.recommend(['a', 'b'], 10, new Set(['a', 'b']))).toEqual(['c', 'd', 'e', 'f']);
  });

  const timed = [
    session('s0', ['a', 'b', 'c'], 3 * DAY),
    session('s1', ['a', 'd'], 1 * DAY),
    session('s2', ['b', 'c', 'e', 'f'], 2 * DAY),
    session('s3', ['x', 'y'], 0),
  ];

  it('decays a neighbour by its age in days (λ_snh) at the time asked', () => {
    const stan = new StanRecommender({ lambdaSpw: 1, lambdaInh: 1, lambdaSnh: 1 });
    stan.fit(timed);
    const n = stan.neighbours(['a', 'b'], { nowMs: 4 * DAY });
    // s0 is 1 day old, s2 2 days, s1 3 days.
    expect(n.map((x) => [x.session, x.similarity])).toEqual([
      [0, expect.closeTo(sim0 * e(-1), 12)],
      [2, expect.closeTo(sim2 * e(-2), 12)],
      [1, expect.closeTo(sim1 * e(-3), 12)],
    ]);
    // Without a time, the latest training session (s0, 3 days) is "now": the same ranking, scaled by e.
    expect(stan.neighbours(['a', 'b'])[0].similarity).toBeCloseTo(sim0, 12);
    expect(stan.recommend(['a', 'b'], 10)).toEqual(
      stan.recommend(['a', 'b'], 10, undefined, { nowMs: 9 * DAY }),
    );
  });

  it('samples the most recent candidate sessions by start time, not by training order', () => {
    const stan = new StanRecommender({ lambdaSpw: 1, lambdaInh: 1, lambdaSnh: 0, sampleSize: 2 });
    stan.fit(timed);
    expect(stan.neighbours(['a', 'b']).map((x) => x.session)).toEqual([0, 2]);
    stan.fit(tiny);
    // Untimed: later in training counts as more recent, so s0 drops out.
    expect(stan.neighbours(['a', 'b']).map((x) => x.session)).toEqual([2, 1]);
  });
});

describe('VSTAN', () => {
  it('adds the vote decay by the latest shared play (λ_ipw), idf and the vec similarity', () => {
    const vstan = new VstanRecommender({
      lambdaSpw: 1,
      lambdaInh: 0,
      lambdaSnh: 0,
      lambdaIpw: 1,
      lambdaIdf: 1,
      similarity: 'vec',
    });
    vstan.fit(tiny);
    // vec: shared weight / 2 distinct items.
    const sim0 = (e(-1) + 1) / 2;
    const sim1 = e(-1) / 2;
    const sim2 = 1 / 2;
    // idf = log(4 sessions / plays): 2 plays → log 2, 1 play → log 4. s1 holds only a, the older play: e^−1.
    const two = 1 + Math.log(2);
    const one = 1 + Math.log(4);
    const expected: Record<string, number> = {
      a: sim0 * two + sim1 * two * e(-1),
      b: sim0 * two + sim2 * two,
      c: sim0 * two + sim2 * two,
      d: sim1 * one * e(-1),
      e: sim2 * one,
      f: sim2 * one,
    };
    const scores = vstan.itemScores(['a', 'b']);
    for (const [id, v] of Object.entries(expected)) expect(scores.get(id)).toBeCloseTo(v, 12);
    expect(vstan.recommend(['a', 'b'], 10, new Set(['a', 'b']))).toEqual(['c', 'e', 'f', 'd']);
  });

  it('is STAN when its own factors are off', () => {
    const options = { lambdaSpw: 1.5, lambdaInh: 2, lambdaSnh: 0 };
    const stan = new StanRecommender(options);
    const vstan = new VstanRecommender({ ...options, lambdaIpw: 0, lambdaIdf: 0, similarity: 'cosine' });
    stan.fit(tiny);
    vstan.fit(tiny);
    for (const prefix of [['a'], ['a', 'b'], ['c', 'e', 'a'], ['zz', 'b']])
      expect(vstan.recommend(prefix, 10)).toEqual(stan.recommend(prefix, 10));
  });
});

describe('SR', () => {
  it('sums rule weights by gap (div) and predicts from the last play', () => {
    const sr = new SequentialRulesRecommender();
    sr.fit(tiny);
    // a → b (s0, gap 1), a → c (s0, gap 2: 1/2), a → d (s1, gap 1).
    expect(sr.rulesFrom('a')).toEqual([
      ['b', 1],
      ['d', 1],
      ['c', 0.5],
    ]);
    // b → c twice at gap 1, b → e at 2 (1/2), b → f at 3 (1/3).
    expect(sr.rulesFrom('b')).toEqual([
      ['c', 2],
      ['e', 0.5],
      ['f', expect.closeTo(1 / 3, 12)],
    ]);
    expect(sr.recommend(['x', 'b'], 10)).toEqual(['c', 'e', 'f']);
    expect(sr.recommend(['a'], 10)).toEqual(['b', 'd', 'c']);
    expect(sr.recommend(['a'], 10, new Set(['b']))).toEqual(['d', 'c']);
    expect(sr.recommend(['zz'], 10)).toEqual([]);
    expect(sr.recommend([], 10)).toEqual([]);
  });

  it('limits the gap (steps), weights by the chosen function and prunes per antecedent', () => {
    const one = new SequentialRulesRecommender({ steps: 1 });
    one.fit(tiny);
    expect(one.rulesFrom('b')).toEqual([['c', 2]]);
    const quadratic = new SequentialRulesRecommender({ weighting: 'quadratic' });
    quadratic.fit(tiny);
    expect(quadratic.rulesFrom('b').map(([, w]) => w)).toEqual([2, 0.25, expect.closeTo(1 / 9, 12)]);
    const pruned = new SequentialRulesRecommender({ pruning: 1 });
    pruned.fit(tiny);
    // Ties keep the rule mined first.
    expect(pruned.rulesFrom('a')).toEqual([['b', 1]]);
  });
});

describe('CT', () => {
  const data = [session('s0', ['a', 'b']), session('s1', ['a', 'b']), session('s2', ['a', 'c'])];
  // After training: root a 3, b 2, c 1 (N = 1 + 6); context [a]: b 2, c 1 (N = 1 + 3).

  it('mixes the root and the context experts with the prior weights (fixed, as session-rec computes)', () => {
    const ct = new ContextTreeRecommender({ maxDepth: 2, weights: 'fixed' });
    ct.fit(data);
    // root, [a], [b], [b a], [c], [c a].
    expect(ct.nodeCount).toBe(6);
    expect(ct.probability(['a'], 'b')).toBeCloseTo(0.5 * (3 / 5) + 0.5 * (3 / 8), 12);
    expect(ct.probability(['a'], 'c')).toBeCloseTo(0.5 * (2 / 5) + 0.5 * (2 / 8), 12);
    expect(ct.probability(['a'], 'a')).toBeCloseTo(0.5 * (1 / 5) + 0.5 * (4 / 8), 12);
    // Context [b] was seen but nothing followed it: its expert is flat, the root decides.
    expect(ct.probability(['b'], 'a')).toBeCloseTo(0.5 * (1 / 2) + 0.5 * (4 / 8), 12);
    expect(ct.recommend(['a'], 10)).toEqual(['b', 'a', 'c']);
    expect(ct.recommend(['a'], 10, new Set(['a']))).toEqual(['b', 'c']);
    expect(ct.recommend(['b'], 10)).toEqual(['a', 'b', 'c']);
    // An unknown last play leaves only the root: popularity.
    expect(ct.recommend(['a', 'zz'], 2)).toEqual(['a', 'b']);
  });

  it('updates a context weight by Bayes after each training play (Mi et al.)', () => {
    const ct = new ContextTreeRecommender({ maxDepth: 2, weights: 'bayes' });
    ct.fit(data);
    // u[a]: 1/2 → 3/5 (s0's b) → 5/7 (s1's b) → 35/43 (s2's c), worked out by hand from u ← u·p/q.
    const u = 35 / 43;
    expect(ct.probability(['a'], 'b')).toBeCloseTo(u * (3 / 5) + (1 - u) * (3 / 8), 12);
    expect(ct.probability(['a'], 'b')).toBeCloseTo(24 / 43, 12);
  });

  it('ranks exactly as the mixed probability over every item', () => {
    const item = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g');
    fc.assert(
      fc.property(
        fc.array(fc.array(item, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 8 }),
        fc.array(item, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('bayes' as const, 'fixed' as const),
        (sessions, prefix, weights) => {
          const ct = new ContextTreeRecommender({ maxDepth: 3, weights });
          ct.fit(sessions.map((ids, i) => session(`s${i}`, ids)));
          const known = [...new Set(sessions.flat())];
          const list = ct.recommend(prefix, 3);
          expect(list.length).toBe(Math.min(3, known.length));
          const q = (id: string) => ct.probability(prefix, id);
          for (let i = 1; i < list.length; i++)
            expect(q(list[i])).toBeLessThanOrEqual(q(list[i - 1]) + 1e-12);
          const lowest = q(list[list.length - 1]);
          for (const id of known) if (!list.includes(id)) expect(q(id)).toBeLessThanOrEqual(lowest + 1e-12);
        },
      ),
    );
  });
});
