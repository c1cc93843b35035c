import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalResult } from '../../engine/eval/evaluate.ts';
import type { ReportMeta } from './resultsTable.ts';
import { REPORT_FILES } from './writeReport.ts';

/** Counts that add up over runs; every other metric is averaged. */
const SUMMED = new Set<keyof EvalResult>([
  'targets',
  'freshTargets',
  'repeats',
  'radioViolations',
  'simRepeats',
  'simViolations',
]);

/**
 * The mean of several evaluations (e.g. the five 30Music slices, as session-rec reports its sliding windows):
 * each metric averaged over runs with equal weight, target and violation counts summed. Only algorithms
 * present in every run are kept, in the first run's order.
 */
export function averageResults(runs: readonly (readonly EvalResult[])[]): EvalResult[] {
  if (runs.length === 0) return [];
  const byName = runs.map((run) => new Map(run.map((r) => [r.algorithm, r])));
  const out: EvalResult[] = [];
  for (const first of runs[0]) {
    const rows = byName.map((m) => m.get(first.algorithm));
    if (rows.some((r) => r === undefined)) continue;
    const mean = { ...first };
    for (const key of Object.keys(first) as (keyof EvalResult)[]) {
      if (key === 'algorithm') continue;
      const total = rows.reduce((sum, r) => sum + (r?.[key] as number), 0);
      (mean[key] as number) = SUMMED.has(key) ? total : total / rows.length;
    }
    out.push(mean);
  }
  return out;
}

/**
 * The rows of several evaluations of one split side by side (e.g. a baselines-only run and an engine-only
 * run with the same split and seeds): every algorithm once, a later run's row replacing an earlier one's.
 */
export function mergeResults(runs: readonly (readonly EvalResult[])[]): EvalResult[] {
  const byName = new Map<string, EvalResult>();
  for (const run of runs) for (const r of run) byName.set(r.algorithm, r);
  return [...byName.values()];
}

/** Reads the results and meta of earlier `omakase eval` runs from their output folders. */
export async function readReports(
  dirs: readonly string[],
): Promise<{ results: EvalResult[]; meta: ReportMeta }[]> {
  return Promise.all(
    dirs.map(async (dir) => JSON.parse(await readFile(join(dir, REPORT_FILES.json), 'utf8'))),
  );
}
