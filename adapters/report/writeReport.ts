import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalResult } from '../../engine/eval/evaluate.ts';
import { renderPng } from './renderPng.ts';
import { type ReportMeta, resultsJson, resultsMarkdown } from './resultsTable.ts';
import { scatterPlotSvg } from './scatterPlot.ts';

/** The files one evaluation writes. */
export const REPORT_FILES = {
  markdown: 'results.md',
  json: 'results.json',
  svg: 'offline-vs-online.svg',
  png: 'offline-vs-online.png',
} as const;

/** The plot: fresh HR@10 (offline) against the simulated skip rate (online), one point per algorithm. */
export function resultsPlotSvg(results: readonly EvalResult[], subtitle?: string): string {
  return scatterPlotSvg(
    results.map((r) => ({
      label: r.algorithm,
      x: r.freshHr10,
      y: r.simSkipRate,
      highlight: r.algorithm.startsWith('ours'),
    })),
    {
      title: 'Offline accuracy vs simulated listening',
      subtitle,
      hint: 'better: right and down',
      xLabel: 'fresh HR@10 (held-out next items, played items removed)',
      yLabel: 'simulated skip rate',
    },
  );
}

/** Writes the Markdown and JSON tables and the plot (SVG and PNG) into `dir`; each file appears whole. */
export async function writeReport(
  dir: string,
  results: readonly EvalResult[],
  meta: ReportMeta,
): Promise<Record<keyof typeof REPORT_FILES, string>> {
  await mkdir(dir, { recursive: true });
  const svg = resultsPlotSvg(results, meta.subtitle ?? meta.split);
  const contents: Record<keyof typeof REPORT_FILES, string | Buffer> = {
    markdown: resultsMarkdown(results, meta),
    json: resultsJson(results, meta),
    svg,
    png: renderPng(svg),
  };
  const paths = {} as Record<keyof typeof REPORT_FILES, string>;
  for (const key of Object.keys(REPORT_FILES) as (keyof typeof REPORT_FILES)[]) {
    const path = join(dir, REPORT_FILES[key]);
    await writeFile(`${path}.tmp`, contents[key]);
    await rename(`${path}.tmp`, path);
    paths[key] = path;
  }
  return paths;
}
