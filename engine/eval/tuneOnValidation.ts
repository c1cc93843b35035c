import { ContextTreeRecommender } from '../baselines/contextTreeRecommender.ts';
import { SequentialRulesRecommender } from '../baselines/sequentialRulesRecommender.ts';
import type { SessionRecommender, TrainSession } from '../baselines/sessionRecommender.ts';
import { SknnRecommender } from '../baselines/sknnRecommender.ts';
import { StanRecommender } from '../baselines/stanRecommender.ts';
import { VsknnRecommender } from '../baselines/vsknnRecommender.ts';
import { VstanRecommender } from '../baselines/vstanRecommender.ts';
import type { Catalog } from '../catalog.ts';
import { sampleTargets } from './evaluate.ts';
import { NextItemAccumulator } from './metrics.ts';

/** One configuration tried on the validation sessions. */
export interface TrialResult {
  config: string;
  freshHr10: number;
  freshMrr10: number;
}

/**
 * Fits every candidate on `train`, scores it on fresh next-item targets of `validation`, and returns the
 * best by fresh HR@10 (then MRR@10), so baselines are tuned on validation as our own model is.
 */
export function tuneOnValidation(
  candidates: readonly { config: string; make: () => SessionRecommender }[],
  train: readonly TrainSession[],
  validation: readonly TrainSession[],
  catalog: Catalog,
  options: { seed: number; targetsPerSession: number; onTrial?: (done: number, total: number) => void },
): { best: SessionRecommender; bestConfig: string; trials: TrialResult[] } {
  if (candidates.length === 0) throw new RangeError('tuneOnValidation needs at least one candidate.');
  const targets = sampleTargets(validation, catalog, options.targetsPerSession, options.seed).filter(
    (t) => !t.prefix.includes(t.target),
  );
  const trials: TrialResult[] = [];
  let best: { rec: SessionRecommender; trial: TrialResult } | undefined;
  candidates.forEach(({ config, make }, i) => {
    options.onTrial?.(i, candidates.length);
    const rec = make();
    rec.fit(train);
    const acc = new NextItemAccumulator();
    for (const t of targets)
      acc.add(rec.recommend(t.prefix, 10, new Set(t.prefix), { nowMs: t.nowMs }), t.target);
    const m = acc.result();
    const trial = { config, freshHr10: m.hr10, freshMrr10: m.mrr10 };
    trials.push(trial);
    if (
      !best ||
      trial.freshHr10 > best.trial.freshHr10 ||
      (trial.freshHr10 === best.trial.freshHr10 && trial.freshMrr10 > best.trial.freshMrr10)
    ) {
      best = { rec, trial };
    }
  });
  options.onTrial?.(candidates.length, candidates.length);
  return { best: best!.rec, bestConfig: best!.trial.config, trials };
}

/** SKNN settings tried: the published neighbourhood sizes and recent-session samples. */
export function sknnGrid(): { config: string; make: () => SessionRecommender }[] {
  const out: { config: string; make: () => SessionRecommender }[] = [];
  for (const k of [50, 100, 500]) {
    for (const sampleSize of [500, 1000]) {
      out.push({ config: `k=${k} sample=${sampleSize}`, make: () => new SknnRecommender({ k, sampleSize }) });
    }
  }
  return out;
}

/** V-SKNN settings tried: neighbourhood/sample as published, linear (`div`) or quadratic decay, idf on/off. */
export function vsknnGrid(): { config: string; make: () => SessionRecommender }[] {
  const out: { config: string; make: () => SessionRecommender }[] = [];
  for (const [k, sampleSize] of [
    [100, 500],
    [100, 1000],
    [500, 1000],
  ]) {
    for (const weighting of ['div', 'quadratic'] as const) {
      for (const idfWeighting of [0, 5]) {
        out.push({
          config: `k=${k} sample=${sampleSize} weighting=${weighting} idf=${idfWeighting}`,
          make: () => new VsknnRecommender({ k, sampleSize, weighting, idfWeighting }),
        });
      }
    }
  }
  return out;
}

type Grid = { config: string; make: () => SessionRecommender }[];

/** Recency scales (plays) tried for STAN's λ_spw / λ_inh: session-rec's 1.02 up to radio-length sessions. */
const PLAY_SCALES = [1.02, 4, 16, 64];

/**
 * STAN settings tried: neighbourhood size × λ_spw × λ_inh, and λ_snh (days) only when the sessions have
 * start times (`timed`); without, the factor is off.
 */
export function stanGrid(timed: boolean): Grid {
  const out: Grid = [];
  for (const k of [100, 500])
    for (const lambdaSpw of PLAY_SCALES)
      for (const lambdaInh of [1.02, 4, 16])
        for (const lambdaSnh of timed ? [5, 100] : [0]) {
          out.push({
            config: `k=${k} sample=1000 λspw=${lambdaSpw} λinh=${lambdaInh} λsnh=${lambdaSnh || 'off'}`,
            make: () => new StanRecommender({ k, sampleSize: 1000, lambdaSpw, lambdaInh, lambdaSnh }),
          });
        }
  return out;
}

/** VSTAN settings tried: as STAN (λ_ipw = λ_spw, as session-rec's configs tie them) × idf × similarity. */
export function vstanGrid(timed: boolean): Grid {
  const out: Grid = [];
  for (const k of [100, 500])
    for (const lambdaSpw of PLAY_SCALES)
      for (const lambdaInh of [1.02, 16])
        for (const lambdaSnh of timed ? [5, 100] : [0])
          for (const lambdaIdf of [0, 5])
            for (const similarity of ['cosine', 'vec'] as const) {
              out.push({
                config: `k=${k} sample=1000 λspw=λipw=${lambdaSpw} λinh=${lambdaInh} λsnh=${lambdaSnh || 'off'} λidf=${lambdaIdf} ${similarity}`,
                make: () =>
                  new VstanRecommender({
                    k,
                    sampleSize: 1000,
                    lambdaSpw,
                    lambdaIpw: lambdaSpw,
                    lambdaInh,
                    lambdaSnh,
                    lambdaIdf,
                    similarity,
                  }),
              });
            }
  return out;
}

/** SR settings tried: the largest gap × the weighting of a gap × pruning to the best 20 rules or none. */
export function srGrid(): Grid {
  const out: Grid = [];
  for (const steps of [1, 3, 5, 10, 20])
    for (const weighting of ['div', 'quadratic', 'log', 'same'] as const)
      for (const pruning of [20, 0]) {
        out.push({
          config: `steps=${steps} weighting=${weighting} pruning=${pruning}`,
          make: () => new SequentialRulesRecommender({ steps, weighting, pruning }),
        });
      }
  return out;
}

/** CT settings tried: the longest context × Bayesian or fixed mixing weights. */
export function ctGrid(): Grid {
  const out: Grid = [];
  for (const maxDepth of [3, 5, 10])
    for (const weights of ['bayes', 'fixed'] as const) {
      out.push({
        config: `maxDepth=${maxDepth} weights=${weights}`,
        make: () => new ContextTreeRecommender({ maxDepth, weights }),
      });
    }
  return out;
}
