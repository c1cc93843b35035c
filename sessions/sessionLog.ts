import type { Catalog } from '../engine/catalog.ts';
import type { ScoredPool } from '../engine/pool.ts';
import type { Intent, Profile, Steer } from '../engine/session.ts';
import { sessionError } from './errors.ts';
import type { SeqFeedback } from './sessionService.ts';
import type { LoggedEvent, SessionLogEvent } from './sessionStore.ts';

/**
 * A session's event log, typed: what the session manager writes, and the one reader that restore, replay and
 * export share. Every entry carries the writer's clock (`atMs`) and node.
 */

interface Stamp {
  atMs: number;
  node: string;
  /**
   * What the adapter sent and received on the session's connections since the previous entry was written
   * (frames in, hashes of frames out): written with this entry, so recording costs no store round trip.
   */
  wire?: WireRecord[];
}

/**
 * One record of an adapter's traffic, `[connection, kind, payload]`; the adapter that wrote it defines the
 * kinds (the WebSocket adapter's: adapters/ws/wireRecorder.ts). The session layer only carries them.
 */
export type WireRecord = readonly [connection: string, kind: string, payload: unknown];

/** What a command's entry keeps of its answer: ok or the refusal's code. Absent: answered later (a held `more`). */
interface Outcome {
  reqId: number;
  nowMs: number;
  ok?: boolean;
  code?: string;
  /** A resent request already applied (same key and content): answered again, not applied again. */
  repeat?: true;
}

export interface StartEntry extends Stamp {
  type: 'user.start';
  seed: number;
  intent?: Intent;
  profile?: Profile;
  connectionId: string;
  /** The engine's model id when the session started. */
  model: string;
  provenance?: Record<string, unknown>;
}

export type CommandEntry = Stamp &
  Outcome &
  (
    | {
        type: 'feed.more';
        n: number;
        /** The items it delivered, in order, and their propensities (absent when it was held). */
        ids?: string[];
        p?: number[];
        /** How many candidates each rule (freshness, spacing, radio rules, blocks) removed for the first pick. */
        removed?: Record<string, number>;
      }
    | { type: 'user.feedback'; feedback: SeqFeedback; withdrawn?: number[]; key?: string }
    | { type: 'user.steer'; steer: Steer; withdrawn?: number[]; key?: string }
    | { type: 'user.pause' | 'user.play'; key?: string }
    | { type: 'user.end' | 'client.disconnected' }
    | { type: 'client.resumed'; connectionId: string; tokenHash: string; lastSeq: number }
  );

/**
 * A scored pool as the log keeps it: catalog ids instead of indexes, scores with the nine significant digits
 * that give back the exact float32 (`Math.fround` on reading).
 */
export interface LoggedPool {
  decision: number;
  fromPos: number;
  signal: number;
  steer: string;
  ids: string[];
  scores: number[];
  sources: number[];
  candidates: number;
  model: string;
  degraded: boolean;
}

export interface DecisionEntry extends Stamp {
  type: 'engine.pool';
  /** The clock reading the decision was made at. */
  nowMs: number;
  pool: LoggedPool;
  /** The held `feed.more` it answered, with the ids it delivered. */
  answered?: { reqId: number; ids: string[]; p: number[] };
}

export interface FailureEntry extends Stamp {
  type: 'engine.failed';
  code: string;
  message: string;
}

export type LogEntry = StartEntry | CommandEntry | DecisionEntry | FailureEntry;
export type CommandType = CommandEntry['type'];

/** The machine commands the manager logs; restore and replay take them again in log order. */
export const LOGGED_COMMANDS: ReadonlySet<string> = new Set<CommandType>([
  'feed.more',
  'user.feedback',
  'user.steer',
  'user.pause',
  'user.play',
  'user.end',
  'client.disconnected',
  'client.resumed',
]);

export function toLoggedPool(pool: ScoredPool, catalog: Catalog): LoggedPool {
  return {
    decision: pool.decision,
    fromPos: pool.fromPos,
    signal: pool.signal,
    steer: pool.steer,
    ids: pool.items.map((i) => catalog.items[i].id),
    scores: pool.scores.map((s) => Number(s.toPrecision(9))),
    sources: pool.sources,
    candidates: pool.candidates,
    model: pool.model,
    degraded: pool.degraded,
  };
}

/** The pool as it was scored; SESSION_INVALID_REQUEST when it names items this catalog lacks. */
export function fromLoggedPool(
  logged: LoggedPool,
  catalog: Catalog,
  indexOf: (id: string) => number | undefined = (id) => catalog.indexOf(id),
): ScoredPool {
  const items = logged.ids.map((id) => {
    const i = indexOf(id);
    if (i === undefined) {
      throw sessionError(
        'SESSION_INVALID_REQUEST',
        `The log's decision ${logged.decision} names item "${id}", which this catalog lacks: replay it with the catalog it was served from.`,
      );
    }
    return i;
  });
  return fromResolved(logged, items);
}

/**
 * `fromLoggedPool` for one walk over a log. The decisions of a session share most of their candidates (the
 * golden radio session's 23 pools name 1,441 items in 4,600 places), and a look-up in a large catalog's id
 * index mostly misses the CPU's caches when it comes between picks. So the ids of `upFront` (the log's pools,
 * when the walk knows them) are all looked up in one pass before the walk starts, where the look-ups find
 * each other's cache lines (the golden radio replay: 10 % of the walk's profile when looked up between picks,
 * about 0.25 ms a walk up front); the ids of any other pool are looked up once each. An id this catalog lacks
 * still fails when its pool is read, as without `upFront`.
 */
export function loggedPoolReader(
  catalog: Catalog,
  upFront: readonly LoggedPool[] = [],
): (logged: LoggedPool) => ScoredPool {
  const seen = new Map<string, number | undefined>();
  const indexOf = (id: string) => {
    let i = seen.get(id);
    if (i === undefined && !seen.has(id)) {
      i = catalog.indexOf(id);
      seen.set(id, i);
    }
    return i;
  };
  const resolved = new Map<LoggedPool, number[] | undefined>();
  for (const logged of upFront) {
    const items: number[] = [];
    for (const id of logged.ids) {
      const i = catalog.indexOf(id);
      if (i === undefined) break;
      items.push(i);
    }
    resolved.set(logged, items.length === logged.ids.length ? items : undefined);
  }
  return (logged) => {
    const items = resolved.get(logged);
    // Each read gets its own array: a pool read twice is looked up again (in `seen`).
    resolved.delete(logged);
    return items ? fromResolved(logged, items) : fromLoggedPool(logged, catalog, indexOf);
  };
}

/** The pool of a logged decision whose ids are resolved to catalog indexes (`items`, aligned with them). */
function fromResolved(logged: LoggedPool, items: number[]): ScoredPool {
  return {
    decision: logged.decision,
    fromPos: logged.fromPos,
    signal: logged.signal,
    steer: logged.steer,
    items,
    scores: logged.scores.map((s) => Math.fround(s)),
    sources: logged.sources,
    candidates: logged.candidates,
    model: logged.model,
    degraded: logged.degraded,
  };
}

/** The pools a log's decisions logged, in log order (what `loggedPoolReader` resolves up front). */
export function loggedPools(log: SessionLog): LoggedPool[] {
  const pools: LoggedPool[] = [];
  for (const { entry } of log.entries) if (entry.type === 'engine.pool') pools.push(entry.pool);
  return pools;
}

/** A log read whole: its start and the entries after it, in order. */
export interface SessionLog {
  start: StartEntry;
  entries: { index: number; entry: Exclude<LogEntry, StartEntry> }[];
  /** Event types in the log that this reader does not know (newer writers, other tools). */
  ignored: string[];
  /**
   * `adapter.wire` entries: adapter traffic after the session's last command (the answer to an `end`),
   * written once the session ended (`sessions/wireTrailer.ts`). They carry `wire` only; nothing replays them.
   */
  trailers: { index: number; wire: WireRecord[] }[];
}

/** The type of the entry that carries adapter traffic sent after a session's last command. */
export const WIRE_TRAILER = 'adapter.wire';

/** What a reader accepts: the store's `readEvents` rows, or bare events (a JSONL dump of either). */
export type LogInput = readonly (LoggedEvent | SessionLogEvent)[];

const KNOWN = new Set<string>([...LOGGED_COMMANDS, 'engine.pool', 'engine.failed']);

/**
 * Reads log events in order, checking each entry's shape once. With `start: false` it reads a tail (the
 * events after a snapshot); otherwise the first event must be the session's `user.start`.
 * Throws SESSION_NOT_FOUND for an empty log, SESSION_INVALID_REQUEST for one that cannot be read.
 */
export function readLog(input: LogInput): SessionLog;
export function readLog(input: LogInput, options: { start: false }): Omit<SessionLog, 'start'>;
export function readLog(input: LogInput, options: { start?: boolean } = {}) {
  const events = input.map(
    (row) => ('event' in row && typeof row.event === 'object' ? row.event : row) as SessionLogEvent,
  );
  const withStart = options.start !== false;
  let start: StartEntry | undefined;
  if (withStart) {
    if (events.length === 0)
      throw sessionError('SESSION_NOT_FOUND', 'The session log is empty: check the session id and prefix.');
    const first = events[0] as Partial<StartEntry> & { type: string };
    if (first.type !== 'user.start' || !Number.isInteger(first.seed)) {
      throw sessionError(
        'SESSION_INVALID_REQUEST',
        `The log starts with "${first.type}", not "user.start" with a seed: it was trimmed (the store keeps the latest maxEvents) or is not a session log, so it cannot be read.`,
      );
    }
    start = { ...(first as StartEntry), node: nodeOf(first) };
  }
  const entries: SessionLog['entries'] = [];
  const ignored = new Set<string>();
  const trailers: SessionLog['trailers'] = [];
  for (let index = withStart ? 1 : 0; index < events.length; index++) {
    const e = events[index] as SessionLogEvent;
    if (e.type === WIRE_TRAILER) {
      if (Array.isArray(e.wire)) trailers.push({ index, wire: e.wire as WireRecord[] });
      continue;
    }
    if (!KNOWN.has(e.type)) {
      ignored.add(e.type);
      continue;
    }
    const entry = { ...e, node: nodeOf(e) } as unknown as Exclude<LogEntry, StartEntry>;
    check(entry, index);
    entries.push({ index, entry });
  }
  return withStart
    ? { start, entries, ignored: [...ignored], trailers }
    : { entries, ignored: [...ignored], trailers };
}

function nodeOf(e: object): string {
  const { node } = e as { node?: unknown };
  return typeof node === 'string' ? node : 'local';
}

function check(entry: Exclude<LogEntry, StartEntry>, index: number): void {
  const bad = (what: string) => {
    throw sessionError('SESSION_INVALID_REQUEST', `Log event ${index} (${entry.type}) ${what}.`);
  };
  switch (entry.type) {
    case 'engine.pool': {
      const pool = entry.pool as Partial<LoggedPool> | undefined;
      if (
        !pool ||
        !Array.isArray(pool.ids) ||
        !Array.isArray(pool.scores) ||
        !Number.isInteger(pool.decision)
      )
        bad('has no scored pool');
      if (pool!.ids!.length !== pool!.scores!.length) bad('has as many ids as scores');
      return;
    }
    case 'engine.failed':
      return;
    default:
      if (typeof entry.nowMs !== 'number') bad('has no clock reading (nowMs)');
      if (entry.type === 'feed.more' && !Number.isInteger(entry.n)) bad('has no count');
      if (entry.type === 'user.feedback' && typeof entry.feedback?.seq !== 'number') bad('names no seq');
      if (entry.type === 'user.steer' && typeof entry.steer?.kind !== 'string') bad('has no steer');
  }
}
