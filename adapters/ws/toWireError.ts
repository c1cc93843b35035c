import { isOmakaseError } from '../../models/omakaseError.ts';
import { type ErrorMessage, PROTO_ERRORS, type RequestId } from '../protocol.ts';

/** Layers whose codes are part of the wire contract and pass through unchanged. */
const PASS_THROUGH = /^(SESSION|ENGINE|PROTO)_[A-Z0-9_]+$/;

/**
 * SESSION_* / ENGINE_* codes a client may retry as-is. Everything else of those layers is about the request
 * or the session and will fail the same way again.
 */
const RETRYABLE = new Set(['SESSION_BUSY', 'SESSION_STORE_UNAVAILABLE', 'SESSION_CONFLICT']);

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
    retryable = proto ? proto.retryable : RETRYABLE.has(code) || err.details.retryable === true;
  }
  return id === undefined
    ? { type: 'error', code, message, retryable }
    : { type: 'error', id, code, message, retryable };
}
