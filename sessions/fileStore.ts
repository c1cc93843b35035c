import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { sessionError } from './errors.ts';
import { sweepDataDir } from './fileStoreSweep.ts';
import {
  DEFAULT_ENDED_TTL_MS,
  DEFAULT_MAX_EVENTS,
  DEFAULT_STORE_TTL_MS,
  isEndedSnapshot,
  type LoggedEvent,
  type SessionLogEvent,
  type SessionStore,
  type SessionStoreOptions,
  type StoredSession,
} from './sessionStore.ts';

/**
 * One line of a session file: an event (`n` its log number) or a snapshot (`s`), each with the version it
 * made (`v`) and the writer's clock (`t`, for expiry after a restart).
 */
type FileLine =
  | { v: number; t: number; n: number; e: SessionLogEvent }
  | { v: number; t: number; s: unknown };

interface Index {
  version: number;
  /** Log numbers up to this one are covered by the latest snapshot. */
  covers: number;
  nextLogId: number;
  /** Events in the file (bounded by `maxEvents` + slack, then compacted). */
  events: number;
  expiresAt: number;
  ended: boolean;
  /** Bytes of the latest snapshot line, and of the earlier ones no load reads any more. */
  snapBytes: number;
  stale: number;
}

export interface FileStoreOptions extends SessionStoreOptions {
  /** The data directory: `live/` holds the sessions a restart restores, `done/` the logs kept for replay. */
  dir: string;
  now?: () => number;
  /** Expired sessions' files move to `done/`, and `done/` is trimmed, this often (default 60 s; 0 = never). */
  sweepMs?: number;
  /** A log in `done/` is deleted this long after its last write (default 7 days). */
  logMaxAgeMs?: number;
  /** `live/` plus `done/` above this many bytes: the oldest files in `done/` go first (default 1 GiB). */
  logMaxBytes?: number;
}

export interface FileStore extends SessionStore {
  /** Moves expired sessions to `done/` and trims `done/` by age and size; resolves what it did. */
  sweep(): { retired: number; deleted: number; bytes: number };
  readonly dir: string;
}

/** Slack before a session file is compacted to its newest `maxEvents` (as Redis trims `MAXLEN ~`). */
const SLACK = 100;
/** Files kept open for appending (an open descriptor writes in ~11 µs, open-write-close takes ~45 µs). */
const OPEN_FILES = 256;
/** Superseded snapshots (about 70 KB each) are dropped from a file once they add up to this. */
const STALE_BYTES = 1024 * 1024;

/**
 * A `SessionStore` on local disk for a single node: one append-only JSONL file per session in
 * `DIR/live/`, written synchronously before a call resolves (so a restart of the process, not of the machine,
 * keeps every answered command), read back on `load` after a restart. Versions are checked in memory: one
 * process owns a data directory. Expired sessions move to `DIR/done/`, kept for `omakase replay` until
 * `logMaxAgeMs` or `logMaxBytes` removes them.
 *
 * @example
 * const store = createFileStore({ dir: 'omakase-data' });
 * await store.append(id, { type: 'user.start', atMs: Date.now(), seed: 1 }, 0);
 */
export function createFileStore(options: FileStoreOptions): FileStore {
  const ttlMs = options.ttlMs ?? DEFAULT_STORE_TTL_MS;
  const endedTtlMs = Math.min(options.endedTtlMs ?? DEFAULT_ENDED_TTL_MS, ttlMs);
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const now = options.now ?? Date.now;
  const live = join(options.dir, 'live');
  const done = join(options.dir, 'done');
  mkdirSync(live, { recursive: true });
  mkdirSync(done, { recursive: true });
  const index = new Map<string, Index>();
  const fresh = (): Index => ({
    version: 0,
    covers: 0,
    nextLogId: 1,
    events: 0,
    expiresAt: 0,
    ended: false,
    snapBytes: 0,
    stale: 0,
  });
  const pathOf = (sessionId: string) => {
    // Session ids are UUIDs here; anything that could leave the directory is refused outright.
    if (!/^[\w.-]{1,128}$/.test(sessionId) || sessionId.startsWith('.'))
      throw sessionError(
        'SESSION_INVALID_REQUEST',
        `"${sessionId}" is not a session id this store can keep.`,
      );
    return join(live, `${sessionId}.jsonl`);
  };

  /** Open descriptors, least recently written first. */
  const fds = new Map<string, number>();
  const fdOf = (sessionId: string): number => {
    let fd = fds.get(sessionId);
    if (fd === undefined) {
      fd = openSync(pathOf(sessionId), 'a');
      if (fds.size >= OPEN_FILES) shut(fds.keys().next().value as string);
    } else fds.delete(sessionId);
    fds.set(sessionId, fd);
    return fd;
  };
  const shut = (sessionId: string): void => {
    const fd = fds.get(sessionId);
    if (fd === undefined) return;
    fds.delete(sessionId);
    closeSync(fd);
  };

  const readLines = (sessionId: string): FileLine[] => {
    const path = pathOf(sessionId);
    if (!existsSync(path)) return [];
    const lines: FileLine[] = [];
    for (const text of readFileSync(path, 'utf8').split('\n')) {
      if (text === '') continue;
      try {
        lines.push(JSON.parse(text));
      } catch {
        // A line cut by a crash mid-write is the last one: what came before it stands.
        break;
      }
    }
    return lines;
  };

  /** The session's index, rebuilt from its file after a restart; undefined when absent or expired. */
  const current = (sessionId: string): Index | undefined => {
    let entry = index.get(sessionId);
    if (!entry) {
      const lines = readLines(sessionId);
      if (lines.length === 0) return undefined;
      entry = fresh();
      let lastT = 0;
      for (const line of lines) {
        entry.version = line.v;
        lastT = line.t;
        if ('e' in line) {
          entry.nextLogId = line.n + 1;
          entry.events++;
        } else {
          entry.covers = entry.nextLogId - 1;
          entry.ended = isEndedSnapshot(line.s);
        }
      }
      entry.expiresAt = lastT + (entry.ended ? endedTtlMs : ttlMs);
      index.set(sessionId, entry);
    }
    if (entry.expiresAt <= now()) {
      retire(sessionId);
      return undefined;
    }
    return entry;
  };

  /** An expired session leaves `live/` (a restart no longer restores it) for `done/` (replay can still read it). */
  const retire = (sessionId: string): void => {
    index.delete(sessionId);
    shut(sessionId);
    const path = pathOf(sessionId);
    if (existsSync(path)) renameSync(path, join(done, `${sessionId}.${now()}.jsonl`));
  };

  const writable = (sessionId: string, expectedVersion: number): Index => {
    const entry = current(sessionId) ?? fresh();
    if (entry.version !== expectedVersion) {
      throw sessionError(
        'SESSION_STORE_CONFLICT',
        `Session ${sessionId} is at version ${entry.version}, not ${expectedVersion}: reload it and retry.`,
        { details: { sessionId, expectedVersion, version: entry.version } },
      );
    }
    return entry;
  };

  /** Writes one line, then (only then) takes the new version: a failed write changes nothing. */
  const write = (sessionId: string, entry: Index, line: FileLine): number => {
    const text = `${JSON.stringify(line)}\n`;
    try {
      writeSync(fdOf(sessionId), text);
    } catch (err) {
      throw sessionError(
        'SESSION_STORE_UNAVAILABLE',
        `Cannot write session ${sessionId} under ${options.dir}: ${(err as Error).message}. Check the data directory's space and permissions.`,
        { cause: err },
      );
    }
    entry.version = line.v;
    entry.expiresAt = line.t + (entry.ended ? endedTtlMs : ttlMs);
    index.set(sessionId, entry);
    return text.length;
  };

  /** Rewrites a file that outgrew `maxEvents`: its latest snapshot and its newest `maxEvents` events. */
  const compact = (sessionId: string): void => {
    const lines = readLines(sessionId);
    const events = lines.filter((l) => 'e' in l);
    const keep = new Set<FileLine>(events.slice(-maxEvents));
    let snapshot: FileLine | undefined;
    for (const l of lines) if ('s' in l) snapshot = l;
    const kept = lines.filter((l) => keep.has(l) || l === snapshot);
    shut(sessionId);
    const path = pathOf(sessionId);
    writeFileSync(`${path}.tmp`, kept.map((l) => `${JSON.stringify(l)}\n`).join(''));
    renameSync(`${path}.tmp`, path);
    const entry = index.get(sessionId);
    if (entry) {
      entry.events = keep.size;
      entry.stale = 0;
    }
  };

  const sweep = () => {
    let retired = 0;
    for (const [id, entry] of index) {
      if (entry.expiresAt <= now()) {
        retire(id);
        retired++;
      }
    }
    return { retired, ...sweepDataDir({ live, done, now: now(), ttlMs, index, retire, options }) };
  };
  const sweepMs = options.sweepMs ?? 60_000;
  sweep();
  const timer = sweepMs > 0 ? setInterval(sweep, sweepMs) : undefined;
  timer?.unref();

  return {
    dir: options.dir,
    sweep,
    async load(sessionId): Promise<StoredSession | undefined> {
      if (!current(sessionId)) return undefined;
      let snapshot: { v: number; s: unknown } | undefined;
      let tail: LoggedEvent[] = [];
      for (const line of readLines(sessionId)) {
        if ('s' in line) {
          snapshot = line;
          tail = [];
        } else tail.push({ id: `${line.n}-0`, event: line.e });
      }
      if (!snapshot) return undefined;
      return { snapshot: snapshot.s, version: index.get(sessionId)!.version, tail };
    },
    async save(sessionId, snapshot, expectedVersion) {
      const entry = writable(sessionId, expectedVersion);
      entry.ended = isEndedSnapshot(snapshot);
      const bytes = write(sessionId, entry, { v: expectedVersion + 1, t: now(), s: snapshot });
      entry.covers = entry.nextLogId - 1;
      entry.stale += entry.snapBytes;
      entry.snapBytes = bytes;
      if (entry.stale > STALE_BYTES) compact(sessionId);
      return entry.version;
    },
    async delete(sessionId) {
      index.delete(sessionId);
      shut(sessionId);
      const path = pathOf(sessionId);
      if (existsSync(path)) unlinkSync(path);
    },
    async append(sessionId, event: SessionLogEvent, expectedVersion) {
      const entry = writable(sessionId, expectedVersion);
      const n = entry.nextLogId;
      write(sessionId, entry, { v: expectedVersion + 1, t: now(), n, e: event });
      entry.nextLogId++;
      entry.events++;
      if (entry.events > maxEvents + SLACK) compact(sessionId);
      return { version: entry.version, id: `${n}-0` };
    },
    async readEvents(sessionId, readOptions = {}): Promise<LoggedEvent[]> {
      if (!current(sessionId)) return [];
      const after = readOptions.fromId === undefined ? 0 : Number.parseInt(readOptions.fromId, 10);
      const count = readOptions.count ?? Number.POSITIVE_INFINITY;
      const out: LoggedEvent[] = [];
      for (const line of readLines(sessionId)) {
        if (out.length >= count) break;
        if ('e' in line && line.n > after) out.push({ id: `${line.n}-0`, event: line.e });
      }
      return out;
    },
    async touch(sessionId) {
      const entry = current(sessionId);
      if (entry) entry.expiresAt = now() + (entry.ended ? endedTtlMs : ttlMs);
    },
    async ping() {
      if (!existsSync(live))
        throw sessionError('SESSION_STORE_UNAVAILABLE', `The data directory ${options.dir} is gone.`);
    },
    async close() {
      if (timer) clearInterval(timer);
      for (const id of [...fds.keys()]) shut(id);
      index.clear();
    },
  };
}
