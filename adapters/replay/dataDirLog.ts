import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sessionError } from '../../sessions/errors.ts';

/**
 * The file that holds a session's log in a `serve` data directory: `live/ID.jsonl` while the session can
 * still be restored, else its newest `done/ID.*.jsonl`. SESSION_NOT_FOUND when neither exists.
 *
 * @example sessionFile('omakase-data', '6f1c…') // 'omakase-data/live/6f1c….jsonl'
 */
export function sessionFile(dataDir: string, sessionId: string): string {
  const live = join(dataDir, 'live', `${sessionId}.jsonl`);
  if (existsSync(live)) return live;
  const doneDir = join(dataDir, 'done');
  const done = existsSync(doneDir)
    ? readdirSync(doneDir)
        .filter((f) => f.startsWith(`${sessionId}.`) && f.endsWith('.jsonl'))
        .sort()
    : [];
  if (done.length > 0) return join(doneDir, done[done.length - 1]);
  throw sessionError(
    'SESSION_NOT_FOUND',
    `No log for session ${sessionId} in ${dataDir} (live/ or done/): check the id and --data-dir (logs are kept --log-max-age-ms).`,
  );
}
