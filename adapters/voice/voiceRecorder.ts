import { hash } from 'node:crypto';
import type { WireRecord } from '../../sessions/sessionLog.ts';
import type { SessionService } from '../../sessions/sessionService.ts';
import type { WireTrailer } from '../../sessions/wireTrailer.ts';
import { hashId } from '../ws/wireRecorder.ts';
import { type AlexaHandler, connectionIdOf, type VoiceResponse } from './alexaHandler.ts';
import type { AlexaRequestEnvelope } from './alexaRequest.ts';
import { isGone } from './voiceStream.ts';

/**
 * The kinds of the voice adapter's wire records (`[connection, kind, payload]` in the session log):
 * - `voice`: the endpoint that served the session (`VoiceOpened`), so a replay builds the same handler;
 * - `req`: a request envelope the endpoint accepted, redacted (`redactedJson`), with its arrival time;
 * - `res`: its answer: `[status, hash]`, the first 16 hex digits of the SHA-256 of the body as sent.
 */
export const VOICE_KINDS = ['voice', 'req', 'res'] as const;

/** The endpoint's settings a replay needs to answer as it did. */
export interface VoiceOpened {
  sessionId: string;
  /** SHA-256 of the Alexa user id, first 16 hex digits. */
  principal: string;
  skillId: string;
  /** The `--stream-url` template, when items take their URL from it. */
  streamUrlTemplate?: string;
  /** Whether the endpoint checked Alexa's signatures (a replay never does: see docs/replay.md). */
  verified: boolean;
}

export interface VoiceRequestRecord {
  /** The endpoint's clock when the request came (the handler's memory expires by it). */
  atMs: number;
  /** The envelope as JSON text, with ids hashed and tokens removed. */
  body: string;
}

/** Ids that say who: kept as a hash, so two requests of one device still name one device. */
const HASHED = new Set(['userId', 'deviceId', 'personId']);
/** Credentials Alexa hands the skill: never kept. */
const SECRET = /^(apiAccessToken|accessToken|consentToken)$/;

/**
 * An Alexa request envelope as JSON text without secrets: `userId`, `deviceId` and `personId` hashed (`h:` +
 * 16 hex), `apiAccessToken`, `accessToken` and `consentToken` replaced by `…`, wherever they sit. Stream
 * tokens (the AudioPlayer's `token`) are the adapter's own and stay. Signatures are headers, which are not
 * kept at all. One `JSON.stringify` pass with a replacer: no redacted copy of the envelope is built.
 */
export function redactedJson(envelope: unknown): string {
  return JSON.stringify(envelope, redact);
}

function redact(key: string, value: unknown): unknown {
  if (HASHED.has(key) && typeof value === 'string') return `h:${hashId(value)}`;
  if (SECRET.test(key)) return '…';
  return value;
}

/** An answer as the log keeps it: its status and the SHA-256 (16 hex) of the body text the server sends. */
export function responseHash(answer: VoiceResponse): [status: number, hash: string] {
  const text = answer.text ?? JSON.stringify(answer.body);
  return [answer.status, hash('sha256', text, 'hex').slice(0, 16)];
}

interface InFlight {
  connectionId: string;
  c: string;
  record: WireRecord;
  principal: string;
  /** Sessions the request called, in order of first call. */
  touched: string[];
  ended: Set<string>;
}

export interface VoiceRecordingOptions {
  service: SessionService;
  /** Writes the records of a request that ended its session (no later entry carries them). */
  trailer?: WireTrailer;
  settings: Omit<VoiceOpened, 'sessionId' | 'principal'>;
  now?: () => number;
  /** Sessions whose records are held (default 10 000); the oldest beyond it are no longer recorded. */
  maxSessions?: number;
}

/**
 * Records a voice endpoint's traffic for exact replay, around the real handler: `service` is the session
 * service to give the handler (it hands each session the records it holds before each call, so they ride on
 * that call's log entry), `wrap(handler)` records each accepted request (redacted) and a hash of its answer.
 * A request belongs to the last session it called (the one the device is on after it), or, when it called
 * none, to the device's latest session; a request that ended that session goes to its log as a final
 * `adapter.wire` entry (`trailer`). Requests refused before they reach a session (a bad signature, another
 * skill) and requests on no known session are not recorded.
 *
 * @example
 * const recording = createVoiceRecording({ service, trailer, settings: { skillId, verified: true } });
 * const handler = recording.wrap(createAlexaHandler({ service: recording.service, ... }));
 */
export function createVoiceRecording(options: VoiceRecordingOptions) {
  const { service, trailer } = options;
  const now = options.now ?? Date.now;
  const maxSessions = options.maxSessions ?? 10_000;
  /** Records waiting for each recorded session's next call. */
  const sessions = new Map<string, WireRecord[]>();
  const latest = new Map<string, string>();
  const inFlight = new Map<string, InFlight[]>();

  const current = (connectionId: string) => inFlight.get(connectionId)?.at(-1);
  const bound = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    while (map.size > maxSessions) map.delete(map.keys().next().value as string);
  };

  const opening = (sessionId: string, req: InFlight): WireRecord => {
    const info: VoiceOpened = { sessionId, principal: req.principal, ...options.settings };
    return [req.c, 'voice', info];
  };

  /** A call on `sessionId`: the request notes it, and the session gets the records it holds. */
  const touch = (sessionId: string, connectionId: string) => {
    const req = current(connectionId);
    if (req && !req.touched.includes(sessionId)) req.touched.push(sessionId);
    if (req && !sessions.has(sessionId)) {
      // A session this process did not start (it restarted, or another node did): recorded from here, after a
      // `voice` record that tells the replay to start a fresh handler, as this process started with one.
      // Not handed over yet: the session is not loaded until this call runs, and would drop it.
      bound(sessions, sessionId, [opening(sessionId, req)]);
      return;
    }
    const pending = sessions.get(sessionId);
    if (pending && pending.length > 0) {
      service.record?.(sessionId, pending);
      sessions.set(sessionId, []);
    }
  };
  const forgetIfGone = (sessionId: string) => (err: unknown) => {
    if (isGone(err)) sessions.delete(sessionId);
    throw err;
  };
  const around =
    <A extends unknown[], R>(call: (sessionId: string, connectionId: string, ...rest: A) => Promise<R>) =>
    (sessionId: string, connectionId: string, ...rest: A): Promise<R> => {
      touch(sessionId, connectionId);
      return call(sessionId, connectionId, ...rest).catch(forgetIfGone(sessionId));
    };

  const recorded: SessionService = {
    ...service,
    async start(request) {
      const opened = await service.start(request);
      const req = current(request.connectionId);
      if (req) {
        req.touched.push(opened.sessionId);
        bound(sessions, opened.sessionId, [opening(opened.sessionId, req)]);
      }
      return opened;
    },
    resume: (request) => service.resume(request),
    more: around((s, c, n: number) => service.more(s, c, n)),
    feedback: around((s, c, fb: Parameters<SessionService['feedback']>[2], o?: { key?: string }) =>
      service.feedback(s, c, fb, o),
    ),
    steer: around((s, c, steer: Parameters<SessionService['steer']>[2], o?: { key?: string }) =>
      service.steer(s, c, steer, o),
    ),
    pause: around((s, c, o?: { key?: string }) => service.pause(s, c, o)),
    play: around((s, c, o?: { key?: string }) => service.play(s, c, o)),
    async end(sessionId, connectionId) {
      touch(sessionId, connectionId);
      await service.end(sessionId, connectionId).catch(forgetIfGone(sessionId));
      current(connectionId)?.ended.add(sessionId);
    },
    disconnected: (sessionId, connectionId) => service.disconnected(sessionId, connectionId),
    subscribe: (sessionId, listener) => service.subscribe(sessionId, listener),
    close: () => service.close(),
  };
  if (service.record) recorded.record = (sessionId, wire) => service.record?.(sessionId, wire);

  /** The request's records go to the session it belongs to; to its log at once if it ended that session. */
  function settle(req: InFlight, answer: VoiceResponse): void {
    for (const id of req.ended) if (id !== req.touched.at(-1)) sessions.delete(id);
    const owner = req.touched.at(-1) ?? latest.get(req.connectionId);
    if (req.touched.length > 0) bound(latest, req.connectionId, req.touched.at(-1)!);
    const pending = owner === undefined ? undefined : sessions.get(owner);
    if (owner === undefined || !pending) return;
    pending.push(req.record, [req.c, 'res', responseHash(answer)]);
    if (req.ended.has(owner)) {
      sessions.delete(owner);
      latest.delete(req.connectionId);
      if (trailer) void trailer(owner, pending).catch(() => {});
    }
  }

  function begin(rawBody: string): InFlight | undefined {
    let envelope: AlexaRequestEnvelope;
    let connectionId: string;
    try {
      envelope = JSON.parse(rawBody);
      connectionId = connectionIdOf(envelope);
    } catch {
      // Not an envelope: the handler refuses it, and nothing reaches a session.
      return undefined;
    }
    const c = `v${hashId(connectionId).slice(0, 8)}`;
    const body = redactedJson(envelope);
    const record: VoiceRequestRecord = { atMs: now(), body };
    return {
      connectionId,
      c,
      record: [c, 'req', record],
      principal: hashId(envelope.context.System.user.userId),
      touched: [],
      ended: new Set(),
    };
  }

  return {
    service: recorded,
    /**
     * Writes the records no later call will carry (the last requests of each live session) as `adapter.wire`
     * entries. Only once the session manager is closed (a shutdown): it must not hold the sessions any more.
     */
    async flush(): Promise<void> {
      const waiting = [...sessions].filter(([, pending]) => pending.length > 0);
      sessions.clear();
      latest.clear();
      if (!trailer) return;
      await Promise.all(
        waiting.map(([id, pending]) => trailer(id, pending, { ended: false }).catch(() => false)),
      );
    },
    wrap(handler: AlexaHandler): AlexaHandler {
      return async (rawBody, headers) => {
        const req = begin(rawBody);
        if (!req) return handler(rawBody, headers);
        const list = inFlight.get(req.connectionId) ?? [];
        list.push(req);
        inFlight.set(req.connectionId, list);
        let answer: VoiceResponse;
        try {
          answer = await handler(rawBody, headers);
        } finally {
          list.splice(list.indexOf(req), 1);
          if (list.length === 0) inFlight.delete(req.connectionId);
        }
        if (answer.status === 200) settle(req, answer);
        return answer;
      };
    },
  };
}
