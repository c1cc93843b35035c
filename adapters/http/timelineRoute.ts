import type { Engine } from '../../engine/engine.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import { replaySession } from '../../sessions/replay.ts';
import type { SessionStore } from '../../sessions/sessionStore.ts';
import { sessionTimeline } from '../../sessions/sessionTimeline.ts';
import { timelineHtml } from '../report/timelineHtml.ts';
import type { Authenticate } from './auth.ts';
import type { HttpRoute } from './httpApp.ts';
import { requireAuth } from './requireAuth.ts';

const PATH = /^\/sessions\/([^/]*)\/timeline$/;
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * `GET /sessions/ID/timeline`: the session's timeline page (`timelineHtml`), read from the store's log and
 * replayed on the serving engine (its first divergence, if any, marked), behind the same authentication as
 * `/metrics`. Errors answer JSON with a stable code: 404 SESSION_NOT_FOUND (no log for the id), 400
 * SESSION_INVALID_REQUEST (not a session id), 422 SESSION_INVALID_REQUEST (a log that cannot be replayed),
 * 405 on a method other than GET or HEAD.
 *
 * @example
 * createHttpApp({ ..., routes: [timelineRoute({ store, engine: runtime.engine, authenticate })] });
 */
export function timelineRoute(options: {
  store: SessionStore;
  engine: Engine;
  authenticate?: Authenticate;
}): HttpRoute {
  return (req, res, path) => {
    const match = PATH.exec(path);
    if (!match) return false;
    const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      res
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
        .end(`${JSON.stringify({ code, message })}\n`);
    void (async () => {
      if (!(await requireAuth(options.authenticate, req, res))) return;
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return fail(405, 'SESSION_INVALID_REQUEST', 'Use GET for a timeline.', { allow: 'GET, HEAD' });
      const id = decodeURIComponent(match[1]!);
      if (!SESSION_ID.test(id))
        return fail(400, 'SESSION_INVALID_REQUEST', 'A session id is 1 to 128 letters, digits, - or _.');
      const events = (await options.store.readEvents(id)).map((row) => row.event);
      if (events.length === 0)
        return fail(
          404,
          'SESSION_NOT_FOUND',
          `No log for session ${id}: check the id (logs expire with the session).`,
        );
      const [timeline, replay] = await Promise.all([
        sessionTimeline(events, options.engine),
        replaySession(events, options.engine),
      ]);
      const html = timelineHtml({ sessionId: id, timeline, replay });
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(req.method === 'HEAD' ? undefined : html);
    })().catch((err: unknown) => {
      if (res.headersSent) return;
      if (isOmakaseError(err, 'SESSION_INVALID_REQUEST') || isOmakaseError(err, 'SESSION_NOT_FOUND'))
        return fail(422, 'SESSION_INVALID_REQUEST', (err as Error).message);
      fail(500, 'INTERNAL', 'The timeline could not be built.');
    });
    return true;
  };
}
