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
  version: number;
  log: { id: string; json: string }[];
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
  const getOrCreate = (sessionId: string): Entry => {
    let entry = live(sessionId);
    if (!entry) {
      entry = { version: 0, log: [], nextLogId: 1, expiresAt: now() + ttlMs };
      entries.set(sessionId, entry);
    }
    return entry;
  };

  return {
    async load(sessionId): Promise<StoredSession | undefined> {
      const entry = live(sessionId);
      if (!entry?.snapshot) return undefined;
      return { snapshot: JSON.parse(entry.snapshot), version: entry.version };
    },
    async save(sessionId, snapshot, expectedVersion) {
      const current = live(sessionId);
      const version = current?.snapshot ? current.version : 0;
      if (version !== expectedVersion) {
        throw sessionError(
          'SESSION_STORE_CONFLICT',
          `Session ${sessionId} is at version ${version}, not ${expectedVersion}: reload it and retry.`,
          { details: { sessionId, expectedVersion, version } },
        );
      }
      const entry = getOrCreate(sessionId);
      entry.snapshot = JSON.stringify(snapshot);
      entry.version = version + 1;
      entry.expiresAt = now() + ttlMs;
      return entry.version;
    },
    async delete(sessionId) {
      entries.delete(sessionId);
    },
    async appendEvent(sessionId, event: SessionLogEvent) {
      const entry = getOrCreate(sessionId);
      const id = `${entry.nextLogId++}-0`;
      entry.log.push({ id, json: JSON.stringify(event) });
      if (entry.log.length > maxEvents) entry.log.splice(0, entry.log.length - maxEvents);
      entry.expiresAt = now() + ttlMs;
      return id;
    },
    async readEvents(sessionId, readOptions = {}): Promise<LoggedEvent[]> {
      const entry = live(sessionId);
      if (!entry) return [];
      const after = readOptions.fromId === undefined ? 0 : Number.parseInt(readOptions.fromId, 10);
      const count = readOptions.count ?? Number.POSITIVE_INFINITY;
      const out: LoggedEvent[] = [];
      for (const { id, json } of entry.log) {
        if (out.length >= count) break;
        if (Number.parseInt(id, 10) > after) out.push({ id, event: JSON.parse(json) });
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
