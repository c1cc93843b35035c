import { describe, expect, it } from 'vitest';
import { isOmakaseError } from '../../models/omakaseError.ts';
import {
  estimateOffPolicy,
  fitScoreRewardModel,
  itemMeanRewardModel,
  type Round,
} from '../../sessions/offPolicy.ts';

// Three rounds worked by hand: weights w = π/μ = 2, 0.5, 0.
const rounds: Round[] = [
  { reward: 1, pLogged: 0.5, pTarget: 1, rewardHat: 0.6, targetRewardHat: 0.7 },
  { reward: 0, pLogged: 1, pTarget: 0.5, rewardHat: 0.2, targetRewardHat: 0.4 },
  { reward: 1, pLogged: 0.25, pTarget: 0, rewardHat: 0.5, targetRewardHat: 0.3 },
];

describe('estimateOffPolicy', () => {
  it('IPS, SNIPS, DR, their standard errors and the effective sample size, as computed by hand', () => {
    const e = estimateOffPolicy(rounds);
    // IPS terms w·r = 2, 0, 0: mean 2/3, sample sd √(4/3), se √(4/3)/√3 = 2/3.
    expect(e.ips.value).toBeCloseTo(2 / 3, 12);
    expect(e.ips.se).toBeCloseTo(2 / 3, 12);
    expect(e.ips.low).toBeCloseTo(2 / 3 - 1.959963984540054 * (2 / 3), 12);
    // SNIPS = Σw·r / Σw = 2 / 2.5; delta-method se = √((2·0.2)² + (0.5·0.8)²) / 2.5.
    expect(e.snips.value).toBeCloseTo(0.8, 12);
    expect(e.snips.se).toBeCloseTo(Math.sqrt(0.32) / 2.5, 12);
    // DR terms: 0.7 + 2·(1 − 0.6) = 1.5; 0.4 + 0.5·(0 − 0.2) = 0.3; 0.3 + 0 = 0.3.
    expect(e.dr.value).toBeCloseTo(0.7, 12);
    expect(e.dr.se).toBeCloseTo(Math.sqrt(0.48 / 3), 12);
    // ESS = (Σw)² / Σw² = 6.25 / 4.25.
    expect(e.effectiveSampleSize).toBeCloseTo(6.25 / 4.25, 12);
    expect(e.observed.value).toBeCloseTo(2 / 3, 12);
    expect(e).toMatchObject({ rounds: 3, zeroWeight: 1, maxWeight: 2 });
  });

  it('the logging policy on its own log: every weight 1, IPS = SNIPS = the observed mean, ESS = n', () => {
    const own = [1, 0, 1, 1, 0].map((reward, i) => {
      const p = [1, 0.95, 0.0025, 0.95, 1][i]!;
      return { reward, pLogged: p, pTarget: p, rewardHat: 0.5, targetRewardHat: 0.5 };
    });
    const e = estimateOffPolicy(own);
    expect(e.ips.value).toBeCloseTo(0.6, 12);
    expect(e.snips.value).toBeCloseTo(0.6, 12);
    expect(e.dr.value).toBeCloseTo(0.6, 12);
    expect(e.effectiveSampleSize).toBeCloseTo(5, 12);
  });

  it('refuses a zero logged propensity with SESSION_INVALID_REQUEST', () => {
    let caught: unknown;
    try {
      estimateOffPolicy([{ ...rounds[0]!, pLogged: 0 }]);
    } catch (err) {
      caught = err;
    }
    expect(isOmakaseError(caught, 'SESSION_INVALID_REQUEST')).toBe(true);
  });
});

describe('reward models', () => {
  it('item mean shrinks toward the overall mean; unseen items get the overall mean', () => {
    const hat = itemMeanRewardModel([
      { id: 'a', reward: 1 },
      { id: 'b', reward: 0 },
    ]);
    expect(hat('a')).toBeCloseTo(0.75, 12);
    expect(hat('b')).toBeCloseTo(0.25, 12);
    expect(hat('c')).toBeCloseTo(0.5, 12);
  });

  it('the score model rises with the score, is symmetric on symmetric data, and is the mean on one-sided data', () => {
    const hat = fitScoreRewardModel([
      { score: 1, reward: 1 },
      { score: -1, reward: 0 },
      { score: 0.5, reward: 0 },
      { score: -0.5, reward: 1 },
      { score: 2, reward: 1 },
      { score: -2, reward: 0 },
    ]);
    expect(hat(0)).toBeCloseTo(0.5, 6);
    expect(hat(2)).toBeGreaterThan(hat(1));
    expect(hat(1)).toBeGreaterThan(0.5);
    expect(fitScoreRewardModel([{ score: 3, reward: 1 }])(-9)).toBe(1);
  });
});
