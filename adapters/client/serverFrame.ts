import type { RequestId, ServerMessage } from '../protocol.ts';

/** What `decodeServerFrame` returns for a frame it cannot read: the reason, in a sentence. */
export interface FrameProblem {
  problem: string;
  /** The frame is well formed but of a type this client does not know (a newer server may send it). */
  unknownType?: boolean;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is RequestId => typeof v === 'string' || Number.isSafeInteger(v);
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The fields each server message must carry, and the check for each (extra fields are allowed: they may be new). */
const SHAPES: Record<ServerMessage['type'], Record<string, (v: unknown) => boolean>> = {
  welcome: {
    id: isId,
    protocol: Number.isSafeInteger,
    sessionId: (v) => typeof v === 'string',
    resumeToken: (v) => typeof v === 'string',
    status: (v) => v === 'streaming' || v === 'paused',
    lastSeq: isSeq,
    limits: isObj,
    heartbeatMs: isSeq,
    graceMs: isSeq,
  },
  item: {
    seq: isSeq,
    item: (v) =>
      isObj(v) &&
      typeof v.id === 'string' &&
      typeof v.title === 'string' &&
      typeof v.artist === 'string' &&
      typeof v.durationMs === 'number',
  },
  ack: { id: isId },
  invalidated: { seqs: (v) => Array.isArray(v) && v.every(isSeq), reason: (v) => typeof v === 'string' },
  starved: { credit: isSeq },
  error: {
    code: (v) => typeof v === 'string',
    message: (v) => typeof v === 'string',
    retryable: (v) => typeof v === 'boolean',
  },
  pong: { id: isId },
  ended: { reason: (v) => typeof v === 'string' },
};

/**
 * Reads one text frame from the server: a typed message, or the problem with it. Tolerant of fields it does
 * not know (a newer server may add some), strict about the ones a client relies on.
 * @example decodeServerFrame('{"type":"ack","id":"f1"}') // { type: 'ack', id: 'f1' }
 */
export function decodeServerFrame(text: string): ServerMessage | FrameProblem {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { problem: 'the frame is not valid JSON' };
  }
  if (!isObj(raw) || typeof raw.type !== 'string') return { problem: 'the frame has no string "type"' };
  if (!Object.hasOwn(SHAPES, raw.type)) {
    return { problem: `unknown message type "${raw.type.slice(0, 32)}"`, unknownType: true };
  }
  const shape = SHAPES[raw.type as ServerMessage['type']];
  for (const [field, check] of Object.entries(shape)) {
    if (!check(raw[field])) return { problem: `${raw.type}.${field} is missing or of the wrong type` };
  }
  return raw as unknown as ServerMessage;
}

/** True when `decodeServerFrame` could not read the frame. */
export function isFrameProblem(result: ServerMessage | FrameProblem): result is FrameProblem {
  return 'problem' in result;
}
