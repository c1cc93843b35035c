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
