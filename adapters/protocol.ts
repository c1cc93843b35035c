/**
 * The omakase WebSocket protocol: message shapes, error and close codes, limits, and the validator for client
 * messages. Dependency-free on purpose: the browser client imports this same module. docs/protocol.md is the
 * reference; test/adapters/ws/protocolDoc.test.ts keeps the two in step.
 */

/** Bumped on any change a deployed client would notice. A client must send it in `hello`. */
export const PROTOCOL_VERSION = 1;

/** Limits the server enforces by default; the server announces its actual ones in `welcome`. */
export const DEFAULT_LIMITS = {
  /** Largest inbound frame in bytes; a bigger one closes the socket with 1009 (the `ws` library does it). */
  maxPayload: 4096,
  /** Largest `n` in one `more`. */
  maxMore: 50,
  /** Largest outstanding credit (items asked for, not yet sent). */
  maxCredit: 100,
  /** Requests a connection may have waiting or in flight; more are refused with PROTO_TOO_MANY_REQUESTS. */
  maxPending: 32,
  /** Time from connect to a successful `welcome`, in ms. */
  handshakeTimeoutMs: 5000,
} as const;

export interface Limits {
  maxPayload: number;
  maxMore: number;
  maxCredit: number;
  maxPending: number;
  handshakeTimeoutMs: number;
}

/** Default interval of the server's WS ping; also the interval a browser should send an app `ping` at. */
export const DEFAULT_HEARTBEAT_MS = 30_000;

/**
 * Error codes of the protocol layer, sent in `error` frames. The key is the code; retired codes are never
 * reused. `retryable` says whether sending the same request again later can succeed.
 * Codes of other layers (SESSION_*, ENGINE_*) pass through unchanged; anything else is sent as INTERNAL.
 */
export const PROTO_ERRORS = {
  PROTO_MALFORMED_JSON: { description: 'The frame is not valid UTF-8 JSON text.', retryable: false },
  PROTO_INVALID_MESSAGE: {
    description: 'The frame is JSON but not an object with a string `type`.',
    retryable: false,
  },
  PROTO_UNKNOWN_TYPE: {
    description: 'The message `type` is not one the protocol defines.',
    retryable: false,
  },
  PROTO_MISSING_ID: {
    description:
      'The request has no `id` (a non-empty string of at most 64 chars, or a non-negative integer).',
    retryable: false,
  },
  PROTO_INVALID_FIELD: {
    description: 'A field is missing, unknown, or of the wrong type or value.',
    retryable: false,
  },
  PROTO_VERSION_UNSUPPORTED: {
    description: '`hello.protocol` is not the version this server speaks (the socket is closed with 4406).',
    retryable: false,
  },
  PROTO_HELLO_REQUIRED: {
    description:
      'A request came before any `hello` (the socket is closed with 4400), or behind a refused one.',
    retryable: false,
  },
  PROTO_ALREADY_OPEN: {
    description: 'A second `hello` on a connection that already has a session.',
    retryable: false,
  },
  PROTO_MORE_OUT_OF_RANGE: {
    description: '`more.n` is not an integer between 1 and `limits.maxMore`.',
    retryable: false,
  },
  PROTO_CREDIT_EXCEEDED: {
    description:
      'The outstanding credit would exceed `limits.maxCredit`; wait for items before asking for more.',
    retryable: true,
  },
  PROTO_UNKNOWN_SEQ: {
    description: '`feedback.seq` names an item this session never sent.',
    retryable: false,
  },
  PROTO_TOO_MANY_REQUESTS: {
    description: 'More than `limits.maxPending` requests are waiting on this connection; wait for answers.',
    retryable: true,
  },
  PROTO_RATE_LIMITED: {
    description:
      'The connection sent frames faster than the server allows, or its principal started sessions too fast (close 4429 or 1013).',
    retryable: true,
  },
  PROTO_OVERLOADED: {
    description:
      'The server is at a connection or session limit, or overloaded, and takes no new work now (close 1013); retry later or elsewhere.',
    retryable: true,
  },
  PROTO_DRAINING: {
    description:
      'The server is shutting down: the request was not handled; resume on another node and send it again.',
    retryable: true,
  },
  PROTO_UNAUTHENTICATED: {
    description:
      'No valid credentials on the upgrade (API key or JWT) where the server requires them (close 4401).',
    retryable: false,
  },
  PROTO_FORBIDDEN: {
    description: 'The credentials or the page Origin are valid but not allowed here (close 4403).',
    retryable: false,
  },
  INTERNAL: {
    description: 'The server failed in a way it does not explain on the wire; the request may be retried.',
    retryable: true,
  },
} as const satisfies Record<string, { description: string; retryable: boolean }>;

export type ProtoErrorCode = keyof typeof PROTO_ERRORS;

/**
 * Application close codes (4000–4999). Standard codes the server also uses: 1001 (server shutting down or
 * draining: resume elsewhere), 1002 (a WebSocket protocol violation), 1007 (a text frame that is not UTF-8),
 * 1009 (frame larger than `limits.maxPayload`), 1013 (over a limit or overloaded: try again later), and
 * 1006 at the client when the server terminated a peer that did not answer pings.
 */
export const CLOSE_CODES = {
  4000: {
    name: 'SESSION_ENDED',
    description: 'The session ended (asked by `end`, idle, or its grace window ran out); start a new one.',
    retryable: false,
  },
  4400: {
    name: 'BAD_HANDSHAKE',
    description: 'The first message was not a valid `hello`.',
    retryable: false,
  },
  4406: {
    name: 'PROTOCOL_UNSUPPORTED',
    description: '`hello.protocol` is not a version this server speaks.',
    retryable: false,
  },
  4408: {
    name: 'HANDSHAKE_TIMEOUT',
    description:
      'No successful `hello` within `handshakeTimeoutMs` of connecting; reconnect and send it sooner.',
    retryable: true,
  },
  4409: {
    name: 'SESSION_TAKEN_OVER',
    description:
      'A newer connection resumed this session; do not reconnect automatically (it would steal it back).',
    retryable: false,
  },
  4401: {
    name: 'UNAUTHENTICATED',
    description: 'The upgrade carried no valid API key or JWT; get credentials, then connect again.',
    retryable: false,
  },
  4403: {
    name: 'FORBIDDEN',
    description:
      'Not allowed: the page Origin is not on the allow-list, or the session belongs to another principal.',
    retryable: false,
  },
  4410: {
    name: 'RESUME_REFUSED',
    description: 'The resume was refused (unknown session, wrong token, grace expired); start a new session.',
    retryable: false,
  },
  4413: {
    name: 'SLOW_READER',
    description:
      "More than the server's cap of outbound bytes waited for this client to read; read faster, then resume.",
    retryable: true,
  },
  4429: {
    name: 'RATE_LIMITED',
    description: 'The connection sent frames faster than the allowed rate; wait a moment, then resume.',
    retryable: true,
  },
} as const satisfies Record<number, { name: string; description: string; retryable: boolean }>;

export type CloseCode = keyof typeof CLOSE_CODES;

/** Looks a close code up by its name, e.g. `closeCode('SESSION_TAKEN_OVER') === 4409`. */
export function closeCode(name: (typeof CLOSE_CODES)[CloseCode]['name']): CloseCode {
  for (const [code, entry] of Object.entries(CLOSE_CODES))
    if (entry.name === name) return Number(code) as CloseCode;
  throw new Error(`unknown close code name ${name}`);
}

export type RequestId = string | number;

export const FEEDBACK_TYPES = ['started', 'completed', 'skipped', 'liked', 'disliked'] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

export const WIRE_PROFILES = ['default', 'radio'] as const;

/** Same shapes as the engine's Intent and Steer, restated so that this module imports nothing. */
export interface WireIntent {
  tag?: string;
  artist?: string;
  itemId?: string;
  text?: string;
}

export type WireSteer =
  | { kind: 'more-like'; itemId: string }
  | { kind: 'less-artist'; artist: string }
  | { kind: 'artist'; artist: string }
  | { kind: 'tag'; tag: string }
  | { kind: 'mood'; tag: string }
  | { kind: 'clear' };

// ---- client → server ----

export interface HelloMessage {
  type: 'hello';
  id: RequestId;
  protocol: number;
  start?: { intent?: WireIntent; profile?: (typeof WIRE_PROFILES)[number]; seed?: number };
  resume?: { sessionId: string; resumeToken: string; lastSeq: number };
}
export interface MoreMessage {
  type: 'more';
  id: RequestId;
  n: number;
}
export interface FeedbackMessage {
  type: 'feedback';
  id: RequestId;
  seq: number;
  /** What happened (`type` names the message, so the feedback's own type is `kind`). */
  kind: FeedbackType;
  /** Required for `skipped` (how far into the item, ms); not allowed otherwise. */
  atMs?: number;
}
export interface SteerMessage {
  type: 'steer';
  id: RequestId;
  steer: WireSteer;
}
export interface SimpleRequest {
  type: 'pause' | 'play' | 'end' | 'ping';
  id: RequestId;
}

export type ClientMessage = HelloMessage | MoreMessage | FeedbackMessage | SteerMessage | SimpleRequest;

// ---- server → client ----

/** An item as sent to clients: what a player needs, plus why it was picked when the server is asked to. */
export interface WireItem {
  id: string;
  title: string;
  artist: string;
  album?: string;
  durationMs: number;
  startMs: number;
  degraded: boolean;
  reasons?: Record<string, unknown>;
}

export interface WelcomeMessage {
  type: 'welcome';
  id: RequestId;
  protocol: number;
  sessionId: string;
  resumeToken: string;
  status: 'streaming' | 'paused';
  lastSeq: number;
  limits: Limits;
  heartbeatMs: number;
  graceMs: number;
}
export interface ItemMessage {
  type: 'item';
  seq: number;
  item: WireItem;
  /** The `more` whose credit this item used; absent on items re-sent after a resume. */
  re?: RequestId;
}
export interface AckMessage {
  type: 'ack';
  id: RequestId;
}
export interface InvalidatedMessage {
  type: 'invalidated';
  seqs: number[];
  reason: string;
  id?: RequestId;
}
export interface StarvedMessage {
  type: 'starved';
  /** Credit still outstanding; it is served when feedback, steering or a new `more` changes what is allowed. */
  credit: number;
  re?: RequestId;
}
export interface ErrorMessage {
  type: 'error';
  id?: RequestId;
  code: string;
  message: string;
  retryable: boolean;
}
export interface PongMessage {
  type: 'pong';
  id: RequestId;
}
export interface EndedMessage {
  type: 'ended';
  reason: string;
  id?: RequestId;
}

export type ServerMessage =
  | WelcomeMessage
  | ItemMessage
  | AckMessage
  | InvalidatedMessage
  | StarvedMessage
  | ErrorMessage
  | PongMessage
  | EndedMessage;

// ---- validation ----

/** What `parseClientMessage` returns for a bad frame: the code to send, and the request id when one was readable. */
export interface ParseError {
  /** `type` is the frame's own `type` when it was a string (a bad `hello` is told apart from other frames). */
  error: { code: ProtoErrorCode; message: string; id?: RequestId; type?: string };
}

type Obj = Record<string, unknown>;

class Invalid extends Error {
  constructor(
    readonly code: ProtoErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is RequestId =>
  (typeof v === 'string' && v.length > 0 && v.length <= 64) ||
  (Number.isSafeInteger(v) && (v as number) >= 0);

function only(o: Obj, where: string, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw new Invalid('PROTO_INVALID_FIELD', `${where}: unknown field "${key}"`);
  }
}

function str(o: Obj, key: string, where: string, optional = false): string | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) {
    throw new Invalid(
      'PROTO_INVALID_FIELD',
      `${where}.${key} must be a non-empty string of at most 256 chars`,
    );
  }
  return v;
}

function int(
  o: Obj,
  key: string,
  where: string,
  min: number,
  max: number,
  optional = false,
): number | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
    throw new Invalid('PROTO_INVALID_FIELD', `${where}.${key} must be an integer from ${min} to ${max}`);
  }
  return v as number;
}

function obj(o: Obj, key: string, where: string): Obj {
  const v = o[key];
  if (!isObj(v)) throw new Invalid('PROTO_INVALID_FIELD', `${where}.${key} must be an object`);
  return v;
}

function parseHello(m: Obj, id: RequestId): HelloMessage {
  // Any other version is answered PROTO_VERSION_UNSUPPORTED before the rest is read: a newer client's hello
  // may carry fields this version does not know.
  if (typeof m.protocol !== 'number' || !Number.isFinite(m.protocol)) {
    throw new Invalid('PROTO_INVALID_FIELD', 'hello.protocol must be a number (this server speaks 1)');
  }
  if (m.protocol !== PROTOCOL_VERSION) return { type: 'hello', id, protocol: m.protocol };
  only(m, 'hello', ['type', 'id', 'protocol', 'start', 'resume']);
  const protocol = m.protocol;
  if (m.start !== undefined && m.resume !== undefined) {
    throw new Invalid('PROTO_INVALID_FIELD', 'hello: send either start or resume, not both');
  }
  if (m.resume !== undefined) {
    const r = obj(m, 'resume', 'hello');
    only(r, 'hello.resume', ['sessionId', 'resumeToken', 'lastSeq']);
    const resume = {
      sessionId: str(r, 'sessionId', 'hello.resume') as string,
      resumeToken: str(r, 'resumeToken', 'hello.resume') as string,
      lastSeq: int(r, 'lastSeq', 'hello.resume', 0, Number.MAX_SAFE_INTEGER) as number,
    };
    return { type: 'hello', id, protocol, resume };
  }
  const start: NonNullable<HelloMessage['start']> = {};
  if (m.start !== undefined) {
    const s = obj(m, 'start', 'hello');
    only(s, 'hello.start', ['intent', 'profile', 'seed']);
    if (s.intent !== undefined) {
      const i = obj(s, 'intent', 'hello.start');
      only(i, 'hello.start.intent', ['tag', 'artist', 'itemId', 'text']);
      const intent: WireIntent = {};
      for (const key of ['tag', 'artist', 'itemId', 'text'] as const) {
        const v = str(i, key, 'hello.start.intent', true);
        if (v !== undefined) intent[key] = v;
      }
      start.intent = intent;
    }
    if (s.profile !== undefined) {
      if (!WIRE_PROFILES.includes(s.profile as never)) {
        throw new Invalid(
          'PROTO_INVALID_FIELD',
          `hello.start.profile must be one of ${WIRE_PROFILES.join(', ')}`,
        );
      }
      start.profile = s.profile as (typeof WIRE_PROFILES)[number];
    }
    const seed = int(s, 'seed', 'hello.start', 0, 0xffff_ffff, true);
    if (seed !== undefined) start.seed = seed;
  }
  return { type: 'hello', id, protocol, start };
}

function parseSteer(m: Obj, id: RequestId): SteerMessage {
  only(m, 'steer', ['type', 'id', 'steer']);
  const s = obj(m, 'steer', 'steer');
  const field = {
    'more-like': 'itemId',
    'less-artist': 'artist',
    artist: 'artist',
    tag: 'tag',
    mood: 'tag',
    clear: '',
  };
  const kind = s.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(field, kind)) {
    throw new Invalid(
      'PROTO_INVALID_FIELD',
      `steer.steer.kind must be one of ${Object.keys(field).join(', ')}`,
    );
  }
  const key = field[kind as keyof typeof field];
  if (key === '') {
    only(s, 'steer.steer', ['kind']);
    return { type: 'steer', id, steer: { kind: 'clear' } };
  }
  only(s, 'steer.steer', ['kind', key]);
  const value = str(s, key, 'steer.steer') as string;
  return { type: 'steer', id, steer: { kind, [key]: value } as WireSteer };
}

function parseBody(m: Obj, type: string, id: RequestId, limits: Pick<Limits, 'maxMore'>): ClientMessage {
  switch (type) {
    case 'hello':
      return parseHello(m, id);
    case 'more': {
      only(m, 'more', ['type', 'id', 'n']);
      const n = m.n;
      if (typeof n !== 'number') throw new Invalid('PROTO_INVALID_FIELD', 'more.n must be a number');
      if (!Number.isInteger(n) || n < 1 || n > limits.maxMore) {
        throw new Invalid('PROTO_MORE_OUT_OF_RANGE', `more.n must be an integer from 1 to ${limits.maxMore}`);
      }
      return { type: 'more', id, n };
    }
    case 'feedback': {
      only(m, 'feedback', ['type', 'id', 'seq', 'kind', 'atMs']);
      const seq = int(m, 'seq', 'feedback', 1, Number.MAX_SAFE_INTEGER) as number;
      const kind = m.kind;
      if (!FEEDBACK_TYPES.includes(kind as never)) {
        throw new Invalid('PROTO_INVALID_FIELD', `feedback.kind must be one of ${FEEDBACK_TYPES.join(', ')}`);
      }
      if (kind === 'skipped') {
        const atMs = int(m, 'atMs', 'feedback', 0, Number.MAX_SAFE_INTEGER) as number;
        return { type: 'feedback', id, seq, kind, atMs };
      }
      if (m.atMs !== undefined)
        throw new Invalid('PROTO_INVALID_FIELD', 'feedback.atMs is only allowed with skipped');
      return { type: 'feedback', id, seq, kind: kind as FeedbackType };
    }
    case 'steer':
      return parseSteer(m, id);
    case 'pause':
    case 'play':
    case 'end':
    case 'ping':
      only(m, type, ['type', 'id']);
      return { type, id };
    default:
      throw new Invalid('PROTO_UNKNOWN_TYPE', `unknown message type "${type.slice(0, 32)}"`);
  }
}

/**
 * Validates one text frame from a client. Strict: unknown types, unknown fields, wrong field types and a
 * missing `id` are errors, each with its PROTO_* code.
 * @example parseClientMessage('{"type":"more","id":"m1","n":10}') // { type: 'more', id: 'm1', n: 10 }
 */
export function parseClientMessage(
  text: string,
  limits: Pick<Limits, 'maxMore'> = DEFAULT_LIMITS,
): ClientMessage | ParseError {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: { code: 'PROTO_MALFORMED_JSON', message: 'the frame is not valid JSON' } };
  }
  if (!isObj(raw) || typeof raw.type !== 'string') {
    return {
      error: { code: 'PROTO_INVALID_MESSAGE', message: 'a message is a JSON object with a string "type"' },
    };
  }
  const id = isId(raw.id) ? raw.id : undefined;
  try {
    if (id === undefined) {
      const known = ['hello', 'more', 'feedback', 'steer', 'pause', 'play', 'end', 'ping'].includes(raw.type);
      if (!known) throw new Invalid('PROTO_UNKNOWN_TYPE', `unknown message type "${raw.type.slice(0, 32)}"`);
      throw new Invalid(
        'PROTO_MISSING_ID',
        'every request needs an "id": a string (1-64 chars) or an integer ≥ 0',
      );
    }
    return parseBody(raw, raw.type, id, limits);
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    const type = raw.type.slice(0, 32);
    return {
      error:
        id === undefined
          ? { code: err.code, message: err.message, type }
          : { code: err.code, message: err.message, id, type },
    };
  }
}

/** True when `parseClientMessage` refused the frame. */
export function isParseError(result: ClientMessage | ParseError): result is ParseError {
  return 'error' in result;
}
