import { OmakaseError } from '../../models/omakaseError.ts';

/**
 * The voice adapter's error codes. The key is the code; retired codes are never reused. `status` is the HTTP
 * status the endpoint answers with; docs/voice.md lists every code (test/adapters/voice/voiceDoc.test.ts).
 * Session and engine failures are never sent as HTTP errors: Alexa gets a spoken apology or an empty answer.
 */
export const VOICE_ERRORS = {
  VOICE_MALFORMED_JSON: { status: 400, description: 'The request body is not valid UTF-8 JSON text.' },
  VOICE_INVALID_REQUEST: {
    status: 400,
    description:
      'The body is JSON but not an Alexa request envelope (`request.type`, `context.System` with user and application, a `token` on AudioPlayer events).',
  },
  VOICE_WRONG_SKILL: {
    status: 400,
    description: "The request's applicationId is not the skill id this endpoint is configured for.",
  },
  VOICE_SIGNATURE_MISSING: {
    status: 400,
    description: 'The `SignatureCertChainUrl` or `Signature-256` header is missing or empty.',
  },
  VOICE_CERT_URL_INVALID: {
    status: 400,
    description:
      'The certificate URL is not https://s3.amazonaws.com(:443)/echo.api/... once `..` segments are resolved.',
  },
  VOICE_CERT_UNAVAILABLE: {
    status: 400,
    description: 'The signing certificate chain could not be fetched or holds no PEM certificate.',
  },
  VOICE_CERT_INVALID: {
    status: 400,
    description:
      'The signing certificate is out of date, lacks the SAN echo-api.amazon.com, or does not chain to a trusted root.',
  },
  VOICE_SIGNATURE_INVALID: {
    status: 400,
    description: '`Signature-256` is not a valid RSA-SHA256 signature of the raw body by the certificate.',
  },
  VOICE_TIMESTAMP_INVALID: {
    status: 400,
    description: '`request.timestamp` is missing, unreadable, or more than 150 s away from the server clock.',
  },
  VOICE_NOT_FOUND: { status: 404, description: 'Nothing is served at this path; Alexa posts to /alexa.' },
  VOICE_METHOD_NOT_ALLOWED: { status: 405, description: 'The endpoint takes POST only.' },
  VOICE_BODY_TOO_LARGE: {
    status: 413,
    description: 'The request body exceeds the size limit (Alexa requests are a few kB).',
  },
  VOICE_STREAM_URL_INVALID: {
    status: 500,
    description:
      'The configured `streamUrl` returned a URL that is not https; never sent to Alexa, reported to `onError`.',
  },
  VOICE_CONFIG_INVALID: {
    status: 500,
    description:
      'At start-up: the voice settings cannot work (no stream URL for some items, a template that is not https with `{id}`, a trusted-root file without a certificate). Never an HTTP answer.',
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type VoiceErrorCode = keyof typeof VOICE_ERRORS;

/** Builds an OmakaseError with a code from VOICE_ERRORS; `details.status` mirrors the table. */
export function voiceError(
  code: VoiceErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): OmakaseError {
  return new OmakaseError(code, message, {
    cause: options.cause,
    details: { ...options.details, status: VOICE_ERRORS[code].status },
  });
}

/** The JSON body of an HTTP error answer: the code and a message, nothing internal. */
export interface VoiceErrorBody {
  error: { code: string; message: string };
}
