import { readFile, writeFile } from 'node:fs/promises';
import { DEFAULT_CONFIG, type EngineConfig } from '../../../engine/config.ts';
import { createEngine, type Engine } from '../../../engine/engine.ts';
import { createVectorIndex } from '../../../engine/retrieval/vectorIndex.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { loadModel } from '../../../models/loadModel.ts';
import {
  type CounterfactualReport,
  counterfactual,
  type RewardModel,
} from '../../../sessions/counterfactual.ts';
import { sessionError } from '../../../sessions/errors.ts';
import type { Estimate } from '../../../sessions/offPolicy.ts';
import { type ReplayReport, replaySession } from '../../../sessions/replay.ts';
import { type RescoreReport, rescoreSession } from '../../../sessions/rescore.ts';
import type { SessionLogEvent } from '../../../sessions/sessionStore.ts';
import { sessionTimeline } from '../../../sessions/sessionTimeline.ts';
import { timelineHtml } from '../../report/timelineHtml.ts';
import { DEFAULT_MODEL_DIR, type Runtime } from '../../runtime.ts';

/** What `omakase replay` does past the exact replay: rescore, counterfactual, the HTML timeline. */
export interface AnalysisOptions {
  mode: 'exact' | 'rescore' | 'counterfactual';
  session?: string;
  /** The other model (rescore, counterfactual). */
  model?: string;
  /** A JSON file of engine settings for the target policy (counterfactual, rescore). */
  config?: string;
  rewardModel?: RewardModel;
  tolerance?: number;
  html?: string;
  json?: boolean;
}

export interface AnalysisResult {
  replay: ReplayReport;
  rescore?: RescoreReport;
  counterfactual?: CounterfactualReport;
}

/**
 * Replays the log exactly on `runtime` (the engine it ran on), then rescore or counterfactual against the
 * target (`--model`, `--config`), writes the HTML timeline when asked, and prints the findings. Resolves
 * false when the log does not replay exactly, or a rescore by the logged model moves scores beyond tolerance.
 *
 * @example
 * const ok = await runAnalysis(events, runtime, { mode: 'counterfactual', model: '/tmp/othermodel' }, print);
 */
export async function runAnalysis(
  events: SessionLogEvent[],
  runtime: Runtime,
  opts: AnalysisOptions,
  write: (text: string) => void,
): Promise<boolean> {
  const replay = await replaySession(events, runtime.engine);
  const result: AnalysisResult = { replay };
  if (opts.mode === 'counterfactual' && opts.model === undefined && opts.config === undefined)
    throw sessionError(
      'SESSION_INVALID_REQUEST',
      'counterfactual evaluates another policy: give --model DIR (another model), --config FILE (other engine settings), or both.',
    );
  if (opts.mode !== 'exact') {
    const target = await targetEngine(runtime, opts);
    if (opts.mode === 'rescore')
      result.rescore = await rescoreSession(events, runtime.engine, target, { tolerance: opts.tolerance });
    else
      result.counterfactual = await counterfactual([events], runtime.engine, target, {
        rescore: opts.model !== undefined,
        rewardModel: opts.rewardModel,
      });
  }
  if (opts.html !== undefined) {
    const timeline = await sessionTimeline(events, runtime.engine);
    await writeFile(opts.html, timelineHtml({ sessionId: opts.session, timeline, ...result }));
  }
  write(opts.json ? `${JSON.stringify(result)}\n` : describeAnalysis(result, opts));
  const drift =
    result.rescore !== undefined && result.rescore.model.logged === result.rescore.model.rescored
      ? !result.rescore.ok
      : false;
  return replay.ok && !drift;
}

/** The engine under evaluation: the logged session's catalog and indexes, another scorer and/or config. */
async function targetEngine(runtime: Runtime, opts: AnalysisOptions): Promise<Engine> {
  const config = opts.config === undefined ? undefined : await readEngineConfig(opts.config);
  if (opts.model === undefined && config === undefined) return runtime.engine;
  const dir = opts.model ?? process.env.OMAKASE_MODEL ?? (runtime.card ? DEFAULT_MODEL_DIR : undefined);
  const scorer = dir === undefined ? createFallbackScorer() : (await loadModel(dir)).scorer;
  return createEngine({
    catalog: runtime.catalog,
    transitions: runtime.transitions,
    sessions: runtime.sessions,
    sequences: runtime.sequences,
    // Rescoring never retrieves: an exact index costs nothing to build.
    vectors: createVectorIndex(runtime.catalog, { force: 'exact' }),
    scorer,
    config,
  });
}

/** A JSON object of `EngineConfig` settings (e.g. `{"exploration": 0.2, "mmrLambda": 0.6}`). */
export async function readEngineConfig(path: string): Promise<Partial<EngineConfig>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw sessionError(
      'SESSION_INVALID_REQUEST',
      `Cannot read the config ${path}: ${(err as Error).message}.`,
      {
        cause: err,
      },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw sessionError('SESSION_INVALID_REQUEST', `${path} must hold a JSON object of engine settings.`);
  for (const [key, v] of Object.entries(value)) {
    if (!(key in DEFAULT_CONFIG))
      throw sessionError(
        'SESSION_INVALID_REQUEST',
        `${path}: "${key}" is not an engine setting; use ${Object.keys(DEFAULT_CONFIG).join(', ')}.`,
      );
    const expected = typeof DEFAULT_CONFIG[key as keyof EngineConfig];
    if (typeof v !== expected || (typeof v === 'number' && !Number.isFinite(v)))
      throw sessionError('SESSION_INVALID_REQUEST', `${path}: "${key}" must be a ${expected}.`);
  }
  return value as Partial<EngineConfig>;
}

const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const ci = (x: Estimate) => `${f(x.value)}  [${f(x.low)}, ${f(x.high)}]`;

function describeAnalysis(result: AnalysisResult, opts: AnalysisOptions): string {
  const { replay, rescore, counterfactual: cf } = result;
  const out: string[] = [];
  out.push(
    `${opts.mode}${opts.session ? ` of ${opts.session}` : ''}: logged model ${replay.model.logged ?? '?'}`,
  );
  out.push(
    replay.ok
      ? `exact replay: OK (${replay.decisions} deliveries)`
      : `exact replay: DIVERGED at log event ${replay.firstDivergence?.logIndex ?? '?'} (${replay.diverged} of ${replay.decisions} deliveries, ${replay.commandMismatches.length} command mismatches)`,
  );
  if (rescore) {
    out.push(
      `rescored with ${rescore.model.rescored}: ${rescore.decisions} decisions, top pick changed in ${rescore.topChanged}, mean Kendall tau ${f(rescore.meanKendallTau)}, ${rescore.rankFlips} flips among the best ${rescore.top}, max |score delta| ${f(rescore.maxScoreDelta)}, within tolerance ${rescore.withinTolerance}`,
    );
    out.push(
      `deliveries: ${rescore.deliveries}, ${rescore.slatesChanged} would differ (${rescore.picksChanged} of ${rescore.picks} picks)`,
    );
    for (const d of rescore.perDecision)
      out.push(
        `  decision ${String(d.decision).padStart(2)} (log ${String(d.logIndex).padStart(3)}): tau ${f(d.kendallTau, 2).padStart(5)}  flips ${String(d.rankFlips).padStart(2)}  max delta ${f(d.maxScoreDelta, 2)}  top ${d.logged[0]?.id ?? '-'} -> ${d.rescored[0]?.id ?? '-'}${d.topChanged ? '' : ' (same)'}`,
      );
    for (const d of rescore.perDelivery.filter((x) => x.changed > 0).slice(0, 10))
      out.push(
        `  delivery at log ${d.logIndex} (decision ${d.decision}): ${d.changed} of ${d.logged.length} differ: ${d.logged.join(' ')}  ->  ${d.rescored.join(' ')}`,
      );
    for (const note of rescore.notes) out.push(`note: ${note}`);
  }
  if (cf) {
    const s = cf.estimates;
    out.push(
      `target: ${cf.target.model}${cf.target.rescored ? '' : ' (logged scores)'}${opts.config ? `, config ${opts.config}` : ''}; reward model ${cf.rewardModel}; intervals: ${cf.interval}`,
    );
    out.push(`rounds: ${cf.rewarded} rewarded of ${cf.slots} delivered slots in ${cf.sessions} session(s)`);
    out.push(`  logged (observed)  ${ci(s.observed)}`);
    out.push(`  IPS                ${ci(s.ips)}`);
    out.push(`  SNIPS              ${ci(s.snips)}`);
    out.push(`  DR                 ${ci(s.dr)}`);
    out.push(
      `effective sample size ${f(s.effectiveSampleSize, 1)} of ${cf.rewarded}; weight 0 in ${s.zeroWeight}, max weight ${f(s.maxWeight)}; target mass without logging support ${f(cf.unsupportedMass)}`,
    );
    for (const note of cf.notes) out.push(`note: ${note}`);
  }
  if (opts.html) out.push(`timeline: ${opts.html}`);
  return `${out.join('\n')}\n`;
}
