import { Cluster, Redis } from 'ioredis';
import { isOmakaseError } from '../models/omakaseError.ts';
import { sessionError } from './errors.ts';
import {
  DEFAULT_ENDED_TTL_MS,
  DEFAULT_MAX_EVENTS,
  DEFAULT_STORE_TTL_MS,
  isEndedSnapshot,
  type LoggedEvent,
  type SessionStore,
  type SessionStoreOptions,
  type StoredSession,
} from './sessionStore.ts';

export interface RedisStoreOptions extends SessionStoreOptions {
  /** Connection URL (the adapter reads it from REDIS_URL); ignored when `redis` is given. */
  url?: string;
  /** An existing client (a Redis or a Cluster); the store then leaves it open on `close()`. */
  redis?: Redis | Cluster;
  /**
   * Redis Cluster seed nodes (`host:port`); used instead of `url` when given. Every script touches one
   * session's two keys, which share a hash slot through their `{sessionId}` tag.
   */
  cluster?: readonly string[];
  /** Key prefix (default `omakase`); keys are `<prefix>:{<sessionId>}:snap` and `...:log`. */
  prefix?: string;
  /**
   * Every command fails after this long without an answer (default 2 000 ms), also one queued while the
   * connection is down: a frozen Redis then costs a caller this, not a hang (SESSION_STORE_UNAVAILABLE).
   */
  commandTimeoutMs?: number;
  /** Called with each failed call's Redis error (the message clients get says nothing of it). */
  onFailure?: (what: string, err: Error) => void;
}

// Every write is a compare-and-swap on the hash's version `v`, in one round trip: Redis runs a script
// atomically, so no WATCH retry loop is needed. Both return -1 - current version on a mismatch.
// The hash also keeps `e`, the id of the last event appended, `c`, the last event the snapshot covers, and
// `d` = 1 once the snapshot is a finished session's: from then on every write sets the short ended TTL.
const SAVE_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return -1 - current end
redis.call('HSET', KEYS[1], 'v', current + 1, 's', ARGV[2], 'c', redis.call('HGET', KEYS[1], 'e') or '', 'd', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return current + 1
`;

const APPEND_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return {-1 - current, ''} end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[2])
redis.call('HSET', KEYS[1], 'v', current + 1, 'e', id)
local ttl = ARGV[4]
if redis.call('HGET', KEYS[1], 'd') == '1' then ttl = ARGV[5] end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {current + 1, id}
`;

// The snapshot and the events after it, read at one instant.
const LOAD_SCRIPT = `
local fields = redis.call('HMGET', KEYS[1], 'v', 's', 'c')
if not fields[1] or not fields[2] then return false end
local from = '-'
if fields[3] and fields[3] ~= '' then from = '(' .. fields[3] end
return {fields[1], fields[2], redis.call('XRANGE', KEYS[2], from, '+')}
`;

type StreamRow = [id: string, fields: string[]];

type RedisWithScripts = (Redis | Cluster) & {
  omakaseSave(
    snapKey: string,
    logKey: string,
    expected: number,
    json: string,
    ttlMs: number,
    ended: '0' | '1',
  ): Promise<number>;
  omakaseAppend(
    snapKey: string,
    logKey: string,
    expected: number,
    json: string,
    maxEvents: number,
    ttlMs: number,
    endedTtlMs: number,
  ): Promise<[number, string]>;
  omakaseLoad(snapKey: string, logKey: string): Promise<[string, string, StreamRow[]] | null>;
};

/**
 * A `SessionStore` in Redis, shared by every node: snapshot and version in a hash, the log in a stream
 * trimmed with `XADD MAXLEN ~`. Both keys carry the session id as a Cluster hash tag, so every script
 * touches one slot.
 */
export function createRedisStore(options: RedisStoreOptions = {}): SessionStore {
  const ttlMs = options.ttlMs ?? DEFAULT_STORE_TTL_MS;
  const endedTtlMs = Math.min(options.endedTtlMs ?? DEFAULT_ENDED_TTL_MS, ttlMs);
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const prefix = options.prefix ?? 'omakase';
  const owned = options.redis === undefined;
  const clientOptions = {
    // Fail calls fast while Redis is down instead of queueing them for ever; callers see a retryable code.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    // The offline queue stays on (commands sent before the first connect wait for it), but every command,
    // queued or sent, is bounded by the timeout: nothing waits for a dead Redis longer than that.
    commandTimeout: options.commandTimeoutMs ?? 2_000,
  };
  const redis = (options.redis ??
    (options.cluster
      ? new Cluster(
          options.cluster.map((node) => {
            const [host, port] = node.split(':');
            return { host, port: Number(port) };
          }),
          { redisOptions: clientOptions, clusterRetryStrategy: (times) => Math.min(100 * times, 2_000) },
        )
      : new Redis(options.url ?? 'redis://127.0.0.1:6379', clientOptions))) as RedisWithScripts;
  // Connection errors surface on the calls as SESSION_STORE_UNAVAILABLE; without a listener ioredis would
  // also print each reconnect failure.
  if (owned) redis.on('error', () => {});
  if (typeof redis.omakaseSave !== 'function') {
    redis.defineCommand('omakaseSave', { numberOfKeys: 2, lua: SAVE_SCRIPT });
    redis.defineCommand('omakaseAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    redis.defineCommand('omakaseLoad', { numberOfKeys: 2, lua: LOAD_SCRIPT });
  }
  const snapKey = (id: string) => `${prefix}:{${id}}:snap`;
  const logKey = (id: string) => `${prefix}:{${id}}:log`;

  const logged = ([id, fields]: StreamRow): LoggedEvent => ({
    id,
    event: JSON.parse(fields[fields.indexOf('e') + 1]!),
  });
  const conflict = (sessionId: string, expectedVersion: number, version: number) =>
    sessionError(
      'SESSION_STORE_CONFLICT',
      `Session ${sessionId} is at version ${version}, not ${expectedVersion}: reload it and retry.`,
      { details: { sessionId, expectedVersion, version } },
    );

  async function call<T>(what: string, sessionId: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isOmakaseError(err)) throw err;
      options.onFailure?.(what, err as Error);
      // The message reaches clients: it names what failed, never the Redis error (hosts, commands, internals);
      // the cause stays on the error for the server's own log.
      const timedOut = (err as Error).message === 'Command timed out';
      throw sessionError(
        'SESSION_STORE_UNAVAILABLE',
        `The session store ${timedOut ? 'did not answer in time' : 'failed'} during ${what}; retry shortly.`,
        { cause: err, details: { sessionId, timedOut } },
      );
    }
  }

  return {
    load: (sessionId) =>
      call('load', sessionId, async (): Promise<StoredSession | undefined> => {
        const found = await redis.omakaseLoad(snapKey(sessionId), logKey(sessionId));
        if (!found) return undefined;
        const [version, json, rows] = found;
        return { snapshot: JSON.parse(json), version: Number(version), tail: rows.map(logged) };
      }),
    save: (sessionId, snapshot, expectedVersion) =>
      call('save', sessionId, async () => {
        const result = Number(
          await redis.omakaseSave(
            snapKey(sessionId),
            logKey(sessionId),
            expectedVersion,
            JSON.stringify(snapshot),
            isEndedSnapshot(snapshot) ? endedTtlMs : ttlMs,
            isEndedSnapshot(snapshot) ? '1' : '0',
          ),
        );
        if (result < 0) throw conflict(sessionId, expectedVersion, -1 - result);
        return result;
      }),
    delete: (sessionId) =>
      call('delete', sessionId, async () => {
        await redis.del(snapKey(sessionId), logKey(sessionId));
      }),
    append: (sessionId, event, expectedVersion) =>
      call('append', sessionId, async () => {
        const [result, id] = await redis.omakaseAppend(
          snapKey(sessionId),
          logKey(sessionId),
          expectedVersion,
          JSON.stringify(event),
          maxEvents,
          ttlMs,
          endedTtlMs,
        );
        if (result < 0) throw conflict(sessionId, expectedVersion, -1 - result);
        return { version: result, id };
      }),
    readEvents: (sessionId, readOptions = {}) =>
      call('readEvents', sessionId, async (): Promise<LoggedEvent[]> => {
        const start = readOptions.fromId === undefined ? '-' : `(${readOptions.fromId}`;
        const rows =
          readOptions.count === undefined
            ? await redis.xrange(logKey(sessionId), start, '+')
            : await redis.xrange(logKey(sessionId), start, '+', 'COUNT', readOptions.count);
        return rows.map(logged);
      }),
    touch: (sessionId) =>
      call('touch', sessionId, async () => {
        await redis.multi().pexpire(snapKey(sessionId), ttlMs).pexpire(logKey(sessionId), ttlMs).exec();
      }),
    ping: () =>
      call('ping', '-', async () => {
        await redis.ping();
      }),
    async close() {
      if (owned) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
