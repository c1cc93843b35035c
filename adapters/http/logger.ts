import { type DestinationStream, type Logger, pino } from 'pino';
import { isOmakaseError } from '../../models/omakaseError.ts';
import type { WsObserver } from '../ws/connectionContext.ts';

export type { Logger };

/**
 * The server's structured log (pino): one JSON line per event on stdout. Fields that could hold a secret are
 * censored wherever they appear; URLs are printed through `redactUrl`.
 */
export function createLogger(
  options: { level?: string; nodeId?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { node: options.nodeId },
      redact: {
        paths: [
          'password',
          'token',
          'authorization',
          'apiKey',
          'apiKeys',
          '*.password',
          '*.token',
          '*.authorization',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** The URL with any password (and user name) replaced, for logs and banners: `redis://:***@host:6379/0`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable URL]';
  }
}

/**
 * One line for a run of the same failure, not one per occurrence: the first is logged, later ones within
 * `windowMs` are counted and reported in one line when the window closes (a 10 s Redis outage is a few
 * lines, not a stack per call).
 */
export function throttledLog(
  log: Logger,
  windowMs = 10_000,
): (key: string, fields: Record<string, unknown>, msg: string) => void {
  const open = new Map<string, { count: number; timer: NodeJS.Timeout }>();
  return (key, fields, msg) => {
    const run = open.get(key);
    if (run !== undefined) {
      run.count++;
      return;
    }
    log.warn(fields, msg);
    const timer = setTimeout(() => {
      const done = open.get(key);
      open.delete(key);
      if (done && done.count > 0) log.warn({ ...fields, repeats: done.count, windowMs }, `${msg} (repeated)`);
    }, windowMs);
    timer.unref();
    open.set(key, { count: 0, timer });
  };
}

/** Fields of an error fit for a log line: its code and message, no stack (the cause's message only). */
export function errorFields(err: unknown): Record<string, unknown> {
  if (isOmakaseError(err)) {
    const cause = (err as { cause?: unknown }).cause;
    return {
      code: err.code,
      err: err.message,
      cause: cause instanceof Error ? cause.message : undefined,
      sessionId: (err.details as { sessionId?: string } | undefined)?.sessionId,
    };
  }
  return { code: 'INTERNAL', err: err instanceof Error ? err.message : String(err) };
}

/** The ws server's events as log lines: sessions opened, refusals, closes, and error frames of note. */
export function logObserver(log: Logger): WsObserver {
  const warn = throttledLog(log);
  return {
    sessionOpened: (c, how) =>
      log.info(
        {
          event: 'session.opened',
          how,
          sessionId: c.session,
          principal: c.peer.principal,
          connection: c.connectionId,
        },
        `session ${how}`,
      ),
    refused: (code, reason, c) =>
      warn(
        `refused:${code}:${c?.peer.address ?? ''}`,
        {
          event: 'connection.refused',
          closeCode: code,
          reason,
          address: c?.peer.address,
          sessionId: c?.session,
        },
        'connection refused',
      ),
    connectionClosed: (c, code) =>
      code === 4409
        ? log.info(
            { event: 'session.taken_over', sessionId: c.session, connection: c.connectionId },
            'session taken over by a newer connection',
          )
        : log.debug(
            { event: 'connection.closed', closeCode: code, sessionId: c.session, connection: c.connectionId },
            'connection closed',
          ),
    errorSent: (code, c) => {
      if (code === 'INTERNAL' || code.startsWith('SESSION_STORE') || code === 'SESSION_ENGINE_FAILED')
        warn(`error:${code}`, { event: 'request.failed', code, sessionId: c.session }, 'request failed');
    },
  };
}
