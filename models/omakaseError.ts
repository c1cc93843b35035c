/**
 * The one error class every layer throws. `code` is stable (a layer prefix and SCREAMING_SNAKE, e.g.
 * `MODEL_SCHEMA_MISMATCH`); each layer keeps the table of its codes in its own `errors.ts`.
 */
export class OmakaseError extends Error {
  readonly code: string;
  /** Structured facts about the failure (row number, field, expected shape...), safe to log. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OmakaseError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isOmakaseError(err: unknown, code?: string): err is OmakaseError {
  return err instanceof OmakaseError && (code === undefined || err.code === code);
}
