/**
 * The validator for client messages: one text frame in, a typed `ClientMessage` or the PROTO_* error to send.
 */
import type { ProtoErrorCode } from './errorCodes.ts';
import { DEFAULT_LIMITS, type Limits, PROTOCOL_VERSION } from './limits.ts';
import {
  type ClientMessage,
  FEEDBACK_TYPES,
  type FeedbackType,
  type HelloMessage,
  type RequestId,
  type SteerMessage,
  WIRE_PROFILES,
  type WireIntent,
  type WireSteer,
} from './messages.ts';

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
