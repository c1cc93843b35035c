import { readFile, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { Catalog } from '../../../engine/catalog.ts';
import { readCatalogFile } from '../../../engine/catalogFile.ts';
import { REWARD_MODELS, type RewardModel } from '../../../sessions/counterfactual.ts';
import { sessionError } from '../../../sessions/errors.ts';
import { createRedisStore } from '../../../sessions/redisStore.ts';
import type { ReplayInput } from '../../../sessions/replay.ts';
import { REPLAY_MODES, type ReplayMode, type ReplayReport } from '../../../sessions/replay.ts';
import { toDsJsonLines, toOpenBanditRows } from '../../../sessions/replayExport.ts';
import type { SessionLogEvent } from '../../../sessions/sessionStore.ts';
import { configFromEnv } from '../../config.ts';
import { sessionFile } from '../../replay/dataDirLog.ts';
import { exactReplay, withWire } from '../../replay/exactWire.ts';
import { loadRuntime } from '../../runtime.ts';
import { replayAll } from './replayAll.ts';
import { runAnalysis } from './replayAnalysis.ts';

/** `exact` and `rescore` (replay.ts), and `counterfactual` (replayAnalysis.ts). */
const MODES = [...REPLAY_MODES, 'counterfactual'] as const;

export const EXPORT_FORMATS = ['dsjson', 'obp', 'events'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ReplayCommandOptions {
  /** A JSONL dump of the session's events (`--export events` writes one), or a data directory's session file. */
  log?: string;
  /** A `serve` data directory: the session's file in it (with `--session`), or all of them (`--all`). */
  dataDir?: string;
  /** Every session of the data directory, replayed exactly (with `--data-dir`). */
  all?: boolean;
  redis?: string;
  prefix?: string;
  session?: string;
  mode?: ReplayMode | 'counterfactual';
  /** Write the session's HTML timeline here. */
  html?: string;
  /** Engine settings of the policy under evaluation (JSON). */
  config?: string;
  rewardModel?: RewardModel;
  tolerance?: number;
  export?: ExportFormat;
  /** Where an export goes (stdout when absent). */
  out?: string;
  json?: boolean;
  catalog?: string;
  sessions?: string;
  model?: string;
}

/**
 * `omakase replay`: replays one logged session on this engine and says whether it matches, or exports the
 * log for counterfactual evaluation (docs/replay.md).
 */
export function replayCommand(): Command {
  return new Command('replay')
    .description('replay a logged session on the engine and compare every decision, or export the log')
    .option('--log <file>', 'a JSONL dump of the session events (instead of Redis)')
    .option(
      '--data-dir <dir>',
      'read the log from a serve data directory (with --session; env OMAKASE_DATA_DIR)',
    )
    .option('--all', 'replay every session of the --data-dir exactly: a line each and a summary')
    .option('--redis <url>', 'read the log from Redis (env REDIS_URL)')
    .option('--prefix <prefix>', 'Redis key prefix (env OMAKASE_REDIS_PREFIX, default omakase)')
    .option('--session <id>', 'the session id (with --redis)')
    .option('--mode <mode>', `${MODES.join(' | ')}`, oneOf(MODES), 'exact')
    .option('--tolerance <delta>', 'largest score difference rescore accepts', nonNegative, 1e-4)
    .option(
      '--export <format>',
      `write ${EXPORT_FORMATS.join(' | ')} instead of replaying`,
      oneOf(EXPORT_FORMATS),
    )
    .option('--out <file>', 'where --export writes (default stdout)')
    .option('--json', 'print the report as JSON')
    .option('--catalog <file>', 'the catalog the session ran on (env OMAKASE_CATALOG; demo when absent)')
    .option('--sessions <file>', 'logged sessions for the transition memory (env OMAKASE_SESSIONS)')
    .option(
      '--model <dir>',
      'exact: the model directory (env OMAKASE_MODEL); rescore, counterfactual: the other model',
    )
    .option(
      '--config <file>',
      'counterfactual, rescore: engine settings of the policy under evaluation (JSON)',
    )
    .option(
      '--reward-model <kind>',
      `counterfactual: ${REWARD_MODELS.join(' | ')}`,
      oneOf(REWARD_MODELS),
      'score',
    )
    .option('--html <file>', 'write the session timeline as a self-contained HTML page')
    .action(async (opts: ReplayCommandOptions) => {
      const ok = await runReplay(opts, (text) => process.stdout.write(text));
      // A divergence is a finding, not a crash: say it with the exit code so scripts and CI can act on it.
      if (!ok) process.exitCode = 1;
    });
}

/** Runs `omakase replay`; resolves false when the replay diverged. */
export async function runReplay(opts: ReplayCommandOptions, write: (text: string) => void): Promise<boolean> {
  const env = configFromEnv();
  if (opts.all) return runAll(opts, env, write);
  const events = await readEvents(opts, env.redisUrl, env.redisPrefix);
  const catalogPath = opts.catalog ?? env.catalogPath;

  if (opts.export !== undefined) {
    let text: string;
    if (opts.export === 'events') {
      text = events.map((e) => JSON.stringify(e)).join('\n');
    } else {
      const catalog: Catalog | undefined = catalogPath ? await readCatalogFile(catalogPath) : undefined;
      const options = { sessionId: opts.session, catalog };
      text =
        opts.export === 'dsjson'
          ? (await toDsJsonLines(events, options)).join('\n')
          : (await toOpenBanditRows(events, options)).map((row) => JSON.stringify(row)).join('\n');
    }
    if (opts.out === undefined) write(`${text}\n`);
    else await writeFile(opts.out, `${text}\n`);
    return true;
  }

  const analysis = opts.mode === 'counterfactual' || opts.mode === 'rescore' || opts.html !== undefined;
  const runtime = await loadRuntime({
    catalogPath,
    sessionsPath: opts.sessions ?? env.sessionsPath,
    // In rescore and counterfactual, --model is the other model: the session replays on its own.
    modelDir: analysis && opts.mode !== 'exact' ? env.modelDir : (opts.model ?? env.modelDir),
    warn: (m) => process.stderr.write(`omakase: ${m}\n`),
  });
  if (analysis) return runAnalysis(events, runtime, { ...opts, mode: opts.mode ?? 'exact' }, write);
  const { report, wire, ok } = await exactReplay(events, runtime.engine, opts.session);
  if (opts.json) {
    const { session: _, ...adapter } = wire ?? {};
    write(`${JSON.stringify(wire ? { ...report, wire: adapter } : report)}\n`);
  } else {
    const text = describe(report, opts.session, runtime.description);
    write(wire ? withWire(text, wire) : text);
  }
  return ok;
}

/** `--all`: the data directory's sessions, each replayed exactly on one engine. */
async function runAll(
  opts: ReplayCommandOptions,
  env: ReturnType<typeof configFromEnv>,
  write: (text: string) => void,
): Promise<boolean> {
  const dataDir = opts.dataDir ?? (process.env.OMAKASE_DATA_DIR || undefined);
  if (
    dataDir === undefined ||
    opts.session !== undefined ||
    (opts.mode ?? 'exact') !== 'exact' ||
    opts.export
  ) {
    throw sessionError(
      'SESSION_INVALID_REQUEST',
      '--all replays every session of a --data-dir (or OMAKASE_DATA_DIR) exactly: give --data-dir, and no --session, --mode or --export.',
    );
  }
  const runtime = await loadRuntime({
    catalogPath: opts.catalog ?? env.catalogPath,
    sessionsPath: opts.sessions ?? env.sessionsPath,
    modelDir: opts.model ?? env.modelDir,
    warn: (m) => process.stderr.write(`omakase: ${m}\n`),
  });
  return replayAll(dataDir, runtime.engine, readLogFile, write, { json: opts.json });
}

async function readEvents(
  opts: ReplayCommandOptions,
  envRedis: string | undefined,
  envPrefix: string | undefined,
): Promise<SessionLogEvent[]> {
  if (opts.log !== undefined) return readLogFile(opts.log);
  const dataDir = opts.dataDir ?? (opts.redis ? undefined : process.env.OMAKASE_DATA_DIR);
  if (dataDir !== undefined && opts.session !== undefined)
    return readLogFile(sessionFile(dataDir, opts.session));
  const url = opts.redis ?? envRedis;
  if (url === undefined || opts.session === undefined) {
    throw sessionError(
      'SESSION_INVALID_REQUEST',
      'Nothing to replay: give --log FILE, --data-dir DIR with --session ID, or --redis URL (or REDIS_URL) with --session ID.',
    );
  }
  const store = createRedisStore({ url, prefix: opts.prefix ?? envPrefix });
  try {
    const rows = await store.readEvents(opts.session);
    if (rows.length === 0) {
      throw sessionError(
        'SESSION_NOT_FOUND',
        `No events for session ${opts.session} under prefix "${opts.prefix ?? envPrefix ?? 'omakase'}": check the id and --prefix (logs expire with the session).`,
      );
    }
    return rows.map((row) => row.event);
  } finally {
    await store.close();
  }
}

/** Reads a JSONL dump: bare events, or `{id, event}` rows as the store returns them. */
export async function readLogFile(path: string): Promise<SessionLogEvent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw sessionError('SESSION_NOT_FOUND', `Cannot read the log ${path}: ${(err as Error).message}.`, {
      cause: err,
    });
  }
  const lines = text.split('\n');
  const events: SessionLogEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw sessionError(
        'SESSION_INVALID_REQUEST',
        `${path}:${i + 1} is not JSON (${(err as Error).message}); the log must hold one event per line.`,
      );
    }
    // A data directory's session file: events as `{v, t, n, e}`, snapshots as `{v, t, s}` (not events).
    if (typeof row === 'object' && row !== null && 'v' in row && !('type' in row)) {
      if ('e' in row) events.push((row as { e: SessionLogEvent }).e);
      return;
    }
    const input = row as ReplayInput[number];
    events.push(
      'event' in input && typeof input.event === 'object'
        ? (input.event as SessionLogEvent)
        : (input as SessionLogEvent),
    );
  });
  return events;
}

function describe(report: ReplayReport, sessionId: string | undefined, engine: string): string {
  const out: string[] = [];
  out.push(
    `replay${sessionId ? ` of ${sessionId}` : ''} (${report.mode}${report.mode === 'rescore' ? `, tolerance ${report.tolerance}` : ''}) on ${engine}`,
  );
  out.push(`model: logged ${report.model.logged ?? '?'}, replay ${report.model.replay}`);
  if (report.model.provenance) out.push(`provenance: ${JSON.stringify(report.model.provenance)}`);
  out.push(
    `decisions: ${report.decisions}, exact ${report.exact}${report.mode === 'rescore' ? `, tolerated ${report.tolerated}` : ''}, diverged ${report.diverged}; max score delta ${report.maxScoreDelta.toExponential(2)}, rank flips ${report.rankFlips}`,
  );
  out.push(`feedback and steers: ${report.changes}, mismatched ${report.commandMismatches.length}`);
  const first = report.firstDivergence;
  if (first) {
    out.push(`first divergence: decision ${first.decision} (log event ${first.logIndex})`);
    out.push(`  expected: ${first.expected.join(' ')}`);
    out.push(`  got:      ${first.got.join(' ')}`);
  }
  for (const m of report.commandMismatches.slice(0, 10)) {
    out.push(`mismatch at log event ${m.logIndex} (${m.type}): expected ${m.expected}, got ${m.got}`);
  }
  for (const note of report.notes) out.push(`note: ${note}`);
  out.push(report.ok ? 'REPLAY OK' : 'REPLAY DIVERGED');
  return `${out.join('\n')}\n`;
}

function oneOf<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    if (!values.includes(value as T)) throw new InvalidArgumentError(`use one of ${values.join(', ')}`);
    return value as T;
  };
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('a number ≥ 0, e.g. 1e-4');
  return n;
}
