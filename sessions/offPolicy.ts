/**
 * Off-policy estimators over logged bandit rounds: inverse propensity scoring (IPS), self-normalised IPS
 * (SNIPS) and doubly robust (DR), each with a normal-approximation confidence interval, and the effective
 * sample size of the importance weights. Pure arithmetic: the rounds come from `counterfactual.ts`.
 */

import { sessionError } from './errors.ts';

/** One logged round (a delivered slot with an outcome). */
export interface Round {
  /** The observed reward, in [0, 1]. */
  reward: number;
  /** The logging policy's probability of the logged action (> 0). */
  pLogged: number;
  /** The target policy's probability of the logged action (0 when it would never pick it). */
  pTarget: number;
  /** The reward model's estimate for the logged action. */
  rewardHat: number;
  /** The reward model's expectation under the target policy in this round: Σₐ π(a) r̂(a). */
  targetRewardHat: number;
}

/** An estimate with its 95 % normal-approximation interval. */
export interface Estimate {
  value: number;
  /** Standard error (normal approximation; the delta method for SNIPS). */
  se: number;
  low: number;
  high: number;
}

export interface OffPolicyEstimates {
  rounds: number;
  /** The logged rewards' mean: the logging policy's own value. */
  observed: Estimate;
  ips: Estimate;
  snips: Estimate;
  dr: Estimate;
  /** Effective sample size of the importance weights, (Σw)² / Σw²: how many rounds the estimate is worth. */
  effectiveSampleSize: number;
  /** Rounds whose logged action the target gives probability 0 (weight 0). */
  zeroWeight: number;
  maxWeight: number;
}

const Z95 = 1.959963984540054;

function interval(value: number, se: number): Estimate {
  return { value, se, low: value - Z95 * se, high: value + Z95 * se };
}

/** Mean and the standard error of the mean (sample standard deviation / √n; 0 for one value). */
function meanEstimate(values: readonly number[]): Estimate {
  const n = values.length;
  if (n === 0) return interval(Number.NaN, Number.NaN);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return interval(mean, 0);
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return interval(mean, Math.sqrt(variance / n));
}

/**
 * IPS, SNIPS and DR estimates of the target policy's mean reward per round, with w = pTarget / pLogged:
 * IPS = mean(w·r); SNIPS = Σ w·r / Σ w; DR = mean(targetRewardHat + w·(r − rewardHat)).
 * Intervals are 95 % normal approximations (IPS and DR: the standard error of the mean of their per-round
 * terms; SNIPS: the delta method, √Σ(w(r − V))² / Σw). They treat rounds as independent, which the slots
 * of one session are not: read them as optimistic.
 *
 * @example
 * estimateOffPolicy([{ reward: 1, pLogged: 0.5, pTarget: 1, rewardHat: 0.5, targetRewardHat: 0.5 }]).ips.value; // 2
 */
export function estimateOffPolicy(rounds: readonly Round[]): OffPolicyEstimates {
  for (const r of rounds) {
    if (!(r.pLogged > 0 && r.pLogged <= 1) || !(r.pTarget >= 0 && r.pTarget <= 1))
      throw sessionError(
        'SESSION_INVALID_REQUEST',
        `Propensities must be in (0, 1] (logged) and [0, 1] (target); got ${r.pLogged} and ${r.pTarget}: the log's propensities are damaged.`,
      );
  }
  const w = rounds.map((r) => r.pTarget / r.pLogged);
  const sumW = w.reduce((a, b) => a + b, 0);
  const sumW2 = w.reduce((a, b) => a + b * b, 0);
  const ipsTerms = rounds.map((r, i) => w[i]! * r.reward);
  const snipsValue = sumW > 0 ? ipsTerms.reduce((a, b) => a + b, 0) / sumW : Number.NaN;
  const snipsSe =
    sumW > 0
      ? Math.sqrt(rounds.reduce((a, r, i) => a + (w[i]! * (r.reward - snipsValue)) ** 2, 0)) / sumW
      : Number.NaN;
  return {
    rounds: rounds.length,
    observed: meanEstimate(rounds.map((r) => r.reward)),
    ips: meanEstimate(ipsTerms),
    snips: interval(snipsValue, snipsSe),
    dr: meanEstimate(rounds.map((r, i) => r.targetRewardHat + w[i]! * (r.reward - r.rewardHat))),
    effectiveSampleSize: sumW2 > 0 ? (sumW * sumW) / sumW2 : 0,
    zeroWeight: w.filter((x) => x === 0).length,
    maxWeight: w.reduce((a, b) => Math.max(a, b), 0),
  };
}

/**
 * A reward model from the logging model's scores: r̂ = σ(a + b·score), fitted to the logged (score, reward)
 * pairs by Newton's method on the log-likelihood with a small ridge (so a log where the score separates the
 * rewards perfectly still gives finite weights). With no pairs, or one kind of reward only, it is the mean.
 *
 * @example
 * const hat = fitScoreRewardModel([{ score: 2, reward: 1 }, { score: -1, reward: 0 }]);
 * hat(3) > hat(-2); // true
 */
export function fitScoreRewardModel(
  pairs: readonly { score: number; reward: number }[],
  ridge = 1e-2,
): (score: number) => number {
  const n = pairs.length;
  const mean = n > 0 ? pairs.reduce((a, p) => a + p.reward, 0) / n : 0.5;
  if (n === 0 || mean === 0 || mean === 1) return () => mean;
  let a = Math.log(mean / (1 - mean));
  let b = 0;
  for (let iter = 0; iter < 50; iter++) {
    let ga = 0;
    let gb = -ridge * b;
    let haa = 0;
    let hab = 0;
    let hbb = ridge;
    for (const { score, reward } of pairs) {
      const p = 1 / (1 + Math.exp(-(a + b * score)));
      const v = p * (1 - p);
      ga += reward - p;
      gb += (reward - p) * score;
      haa += v;
      hab += v * score;
      hbb += v * score * score;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a += da;
    b += db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return (score) => 1 / (1 + Math.exp(-(a + b * score)));
}

/**
 * A reward model from the items' own logged rewards: each item's mean, shrunk toward the overall mean with
 * the weight of `prior` rounds (so an item seen once is not taken at its word); the overall mean for unseen items.
 *
 * @example
 * const hat = itemMeanRewardModel([{ id: 'a', reward: 1 }, { id: 'b', reward: 0 }]);
 * hat('a'); // 0.75: (1 + 1 × 0.5) / (1 + 1)
 */
export function itemMeanRewardModel(
  rounds: readonly { id: string; reward: number }[],
  prior = 1,
): (id: string) => number {
  const overall = rounds.length > 0 ? rounds.reduce((a, r) => a + r.reward, 0) / rounds.length : 0.5;
  const sums = new Map<string, { sum: number; count: number }>();
  for (const r of rounds) {
    const s = sums.get(r.id) ?? { sum: 0, count: 0 };
    s.sum += r.reward;
    s.count++;
    sums.set(r.id, s);
  }
  return (id) => {
    const s = sums.get(id);
    return s ? (s.sum + prior * overall) / (s.count + prior) : overall;
  };
}
