import { sessionError } from './errors.ts';
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

interface Entry {
  /**
   * Kept as JSON bytes so callers can never share objects with the store (as with Redis), and off the JS heap:
   * as a string, each 85 KB snapshot outlived the young generation and every scavenge copied it.
   */
  snapshot?: Buffer;
  /** Log events up to this number are covered by the snapshot. */
  covers: number;
  version: number;
  log: { n: number; json: string }[];
  /** Characters of JSON in `log`. */
  logChars: number;
  nextLogId: number;
  expiresAt: number;
  /** The last snapshot was a finished session's: later writes keep the short `endedTtlMs`. */
  ended: boolean;
}

export interface MemoryStoreOptions extends SessionStoreOptions {
  /** Clock for expiry (inject one to test TTLs). */
  now?: () => number;
  /**
   * The log keeps at most about this many characters of JSON per session (default 256 KiB, about 400 items
   * with their decisions), dropping the oldest events the snapshot already covers: a long session's memory
   * is bounded by bytes as well as by `maxEvents`. Replay of such a session starts at its oldest kept event.
   */
  maxLogChars?: number;
  /** How often expired entries are freed (default: `endedTtlMs`, from 1 s to 30 s; 0 turns the timer off and leaves `sweep` to the caller). */
  sweepMs?: number;
}

/**
 * The memory store's default log cap per session: with a snapshot (about 70 KB) a live session holds at most
 * about 330 KB of store memory, so 1,000 live sessions about 330 MB (docs/operations.md sizes it).
 */
export const MEMORY_LOG_CHARS = 256 * 1024;

/** The memory store, with what an operator (and a test) can ask of it beyond `SessionStore`. */
export interface MemoryStore extends SessionStore {
  /** Sessions held, expired ones not yet swept included. */
  size(): number;
  /** Frees every entry whose TTL has run out; returns how many went. */
  sweep(): number;
  /** What the store holds now: sessions, and characters of JSON in snapshots and logs (about bytes). */
  stats(): MemoryStoreStats;
}

export interface MemoryStoreStats {
  sessions: number;
  snapshotChars: number;
  logChars: number;
}

/**
 * A `SessionStore` in this process's memory: the default for a single node and for tests. Expired sessions
 * are refused on read at once and freed by a sweep every `sweepMs`, so memory is bounded by what was written
 * within the TTL (`ttlMs` for live sessions, the much shorter `endedTtlMs` for finished ones).
 * Everything is lost when the process exits (docs/operations.md).
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const ttlMs = options.ttlMs ?? DEFAULT_STORE_TTL_MS;
  const endedTtlMs = Math.min(options.endedTtlMs ?? DEFAULT_ENDED_TTL_MS, ttlMs);
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const now = options.now ?? Date.now;
  const maxLogChars = options.maxLogChars ?? MEMORY_LOG_CHARS;
  // Often enough that an ended session goes within about twice its TTL.
  const sweepMs = options.sweepMs ?? Math.min(30_000, Math.max(1_000, endedTtlMs));
  const entries = new Map<string, Entry>();

  const live = (sessionId: string): Entry | undefined => {
    const entry = entries.get(sessionId);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(sessionId);
      return undefined;
    }
    return entry;
  };
  /** The entry to write at `expectedVersion`, created when absent; SESSION_STORE_CONFLICT when stale. */
  const writable = (sessionId: string, expectedVersion: number): Entry => {
    const entry = live(sessionId) ?? {
      covers: 0,
      version: 0,
      log: [],
      logChars: 0,
      nextLogId: 1,
      expiresAt: 0,
      ended: false,
    };
    if (entry.version !== expectedVersion) {
      throw sessionError(
        'SESSION_STORE_CONFLICT',
        `Session ${sessionId} is at version ${entry.version}, not ${expectedVersion}: reload it and retry.`,
        { details: { sessionId, expectedVersion, version: entry.version } },
      );
    }
    entries.set(sessionId, entry);
    entry.version++;
    return entry;
  };
  const refresh = (entry: Entry): void => {
    entry.expiresAt = now() + (entry.ended ? endedTtlMs : ttlMs);
  };
  const logged = ({ n, json }: { n: number; json: string }): LoggedEvent => ({
    id: `${n}-0`,
    event: JSON.parse(json),
  });

  const sweep = (): number => {
    const t = now();
    let freed = 0;
    for (const [id, entry] of entries) {
      if (entry.expiresAt <= t) {
        entries.delete(id);
        freed++;
      }
    }
    return freed;
  };
  const timer = sweepMs > 0 ? setInterval(sweep, sweepMs) : undefined;
  // The sweep must not keep a process alive that has nothing else to do.
  timer?.unref();

  return {
    size: () => entries.size,
    sweep,
    stats() {
      let snapshotChars = 0;
      let logChars = 0;
      for (const entry of entries.values()) {
        snapshotChars += entry.snapshot?.length ?? 0;
        logChars += entry.logChars;
      }
      return { sessions: entries.size, snapshotChars, logChars };
    },
    async load(sessionId): Promise<StoredSession | undefined> {
      const entry = live(sessionId);
      if (!entry?.snapshot) return undefined;
      return {
        snapshot: JSON.parse(entry.snapshot.toString('utf8')),
        version: entry.version,
        tail: entry.log.filter((e) => e.n > entry.covers).map(logged),
      };
    },
    async save(sessionId, snapshot, expectedVersion) {
      const json = JSON.stringify(snapshot);
      const entry = writable(sessionId, expectedVersion);
      entry.snapshot = Buffer.from(json, 'utf8');
      entry.covers = entry.nextLogId - 1;
      entry.ended = isEndedSnapshot(snapshot);
      refresh(entry);
      return entry.version;
    },
    async delete(sessionId) {
      entries.delete(sessionId);
    },
    async append(sessionId, event: SessionLogEvent, expectedVersion) {
      const json = JSON.stringify(event);
      const entry = writable(sessionId, expectedVersion);
      const n = entry.nextLogId++;
      entry.log.push({ n, json });
      entry.logChars += json.length;
      let drop = Math.max(0, entry.log.length - maxEvents);
      let chars = entry.logChars;
      for (let i = 0; i < drop; i++) chars -= entry.log[i].json.length;
      // Past the byte cap, only events the snapshot covers go: the tail a restore needs is always kept.
      while (chars > maxLogChars && drop < entry.log.length && entry.log[drop].n <= entry.covers) {
        chars -= entry.log[drop].json.length;
        drop++;
      }
      if (drop > 0) {
        entry.log.splice(0, drop);
        entry.logChars = chars;
      }
      refresh(entry);
      return { version: entry.version, id: `${n}-0` };
    },
    async readEvents(sessionId, readOptions = {}): Promise<LoggedEvent[]> {
      const entry = live(sessionId);
      if (!entry) return [];
      const after = readOptions.fromId === undefined ? 0 : Number.parseInt(readOptions.fromId, 10);
      const count = readOptions.count ?? Number.POSITIVE_INFINITY;
      const out: LoggedEvent[] = [];
      for (const e of entry.log) {
        if (out.length >= count) break;
        if (e.n > after) out.push(logged(e));
      }
      return out;
    },
    async touch(sessionId) {
      const entry = live(sessionId);
      if (entry) refresh(entry);
    },
    async ping() {},
    async close() {
      if (timer) clearInterval(timer);
      entries.clear();
    },
  };
}
