import { OmakaseError } from '../../models/omakaseError.ts';

/**
 * The importers' error codes (adapters layer). The key is the code; retired codes are never reused.
 * Add a code here before throwing it.
 */
export const IMPORT_ERRORS = {
  IMPORT_INVALID_LINE:
    'A line of a dataset file does not have the layout its format documents (file and line named).',
  IMPORT_MISSING_FILE:
    'A file the format needs is not in the input directory, or the input path does not exist.',
  IMPORT_INCONSISTENT_FILES: 'Two files of one dataset disagree (e.g. a different number of songs in each).',
  IMPORT_UNKNOWN_FORMAT: 'The --format is not one of the formats the importer knows.',
} as const;

export type ImportErrorCode = keyof typeof IMPORT_ERRORS;

/** Builds an OmakaseError with a code from IMPORT_ERRORS. */
export function importError(
  code: ImportErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): OmakaseError {
  return new OmakaseError(code, message, options);
}

/** IMPORT_INVALID_LINE for line `line` (1-based) of `file`, with both in the message and in `details`. */
export function invalidLine(file: string, line: number, problem: string): OmakaseError {
  return importError(
    'IMPORT_INVALID_LINE',
    `${file}:${line}: ${problem}; fix or remove that line and import again.`,
    {
      details: { file, line },
    },
  );
}
