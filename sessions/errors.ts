import { OmakaseError } from '../models/omakaseError.ts';

/**
 * The session layer's error codes. The key is the code; retired codes are never reused.
 * `retryable` says whether the same call may succeed if the client simply tries again (after reconnecting
 * or a short wait); the protocol layer forwards it so clients need no table of their own.
 */
export const SESSION_ERRORS = {
  SESSION_NOT_FOUND: {
    retryable: false,
    description: 'No session has this id (never started, or its record expired): start a new session.',
  },
  SESSION_TAKEN_OVER: {
    retryable: false,
    description: 'Another connection resumed this session; this connection no longer owns it.',
  },
  SESSION_INVALID_EVENT: {
    retryable: false,
    description:
      'The request does not fit the session state (e.g. play while streaming, more while disconnected).',
  },
  SESSION_BAD_RESUME_TOKEN: {
    retryable: false,
    description:
      'The resume token does not match the latest one issued for this session; nothing was changed.',
  },
  SESSION_EXPIRED: {
    retryable: false,
    description:
      'The session ended on its own (grace window after a disconnect, or idle timeout): start a new one.',
  },
  SESSION_UNKNOWN_SEQ: {
    retryable: false,
    description:
      'Feedback names a seq never delivered, withdrawn, or older than the kept window; nothing changed.',
  },
  SESSION_INVALID_REQUEST: {
    retryable: false,
    description: 'A request argument is invalid (count out of range, malformed steer, bad lastSeq).',
  },
  SESSION_STORE_CONFLICT: {
    retryable: true,
    description:
      'Another node wrote the session at the same time; the call had no effect and may be retried.',
  },
  SESSION_STORE_UNAVAILABLE: {
    retryable: true,
    description: 'The session store (Redis) cannot be reached or failed; the call may be retried shortly.',
  },
  SESSION_ENDED: {
    retryable: false,
    description: 'The session has ended (the listener ended it); start a new session.',
  },
  SESSION_FORBIDDEN: {
    retryable: false,
    description:
      'The session belongs to another principal (authenticated user or key); nothing was read or changed.',
  },
  SESSION_ENGINE_FAILED: {
    retryable: true,
    description: 'The engine failed while picking items; the session is intact and the call may be retried.',
  },
} as const satisfies Record<string, { retryable: boolean; description: string }>;

export type SessionErrorCode = keyof typeof SESSION_ERRORS;

/** Builds an OmakaseError with a code from SESSION_ERRORS; `details.retryable` mirrors the table. */
export function sessionError(
  code: SessionErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): OmakaseError {
  return new OmakaseError(code, message, {
    cause: options.cause,
    details: { ...options.details, retryable: SESSION_ERRORS[code].retryable },
  });
}

/** True when `code` is a session code marked retryable. */
export function isRetryableSessionCode(code: string): boolean {
  return code in SESSION_ERRORS && SESSION_ERRORS[code as SessionErrorCode].retryable;
}
