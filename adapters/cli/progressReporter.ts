import cliProgress from 'cli-progress';

/** Reports how far a long step has got: `step` names it, `done` of `total` units (lines, plays...). */
export type OnProgress = (step: string, done: number, total: number) => void;

/** A progress sink plus `stop()`, which closes the bar still open. */
export interface ProgressReporter {
  onProgress: OnProgress;
  stop(): void;
}

/**
 * Progress bars on stderr, one per step, drawn only when stderr is a terminal and not `quiet`, so that
 * piped output and logs stay clean.
 */
export function createProgressReporter(
  options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {},
): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  if (options.quiet || !stream.isTTY) return { onProgress: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress(step, done, total) {
      if (step !== current || !bar) {
        stop();
        current = step;
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `${step.padEnd(28)} [{bar}] {percentage}% | {value}/{total} | {duration}s`,
            fps: 10,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop,
  };
}
