import { Command, InvalidArgumentError, Option } from 'commander';
import { IMPORT_FORMATS, importDataset } from '../../import/importDataset.ts';
import { createProgressReporter } from '../progressReporter.ts';

/** `omakase import --format yes|30music --in PATH --out DIR`: a dataset into catalog.jsonl + sessions.jsonl. */
export function importCommand(): Command {
  return new Command('import')
    .description(
      'import a dataset (Yes.com radio playlists or 30Music sessions) as DIR/catalog.jsonl and DIR/sessions.jsonl',
    )
    .addOption(
      new Option('--format <format>', 'dataset layout').choices(IMPORT_FORMATS).makeOptionMandatory(),
    )
    .requiredOption(
      '--in <path>',
      'dataset folder (yes: yes_big or yes_complete_sample; 30music: folder or one file)',
    )
    .requiredOption('--out <dir>', 'output folder, created if missing')
    .option('--duration-ms <ms>', 'duration of items whose dataset has none', parseDuration, 210_000)
    .option('-q, --quiet', 'no progress bars')
    .action(
      async (opts: { format: string; in: string; out: string; durationMs: number; quiet?: boolean }) => {
        const started = performance.now();
        const reporter = createProgressReporter({ quiet: opts.quiet });
        let stats: Awaited<ReturnType<typeof importDataset>>;
        try {
          stats = await importDataset(opts.format, opts.in, opts.out, {
            onProgress: reporter.onProgress,
            defaultDurationMs: opts.durationMs,
          });
        } finally {
          reporter.stop();
        }
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        process.stdout.write(
          `imported ${opts.format}: ${stats.items} items, ${stats.sessions} sessions, ${stats.plays} plays ` +
            `-> ${stats.catalogPath}, ${stats.sessionsPath} (${seconds}s)\n`,
        );
      },
    );
}

function parseDuration(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new InvalidArgumentError('expected a positive whole number of milliseconds.');
  return ms;
}
