import { isOmakaseError } from '../../models/omakaseError.ts';
import { isRetryableSessionCode } from '../../sessions/errors.ts';
import { type ErrorMessage, PROTO_ERRORS, type RequestId } from '../protocol.ts';

/** Layers whose codes are part of the wire contract and pass through unchanged. */
const PASS_THROUGH = /^(SESSION|ENGINE|PROTO)_[A-Z0-9_]+$/;

/**
 * The one mapping from a thrown value to an `error` frame: OmakaseError codes of the session, engine and
 * protocol layers go out as they are; anything else becomes INTERNAL, with no message, stack or cause leaked.
 */
export function toWireError(err: unknown, id?: RequestId): ErrorMessage {
  let code = 'INTERNAL';
  let message = 'internal error; retry, and report it if it persists';
  let retryable: boolean = PROTO_ERRORS.INTERNAL.retryable;
  if (isOmakaseError(err) && PASS_THROUGH.test(err.code)) {
    code = err.code;
    message = err.message;
    const proto = PROTO_ERRORS[code as keyof typeof PROTO_ERRORS];
    // ENGINE_* codes describe the request (unknown item, bad steer): sending it again fails the same way.
    retryable = proto ? proto.retryable : isRetryableSessionCode(code);
  }
  return id === undefined
    ? { type: 'error', code, message, retryable }
    : { type: 'error', id, code, message, retryable };
}

/** Session codes after which the session cannot take any more requests. */
const SESSION_GONE = new Set(['SESSION_NOT_FOUND', 'SESSION_EXPIRED', 'SESSION_ENDED']);

/**
 * The close that follows an error frame with this code, when the session is over for this connection: it
 * belongs to another principal (4403), or, on an open session, it is gone (4000): nothing more can be done on
 * it, so the client is told with a close code it can act on. Undefined when the connection stays.
 */
export function closeAfterError(
  code: string,
  open: boolean,
): { code: 4000 | 4403; reason: string } | undefined {
  if (code === 'SESSION_FORBIDDEN') return { code: 4403, reason: 'session belongs to another principal' };
  if (open && SESSION_GONE.has(code)) return { code: 4000, reason: `session gone: ${code}` };
  return undefined;
}
