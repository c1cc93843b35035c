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
