import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import {
  forEachJsonlLine,
  JsonLineError,
  type ProgressCallback,
  type RowProblem,
  RowProblems,
  show,
  writeJsonlAtomically,
} from './catalogFile.ts';
import type { Outcome } from './session.ts';

/** One logged play: the item, and when known what the listener did with it. */
export interface LoggedPlay {
  id: string;
  outcome?: Outcome;
  /** How long it played before the outcome (for a skip: how far in). */
  playedMs?: number;
}

/** One logged listening session, plays in order (the sessions JSONL format, docs/data-format.md). */
export interface LoggedSession {
  id: string;
  items: LoggedPlay[];
  /** When the session started (ms since the UNIX epoch), if the source knows; a split by time needs it. */
  startMs?: number;
}

const OUTCOMES: readonly Outcome[] = ['completed', 'skipped', 'liked', 'disliked'];

/**
 * Reads a sessions JSONL file. All or nothing: any bad line throws ENGINE_SESSIONS_INVALID_ROW (with every
 * problem found, up to 20, in details.problems) and nothing is returned.
 */
export async function readSessionsFile(
  path: string,
  options: { onProgress?: ProgressCallback } = {},
): Promise<LoggedSession[]> {
  const collector = new SessionsCollector(basename(path));
  await forEachJsonlLine(path, 'ENGINE_SESSIONS_UNREADABLE', options.onProgress, (value, line) => {
    collector.add(value, line);
  });
  return collector.finish();
}

/** Parses sessions JSONL held in memory (same rules and errors as `readSessionsFile`). */
export function parseSessionsJsonl(text: string, source = 'sessions'): LoggedSession[] {
  const collector = new SessionsCollector(source);
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (err) {
      value = new JsonLineError((err as Error).message);
    }
    collector.add(value, i + 1);
  }
  return collector.finish();
}

/**
 * Writes sessions as JSONL atomically (temp file, then rename). A play with nothing but an id is written as
 * the bare id string, which keeps large logs small. Refuses sessions that would not read back.
 */
export async function writeSessionsFile(path: string, sessions: readonly LoggedSession[]): Promise<void> {
  const collector = new SessionsCollector(basename(path), 'Nothing was written.');
  for (let i = 0; i < sessions.length; i++) collector.add(sessions[i], i + 1);
  const valid = collector.finish();
  await writeJsonlAtomically(
    path,
    valid.map((s) =>
      JSON.stringify({
        id: s.id,
        ...(s.startMs !== undefined ? { startMs: s.startMs } : {}),
        items: s.items.map(compactPlay),
      }),
    ),
  );
}

function compactPlay(play: LoggedPlay): string | LoggedPlay {
  if (play.outcome === undefined && play.playedMs === undefined) return play.id;
  const out: LoggedPlay = { id: play.id };
  if (play.outcome !== undefined) out.outcome = play.outcome;
  if (play.playedMs !== undefined) out.playedMs = play.playedMs;
  return out;
}

/** Validates one parsed session line; appends problems and returns undefined when it is bad. */
export function checkSessionRow(
  value: unknown,
  line: number,
  problems: RowProblem[],
): LoggedSession | undefined {
  const before = problems.length;
  if (value instanceof JsonLineError) {
    problems.push({ line, field: '', problem: `the line is not valid JSON (${value.reason})` });
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ line, field: '', problem: `the line must be a JSON object (got ${show(value)})` });
    return undefined;
  }
  const v = value as Record<string, unknown>;
  const bad = (field: string, expectation: string, got: unknown) =>
    problems.push({ line, field, problem: `${field} must be ${expectation} (got ${show(got)})` });
  if (typeof v.id !== 'string' || v.id.trim() === '') bad('id', 'a non-empty string', v.id);
  if (!Array.isArray(v.items)) {
    bad('items', 'an array of item ids or {id, outcome?, playedMs?} objects', v.items);
    return undefined;
  }
  const items: LoggedPlay[] = [];
  v.items.forEach((raw: unknown, k: number) => {
    const field = `items[${k}]`;
    if (typeof raw === 'string') {
      if (raw.trim() === '') bad(field, 'a non-empty item id', raw);
      else items.push({ id: raw });
      return;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      bad(field, 'an item id string or an {id, outcome?, playedMs?} object', raw);
      return;
    }
    const p = raw as Record<string, unknown>;
    const play: LoggedPlay = { id: p.id as string };
    if (typeof p.id !== 'string' || p.id.trim() === '') bad(`${field}.id`, 'a non-empty string', p.id);
    if (p.outcome != null) {
      if (!OUTCOMES.includes(p.outcome as Outcome))
        bad(`${field}.outcome`, `one of ${OUTCOMES.join('|')}`, p.outcome);
      else play.outcome = p.outcome as Outcome;
    }
    if (p.playedMs != null) {
      if (typeof p.playedMs !== 'number' || !Number.isFinite(p.playedMs) || p.playedMs < 0) {
        bad(`${field}.playedMs`, 'a finite number ≥ 0', p.playedMs);
      } else {
        play.playedMs = p.playedMs;
      }
    }
    items.push(play);
  });
  if (v.startMs != null && (typeof v.startMs !== 'number' || !Number.isFinite(v.startMs) || v.startMs < 0))
    bad('startMs', 'a finite number ≥ 0 (ms since the UNIX epoch)', v.startMs);
  if (problems.length > before) return undefined;
  const session: LoggedSession = { id: v.id as string, items };
  if (typeof v.startMs === 'number') session.startMs = v.startMs;
  return session;
}

class SessionsCollector {
  private readonly sessions: LoggedSession[] = [];
  private readonly problems = new RowProblems();
  private readonly firstLineOfId = new Map<string, number>();

  constructor(
    private readonly source: string,
    private readonly outcome = 'Nothing was loaded.',
  ) {}

  add(value: unknown, line: number): void {
    const found: RowProblem[] = [];
    const session = checkSessionRow(value, line, found);
    if (session !== undefined) {
      const first = this.firstLineOfId.get(session.id);
      if (first === undefined) {
        this.firstLineOfId.set(session.id, line);
        this.sessions.push(session);
      } else {
        found.push({ line, field: 'id', problem: `id ${show(session.id)} is already used on line ${first}` });
      }
    }
    this.problems.add(found);
  }

  finish(): LoggedSession[] {
    this.problems.throwIfAny('ENGINE_SESSIONS_INVALID_ROW', this.source, this.outcome);
    return this.sessions;
  }
}

/** The sha256 (hex) of a file's bytes, streamed, so a model card can name exactly the data it learnt from. */
export async function datasetHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
