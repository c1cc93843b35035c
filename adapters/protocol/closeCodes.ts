/**
 * Application close codes (4000–4999). Standard codes the server also uses: 1001 (server shutting down or
 * draining: resume elsewhere), 1002 (a WebSocket protocol violation), 1007 (a text frame that is not UTF-8),
 * 1009 (frame larger than `limits.maxPayload`), 1013 (over a limit or overloaded: try again later), and
 * 1006 at the client when the server terminated a peer that did not answer pings.
 */
export const CLOSE_CODES = {
  4000: {
    name: 'SESSION_ENDED',
    description: 'The session ended (asked by `end`, idle, or its grace window ran out); start a new one.',
    retryable: false,
  },
  4400: {
    name: 'BAD_HANDSHAKE',
    description: 'The first message was not a valid `hello`.',
    retryable: false,
  },
  4406: {
    name: 'PROTOCOL_UNSUPPORTED',
    description: '`hello.protocol` is not a version this server speaks.',
    retryable: false,
  },
  4408: {
    name: 'HANDSHAKE_TIMEOUT',
    description:
      'No successful `hello` within `handshakeTimeoutMs` of connecting; reconnect and send it sooner.',
    retryable: true,
  },
  4409: {
    name: 'SESSION_TAKEN_OVER',
    description:
      'A newer connection resumed this session; do not reconnect automatically (it would steal it back).',
    retryable: false,
  },
  4401: {
    name: 'UNAUTHENTICATED',
    description: 'The upgrade carried no valid API key or JWT; get credentials, then connect again.',
    retryable: false,
  },
  4403: {
    name: 'FORBIDDEN',
    description:
      'Not allowed: the page Origin is not on the allow-list, or the session belongs to another principal.',
    retryable: false,
  },
  4410: {
    name: 'RESUME_REFUSED',
    description: 'The resume was refused (unknown session, wrong token, grace expired); start a new session.',
    retryable: false,
  },
  4413: {
    name: 'SLOW_READER',
    description:
      "More than the server's cap of outbound bytes waited for this client to read; read faster, then resume.",
    retryable: true,
  },
  4429: {
    name: 'RATE_LIMITED',
    description: 'The connection sent frames faster than the allowed rate; wait a moment, then resume.',
    retryable: true,
  },
} as const satisfies Record<number, { name: string; description: string; retryable: boolean }>;

export type CloseCode = keyof typeof CLOSE_CODES;

/** Looks a close code up by its name, e.g. `closeCode('SESSION_TAKEN_OVER') === 4409`. */
export function closeCode(name: (typeof CLOSE_CODES)[CloseCode]['name']): CloseCode {
  for (const [code, entry] of Object.entries(CLOSE_CODES))
    if (entry.name === name) return Number(code) as CloseCode;
  throw new Error(`unknown close code name ${name}`);
}
