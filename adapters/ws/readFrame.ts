import {
  type ClientMessage,
  isParseError,
  type Limits,
  type ParseError,
  parseClientMessage,
} from '../protocol.ts';
import type { WireRecorder } from './wireRecorder.ts';

/**
 * Decodes one inbound frame: a text frame through the protocol's validator, a binary one refused as
 * PROTO_MALFORMED_JSON. Either is recorded for replay (a hello's resume token replaced by `…`).
 */
export function readFrame(
  data: Buffer,
  isBinary: boolean,
  limits: Pick<Limits, 'maxMore'>,
  wire: WireRecorder,
): ClientMessage | ParseError {
  if (isBinary) {
    wire.binary(data.length);
    return { error: { code: 'PROTO_MALFORMED_JSON', message: 'send text frames, not binary' } };
  }
  const text = data.toString('utf8');
  const parsed = parseClientMessage(text, limits);
  wire.inbound(
    text,
    !isParseError(parsed) && parsed.type === 'hello' ? parsed.resume?.resumeToken : undefined,
  );
  return parsed;
}
