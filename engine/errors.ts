import { OmakaseError } from '../models/omakaseError.ts';

/**
 * The engine layer's error codes. The key is the code; retired codes are never reused.
 * Add a code here before throwing it.
 */
export const ENGINE_ERRORS = {
  ENGINE_CATALOG_INVALID_ROW: 'A catalog row is malformed or has a field of the wrong type.',
  ENGINE_CATALOG_DUPLICATE_ID: 'Two catalog rows have the same id.',
  ENGINE_CATALOG_EMPTY: 'The catalog has no items.',
  ENGINE_CATALOG_EMBEDDING_DIM: 'Catalog embeddings differ in length, or only some rows have one.',
  ENGINE_CATALOG_UNREADABLE: 'The catalog file cannot be read.',
  ENGINE_SESSIONS_INVALID_ROW: 'A sessions file row is malformed.',
  ENGINE_UNKNOWN_POSITION:
    'Feedback names a position that was never picked in this session (or has left the history window).',
  ENGINE_UNKNOWN_ITEM: 'An item id is not in the catalog.',
  ENGINE_INVALID_REQUEST: 'A request to the engine has an invalid argument (count, steer, intent).',
  ENGINE_INVALID_STATE: 'A session state does not have the shape this engine version expects.',
  ENGINE_SESSIONS_UNREADABLE: 'The sessions file cannot be read.',
  ENGINE_SPLIT_NO_TIME: 'Sessions are to be split by time, but a session has no startMs.',
} as const;

export type EngineErrorCode = keyof typeof ENGINE_ERRORS;

export function engineError(
  code: EngineErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): OmakaseError {
  return new OmakaseError(code, message, options);
}
