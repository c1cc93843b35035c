import type { EvalResult } from '../../engine/eval/evaluate.ts';

/** What produced a results table: shown above it, and kept in the JSON. */
export interface ReportMeta {
  command: string;
  catalog: string;
  sessions: string;
  split: string;
  /** A short line for the plot (the split's `split` text can be too long for it); defaults to `split`. */
  subtitle?: string;
  notes: string[];
}

type Column = { key: keyof EvalResult; title: string; better: 'high' | 'low' | 'none'; digits: number };

const OFFLINE: Column[] = [
  { key: 'freshHr10', title: 'fresh HR@10', better: 'high', digits: 4 },
  { key: 'freshHr20', title: 'fresh HR@20', better: 'high', digits: 4 },
  { key: 'freshMrr10', title: 'fresh MRR@10', better: 'high', digits: 4 },
  { key: 'freshMrr20', title: 'fresh MRR@20', better: 'high', digits: 4 },
  { key: 'freshNdcg10', title: 'fresh NDCG@10', better: 'high', digits: 4 },
  { key: 'freshNdcg20', title: 'fresh NDCG@20', better: 'high', digits: 4 },
  { key: 'hr10', title: 'HR@10', better: 'high', digits: 4 },
  { key: 'hr20', title: 'HR@20', better: 'high', digits: 4 },
  { key: 'mrr10', title: 'MRR@10', better: 'high', digits: 4 },
  { key: 'mrr20', title: 'MRR@20', better: 'high', digits: 4 },
  { key: 'ndcg10', title: 'NDCG@10', better: 'high', digits: 4 },
  { key: 'ndcg20', title: 'NDCG@20', better: 'high', digits: 4 },
];

const STREAMS: Column[] = [
  { key: 'coverage', title: 'coverage', better: 'none', digits: 4 },
  { key: 'ild', title: 'ILD@10', better: 'none', digits: 3 },
  { key: 'artistRepeatRate', title: 'artist repeat (prev 3)', better: 'low', digits: 3 },
  { key: 'repeats', title: 'repeats', better: 'low', digits: 0 },
  { key: 'radioViolations', title: 'radio violations', better: 'low', digits: 0 },
  { key: 'simSkipRate', title: 'sim skip rate', better: 'low', digits: 3 },
  { key: 'simLength', title: 'sim length before quit', better: 'high', digits: 1 },
  { key: 'simLikes', title: 'sim likes / session', better: 'high', digits: 2 },
  { key: 'simRepeats', title: 'sim repeats', better: 'low', digits: 0 },
  { key: 'simViolations', title: 'sim radio violations', better: 'low', digits: 0 },
];

/** The results as Markdown: one table of next-item accuracy, one of streams; the best value per column in bold. */
export function resultsMarkdown(results: readonly EvalResult[], meta: ReportMeta): string {
  const lines = [
    '# Evaluation results',
    '',
    `- command: \`${meta.command}\``,
    `- catalog: \`${meta.catalog}\`, sessions: \`${meta.sessions}\``,
    `- split: ${meta.split}`,
    ...meta.notes.map((n) => `- ${n}`),
    '',
    `## Next-item accuracy (${results[0]?.freshTargets ?? 0} fresh targets of ${results[0]?.targets ?? 0})`,
    '',
    ...table(results, OFFLINE),
    '',
    '## Streams and the simulated listener',
    '',
    ...table(results, STREAMS),
    '',
    'Fresh = targets not yet played in the session, with played items removed from every list (compare on these).',
    'Stream columns up to "radio violations" are measured on open-loop streams; "sim" columns with the simulated listener',
    '(docs/evaluation.md).',
    '',
  ];
  return lines.join('\n');
}

/** The results as JSON text: the metadata and one object per algorithm, keys as in `--json`. */
export function resultsJson(results: readonly EvalResult[], meta: ReportMeta): string {
  return `${JSON.stringify({ meta, results }, null, 2)}\n`;
}

function table(results: readonly EvalResult[], columns: readonly Column[]): string[] {
  const best = new Map<keyof EvalResult, number>();
  for (const c of columns) {
    if (c.better === 'none') continue;
    const values = results.map((r) => r[c.key] as number);
    best.set(c.key, c.better === 'high' ? Math.max(...values) : Math.min(...values));
  }
  const head = `| algorithm | ${columns.map((c) => c.title).join(' | ')} |`;
  const rule = `|---|${columns.map(() => '---:').join('|')}|`;
  const rows = results.map((r) => {
    const cells = columns.map((c) => {
      const v = r[c.key] as number;
      const text = v.toFixed(c.digits);
      return best.get(c.key) === v && results.length > 1 ? `**${text}**` : text;
    });
    return `| ${r.algorithm} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...rows];
}
