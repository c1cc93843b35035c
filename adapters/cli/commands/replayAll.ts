import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../../engine/engine.ts';
import { isOmakaseError } from '../../../models/omakaseError.ts';
import { sessionFile } from '../../replay/dataDirLog.ts';
import { exactReplay, type exactWire } from '../../replay/exactWire.ts';

/** One session of a data directory, replayed exactly. */
export interface ReplayedFile {
  sessionId: string;
  file: string;
  /** OK, DIVERGED, or UNREADABLE (the log could not be replayed at all: trimmed, not JSON). */
  verdict: 'OK' | 'DIVERGED' | 'UNREADABLE';
  /** Log entries, deliveries compared, frames (or voice answers) identical of recorded. */
  events: number;
  deliveries: number;
  frames?: { matched: number; recorded: number };
  /** The first divergence or the reason it could not be replayed, in a line. */
  why?: string;
}

/** The sessions a `serve` data directory holds: every id in `live/` and `done/` (`done/ID.<time>.jsonl`). */
export function dataDirSessions(dataDir: string): string[] {
  const ids = new Set<string>();
  const names = (sub: string) => (existsSync(join(dataDir, sub)) ? readdirSync(join(dataDir, sub)) : []);
  for (const f of names('live')) if (f.endsWith('.jsonl')) ids.add(f.slice(0, -'.jsonl'.length));
  for (const f of names('done')) if (f.endsWith('.jsonl')) ids.add(f.slice(0, f.indexOf('.')));
  return [...ids].sort();
}

/**
 * `omakase replay --data-dir DIR --all`: every session the directory holds, replayed exactly on one engine
 * (loaded once), one line each and a summary; resolves false when any diverged or could not be replayed.
 * `read` reads a session file (`readLogFile`).
 */
export async function replayAll(
  dataDir: string,
  engine: Engine,
  read: (file: string) => Promise<Parameters<typeof exactWire>[0]>,
  write: (text: string) => void,
  options: { json?: boolean } = {},
): Promise<boolean> {
  const ids = dataDirSessions(dataDir);
  const results: ReplayedFile[] = [];
  const started = performance.now();
  for (const sessionId of ids) {
    const file = sessionFile(dataDir, sessionId);
    const result = await replayOne(sessionId, file, engine, read);
    results.push(result);
    if (options.json) write(`${JSON.stringify(result)}\n`);
    else write(`${line(result)}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const events = results.reduce((n, r) => n + r.events, 0);
  const count = (v: ReplayedFile['verdict']) => results.filter((r) => r.verdict === v).length;
  const summary = {
    sessions: results.length,
    ok: count('OK'),
    diverged: count('DIVERGED'),
    unreadable: count('UNREADABLE'),
    events,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: seconds > 0 ? Math.round(events / seconds) : 0,
  };
  if (options.json) write(`${JSON.stringify({ summary })}\n`);
  else
    write(
      `${summary.sessions} session(s) in ${dataDir}: ${summary.ok} OK, ${summary.diverged} diverged, ${summary.unreadable} unreadable; ${events} log events in ${summary.seconds} s (${summary.eventsPerSecond} events/s)\n${summary.ok === summary.sessions ? 'REPLAY OK' : 'REPLAY DIVERGED'}\n`,
    );
  return summary.ok === summary.sessions;
}

async function replayOne(
  sessionId: string,
  file: string,
  engine: Engine,
  read: (file: string) => Promise<Parameters<typeof exactWire>[0]>,
): Promise<ReplayedFile> {
  let events: Awaited<ReturnType<typeof read>> = [];
  try {
    events = await read(file);
    const { report, wire, ok } = await exactReplay(events, engine, sessionId);
    const first = report.firstDivergence;
    const mismatch = report.commandMismatches[0];
    const frame = wire?.firstFrameDivergence;
    const why = ok
      ? undefined
      : first
        ? `delivery ${first.decision} (log event ${first.logIndex}): expected ${first.expected.join(' ')}, got ${first.got.join(' ')}`
        : mismatch
          ? `log event ${mismatch.logIndex} (${mismatch.type}): expected ${mismatch.expected}, got ${mismatch.got}`
          : frame
            ? `frame ${frame.frame} of ${frame.connection} (log event ${frame.logIndex}) differs`
            : wire?.callMismatch
              ? `log event ${wire.callMismatch.logIndex}: expected ${wire.callMismatch.expected}, got ${wire.callMismatch.got}`
              : `an invariant broke: ${wire?.frames.results
                  .filter((r) => !r.ok)
                  .map((r) => r.name)
                  .join(', ')}`;
    return {
      sessionId,
      file,
      verdict: ok ? 'OK' : 'DIVERGED',
      events: events.length,
      deliveries: report.decisions,
      ...(wire ? { frames: { matched: wire.framesMatched, recorded: wire.framesRecorded } } : {}),
      ...(why ? { why } : {}),
    };
  } catch (err) {
    const why = isOmakaseError(err) ? `${err.code}: ${err.message}` : String(err);
    return { sessionId, file, verdict: 'UNREADABLE', events: events.length, deliveries: 0, why };
  }
}

function line(r: ReplayedFile): string {
  const frames = r.frames ? `, frames ${r.frames.matched}/${r.frames.recorded} identical` : '';
  const head = `${r.verdict.padEnd(10)} ${r.sessionId}  ${r.events} events, ${r.deliveries} deliveries${frames}`;
  return r.why ? `${head}\n           ${r.why}` : head;
}
