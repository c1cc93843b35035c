import type { RequestId } from '../protocol.ts';

/**
 * Errors the client library raises itself; the server's codes (PROTO_*, SESSION_*, ENGINE_*, INTERNAL) reach
 * the application unchanged. The key is the code; retired codes are never reused.
 */
export const CLIENT_ERRORS = {
  CLIENT_BAD_FRAME: {
    description:
      'The server sent a frame the client cannot read (not JSON, or a known type missing a field).',
    retryable: false,
  },
  CLIENT_CLOSED: {
    description: 'The client was closed (or its session ended) before the request was answered.',
    retryable: false,
  },
  CLIENT_NOT_CONNECTED: {
    description: 'The call needs an open connection (e.g. `ping()` while reconnecting); try again once open.',
    retryable: true,
  },
  CLIENT_GRACE_EXPIRED: {
    description: "The server could not be reached within the session's grace window; start a new session.",
    retryable: false,
  },
  CLIENT_PONG_TIMEOUT: {
    description: 'No `pong` came back in time: the connection is taken as dead, and the client resumes.',
    retryable: true,
  },
} as const satisfies Record<string, { description: string; retryable: boolean }>;

export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

/** An error with the stable code of the layer that raised it, as the server sent it or as the client saw it. */
export class OmakaseClientError extends Error {
  override readonly name = 'OmakaseClientError';
  constructor(
    /** A CLIENT_* code, or the server's code (PROTO_*, SESSION_*, ENGINE_*, INTERNAL). */
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    /** The request the error answers, when it answers one. */
    readonly id?: RequestId,
  ) {
    super(message);
  }
}

export function clientError(code: ClientErrorCode, message: string, id?: RequestId): OmakaseClientError {
  return new OmakaseClientError(code, message, CLIENT_ERRORS[code].retryable, id);
}
