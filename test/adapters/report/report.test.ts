import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { renderPng } from '../../../adapters/report/renderPng.ts';
import { resultsJson, resultsMarkdown } from '../../../adapters/report/resultsTable.ts';
import { niceScale, scatterPlotSvg } from '../../../adapters/report/scatterPlot.ts';
import { resultsPlotSvg, writeReport } from '../../../adapters/report/writeReport.ts';
import type { EvalResult } from '../../../engine/eval/evaluate.ts';

const result = (algorithm: string, freshHr10: number, simSkipRate: number): EvalResult => ({
  algorithm,
  hr10: freshHr10 * 0.9,
  hr20: 0.2,
  mrr10: 0.03,
  mrr20: 0.035,
  ndcg10: 0.04,
  ndcg20: 0.045,
  freshHr10,
  freshHr20: 0.2,
  freshMrr10: 0.03,
  freshMrr20: 0.035,
  freshNdcg10: 0.04,
  freshNdcg20: 0.045,
  targets: 100,
  freshTargets: 80,
  coverage: 0.1,
  ild: 0.8,
  artistRepeatRate: 0.05,
  repeats: 0,
  radioViolations: algorithm === 'ours' ? 0 : 12,
  simSkipRate,
  simLength: 50,
  simLikes: 10,
  simRepeats: 0,
  simViolations: 3,
});

const results = [
  result('random', 0.001, 0.82),
  result('popularity', 0.005, 0.71),
  result('sknn', 0.08, 0.43),
  result('vsknn', 0.083, 0.42),
  result('ours', 0.09, 0.4),
];
const meta = {
  command: 'omakase eval …',
  catalog: 'c.jsonl',
  sessions: 's.jsonl',
  split: 'seed 42',
  notes: ['a note'],
};

describe('scatter plot SVG', () => {
  it('has one point and one label per algorithm, axes titles and a legend', () => {
    const svg = resultsPlotSvg(results);
    for (const r of results) {
      expect(svg).toContain(`class="point" data-label="${r.algorithm}"`);
      expect(svg).toMatch(new RegExp(`class="label"[^>]*>${r.algorithm}</text>`));
    }
    expect(svg.match(/class="point"/g)).toHaveLength(results.length);
    expect(svg.match(/class="label"/g)).toHaveLength(results.length);
    expect(svg).toContain('fresh HR@10');
    expect(svg).toContain('simulated skip rate');
    expect(svg).toContain('class="legend"');
  });

  it('escapes labels', () => {
    const svg = scatterPlotSvg([{ label: 'a<b & "c"', x: 1, y: 2 }], {
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
    });
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot;');
    expect(svg).not.toContain('a<b');
  });

  it('picks nice ticks that cover the data', () => {
    const s = niceScale([0.001, 0.083]);
    expect(s.min).toBe(0);
    expect(s.max).toBeGreaterThanOrEqual(0.083);
    expect(s.ticks[0]).toBe(0);
    expect(s.ticks.length).toBeGreaterThanOrEqual(4);
    expect(s.ticks.length).toBeLessThanOrEqual(12);
    expect(niceScale([5, 5]).ticks.length).toBeGreaterThan(1);
  });
});

describe('PNG rendering', () => {
  it('renders a valid, non-trivial PNG in which the text is drawn', () => {
    const svg = resultsPlotSvg(results);
    const png = renderPng(svg);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.length).toBeGreaterThan(20_000);
    // Same picture without any <text>: if fonts failed to load, the two would be pixel-identical.
    const dark = (s: string) => {
      const pixels = new Resvg(s, {
        font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
      }).render().pixels;
      let n = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 300) n++;
      return n;
    };
    const withText = dark(svg);
    const withoutText = dark(svg.replace(/<text[^>]*>[^<]*<\/text>/g, ''));
    expect(withText - withoutText).toBeGreaterThan(2_000);
  });
});

describe('results table', () => {
  it('writes Markdown with every algorithm and the best value in bold, and JSON that parses back', () => {
    const md = resultsMarkdown(results, meta);
    for (const r of results) expect(md).toContain(`| ${r.algorithm} |`);
    expect(md).toContain('| ours | **0.0900** |');
    expect(md).toContain('a note');
    const parsed = JSON.parse(resultsJson(results, meta));
    expect(parsed.results).toEqual(results);
    expect(parsed.meta).toEqual(meta);
  });
});

describe('writeReport', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the four files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'omakase-report-'));
    const paths = await writeReport(dir, results, meta);
    expect((await readFile(paths.markdown, 'utf8')).startsWith('# Evaluation results')).toBe(true);
    expect(JSON.parse(await readFile(paths.json, 'utf8')).results).toHaveLength(results.length);
    expect(await readFile(paths.svg, 'utf8')).toContain('<svg');
    expect((await readFile(paths.png)).subarray(1, 4).toString()).toBe('PNG');
  });
});
