import { describe, expect, it } from 'vitest';
import { averageResults, mergeResults } from '../../../adapters/report/combineResults.ts';
import type { EvalResult } from '../../../engine/eval/evaluate.ts';

const row = (algorithm: string, v: number, targets: number): EvalResult => ({
  algorithm,
  hr10: v,
  hr20: v,
  mrr10: v,
  mrr20: v,
  ndcg10: v,
  ndcg20: v,
  freshHr10: v,
  freshHr20: v,
  freshMrr10: v,
  freshMrr20: v,
  freshNdcg10: v,
  freshNdcg20: v,
  targets,
  freshTargets: targets,
  coverage: v,
  ild: v,
  artistRepeatRate: v,
  repeats: targets,
  radioViolations: targets,
  simSkipRate: v,
  simLength: v,
  simLikes: v,
  simRepeats: v,
  simViolations: v,
});

describe('averageResults', () => {
  it('averages each metric over runs with equal weight and sums the counts', () => {
    const mean = averageResults([
      [row('sknn', 0.1, 100), row('ours', 0.3, 100)],
      [row('ours', 0.5, 10), row('sknn', 0.2, 10), row('only-here', 1, 1)],
    ]);
    expect(mean.map((r) => r.algorithm)).toEqual(['sknn', 'ours']);
    expect(mean[1].freshHr10).toBeCloseTo(0.4, 12);
    expect(mean[1].simSkipRate).toBeCloseTo(0.4, 12);
    expect(mean[0].freshMrr10).toBeCloseTo(0.15, 12);
    expect(mean[0].targets).toBe(110);
    expect(mean[0].radioViolations).toBe(110);
  });

  it('gives nothing for no runs', () => {
    expect(averageResults([])).toEqual([]);
  });
});

describe('mergeResults', () => {
  it('puts the rows of runs of one split side by side, a later run replacing a name', () => {
    const merged = mergeResults([
      [row('sknn', 0.1, 100), row('ours', 0.2, 100)],
      [row('ours', 0.3, 100), row('ours-ranker', 0.4, 100)],
    ]);
    expect(merged.map((r) => [r.algorithm, r.freshHr10])).toEqual([
      ['sknn', 0.1],
      ['ours', 0.3],
      ['ours-ranker', 0.4],
    ]);
  });
});
