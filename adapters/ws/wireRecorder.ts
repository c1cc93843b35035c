import { hash } from 'node:crypto';
import type { WireRecord } from '../../sessions/sessionLog.ts';
import type { Limits } from '../protocol.ts';
import type { WireRefusal } from './refusals.ts';

/**
 * The kinds of the WebSocket adapter's wire records (`[connection, kind, payload]` in the session log):
 * - `open`: the connection took the session: its settings (`WireOpened`), so a replay builds the same one;
 * - `in`: a text frame the client sent, as received (a resume token replaced by `…`);
 * - `bin`: a binary frame (its byte length; the server refuses those whatever they hold);
 * - `out`: a frame the server sent: `[type, hash]`, the first 16 hex digits of its SHA-256 (`frameHash`);
 * - `close`: the client or the network closed the socket, with this code (or the server did, to drain);
 * - `refuse`: the server turned a frame or the connection away for a reason outside the frames (`WireRefusal`).
 */
export const WIRE_KINDS = ['open', 'in', 'bin', 'out', 'close', 'refuse'] as const;
export type WireKind = (typeof WIRE_KINDS)[number];

/** What a connection was when it took its session: enough to build the same one in a replay. */
export interface WireOpened {
  sessionId: string;
  /** SHA-256 of the principal, first 16 hex digits: who it was, without saying who. */
  principal: string;
  limits: Limits;
  heartbeatMs: number;
  chunk: number;
  reasons: boolean;
  /** The session's grace window, as the welcome said it. */
  graceMs: number;
}

/** The connection's settings a replay needs to build the same one. */
export type WireSettings = Pick<WireOpened, 'limits' | 'heartbeatMs' | 'chunk' | 'reasons'>;

/** A welcome's resume token is a secret: frames are hashed, and replayed, with it replaced by `…`. */
const TOKEN = /"resumeToken":"[^"]*"/;
const REDACTED_TOKEN = '"resumeToken":"…"';

/**
 * A frame as the log keeps it: its type and the first 16 hex digits of the SHA-256 of its text (with a
 * welcome's resume token redacted), so the log grows by ~40 bytes a frame, not by the frame.
 *
 * @example frameHash('{"type":"ack","id":3}') // ['ack', '3f1c…']
 */
export function frameHash(frame: string): [type: string, hash: string] {
  if (frame === lastFrame) return [lastHashed[0], lastHashed[1]];
  lastHashed = hashFrame(frame);
  lastFrame = frame;
  return [lastHashed[0], lastHashed[1]];
}

/**
 * The last frame hashed, and its hash: a replay hashes each frame its connection sends to compare it, and
 * the connection's own recorder has just hashed the same string (one SHA-256 a frame instead of two).
 */
let lastFrame: string | undefined;
let lastHashed: [type: string, hash: string] = ['', ''];

function hashFrame(frame: string): [type: string, hash: string] {
  const welcome = frame.startsWith('{"type":"welcome"');
  const text = welcome ? frame.replace(TOKEN, REDACTED_TOKEN) : frame;
  const end = frame.indexOf('"', 9);
  const type = frame.startsWith('{"type":"') && end > 9 ? frame.slice(9, end) : '?';
  return [type, hash('sha256', text, 'hex').slice(0, 16)];
}

/** Hashes a principal (a user or device id): the log says whether two sessions share one, not whose. */
export function hashId(id: string): string {
  return hash('sha256', id, 'hex').slice(0, 16);
}

/**
 * One connection's traffic, kept until the connection next calls the session service (`take`), which
 * writes it with the session's next log entry.
 */
export class WireRecorder {
  private records: WireRecord[] = [];
  private readonly c: string;

  constructor(connectionId: string) {
    this.c = connectionId.slice(0, 8);
  }

  /** The connection took session `sessionId` for `principal` (kept hashed), with these settings. */
  opened(sessionId: string, principal: string, graceMs: number, settings: WireSettings): void {
    const { limits, heartbeatMs, chunk, reasons } = settings;
    const info: WireOpened = {
      sessionId,
      principal: hashId(principal),
      limits,
      heartbeatMs,
      chunk,
      reasons,
      graceMs,
    };
    this.records.push([this.c, 'open', info]);
  }

  /** A text frame from the client; a hello's resume token is replaced before it is kept. */
  inbound(text: string, resumeToken?: string): void {
    this.records.push([this.c, 'in', resumeToken ? text.replace(resumeToken, '…') : text]);
  }

  binary(bytes: number): void {
    this.records.push([this.c, 'bin', bytes]);
  }

  outbound(frame: string): void {
    this.records.push([this.c, 'out', frameHash(frame)]);
  }

  closed(code: number): void {
    this.records.push([this.c, 'close', code]);
  }

  refused(refusal: WireRefusal): void {
    this.records.push([this.c, 'refuse', refusal]);
  }

  /** The records since the last call, or undefined when there are none. */
  take(): WireRecord[] | undefined {
    if (this.records.length === 0) return undefined;
    const out = this.records;
    this.records = [];
    return out;
  }
}
