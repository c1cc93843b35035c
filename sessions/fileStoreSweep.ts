import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** What the file store's sweep needs to know and do beyond its own index. */
export interface DataDirSweep {
  live: string;
  done: string;
  now: number;
  ttlMs: number;
  /** Sessions the store holds an index for (their expiry is known exactly). */
  index: ReadonlyMap<string, unknown>;
  retire(sessionId: string): void;
  options: { logMaxAgeMs?: number; logMaxBytes?: number };
}

export const DEFAULT_LOG_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_LOG_MAX_BYTES = 1024 * 1024 * 1024;

/**
 * Bounds a data directory: files in `live/` that this process does not hold and that nobody wrote within the
 * TTL (left by an earlier run) move to `done/`; logs in `done/` older than `logMaxAgeMs` are deleted, then
 * the oldest ones until `live/` and `done/` together fit in `logMaxBytes`.
 *
 * @example
 * sweepDataDir({ live, done, now: Date.now(), ttlMs, index, retire, options: { logMaxBytes: 1e9 } });
 */
export function sweepDataDir(sweep: DataDirSweep): { deleted: number; bytes: number } {
  const maxAge = sweep.options.logMaxAgeMs ?? DEFAULT_LOG_MAX_AGE_MS;
  const maxBytes = sweep.options.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES;
  let bytes = 0;
  for (const name of readdirSync(sweep.live)) {
    if (!name.endsWith('.jsonl')) continue;
    const stat = statOf(join(sweep.live, name));
    if (!stat) continue;
    const id = name.slice(0, -'.jsonl'.length);
    if (!sweep.index.has(id) && stat.mtimeMs + sweep.ttlMs <= sweep.now) sweep.retire(id);
    else bytes += stat.size;
  }
  const kept: { path: string; mtimeMs: number; size: number }[] = [];
  let deleted = 0;
  for (const name of readdirSync(sweep.done)) {
    const path = join(sweep.done, name);
    const stat = statOf(path);
    if (!stat) continue;
    if (stat.mtimeMs + maxAge <= sweep.now) {
      unlinkSync(path);
      deleted++;
    } else kept.push({ path, mtimeMs: stat.mtimeMs, size: stat.size });
  }
  kept.sort((a, b) => a.mtimeMs - b.mtimeMs);
  bytes += kept.reduce((sum, f) => sum + f.size, 0);
  for (const f of kept) {
    if (bytes <= maxBytes) break;
    unlinkSync(f.path);
    bytes -= f.size;
    deleted++;
  }
  return { deleted, bytes };
}

function statOf(path: string) {
  try {
    return statSync(path);
  } catch {
    // Removed between the listing and the stat (a retire, another sweep): nothing to count.
    return undefined;
  }
}
