import { sessionError } from './errors.ts';
import {
  DEFAULT_MAX_EVENTS,
  DEFAULT_STORE_TTL_MS,
  type LoggedEvent,
  type SessionLogEvent,
  type SessionStore,
  type SessionStoreOptions,
  type StoredSession,
} from './sessionStore.ts';

interface Entry {
  /** Kept as JSON text so callers can never share objects with the store (as with Redis). */
  snapshot?: string;
  /** Log events up to this number are covered by the snapshot. */
  covers: number;
  version: number;
  log: { n: number; json: string }[];
  nextLogId: number;
  expiresAt: number;
}

/**
 * A `SessionStore` in this process's memory: the default for a single node and for tests.
 * Expiry is checked lazily against `now` (inject a clock to test TTLs).
 */
export function createMemoryStore(options: SessionStoreOptions & { now?: () => number } = {}): SessionStore {
  const ttlMs = options.ttlMs ?? DEFAULT_STORE_TTL_MS;
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const now = options.now ?? Date.now;
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
    const entry = live(sessionId) ?? { covers: 0, version: 0, log: [], nextLogId: 1, expiresAt: 0 };
    if (entry.version !== expectedVersion) {
      throw sessionError(
        'SESSION_STORE_CONFLICT',
        `Session ${sessionId} is at version ${entry.version}, not ${expectedVersion}: reload it and retry.`,
        { details: { sessionId, expectedVersion, version: entry.version } },
      );
    }
    entries.set(sessionId, entry);
    entry.version++;
    entry.expiresAt = now() + ttlMs;
    return entry;
  };
  const logged = ({ n, json }: { n: number; json: string }): LoggedEvent => ({
    id: `${n}-0`,
    event: JSON.parse(json),
  });

  return {
    async load(sessionId): Promise<StoredSession | undefined> {
      const entry = live(sessionId);
      if (!entry?.snapshot) return undefined;
      return {
        snapshot: JSON.parse(entry.snapshot),
        version: entry.version,
        tail: entry.log.filter((e) => e.n > entry.covers).map(logged),
      };
    },
    async save(sessionId, snapshot, expectedVersion) {
      const json = JSON.stringify(snapshot);
      const entry = writable(sessionId, expectedVersion);
      entry.snapshot = json;
      entry.covers = entry.nextLogId - 1;
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
      if (entry.log.length > maxEvents) entry.log.splice(0, entry.log.length - maxEvents);
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
      if (entry) entry.expiresAt = now() + ttlMs;
    },
    async close() {
      entries.clear();
    },
  };
}
