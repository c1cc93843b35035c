import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeCatalogFile } from '../../engine/catalogFile.ts';
import { writeSessionsFile } from '../../engine/sessionsFile.ts';
import { importError } from './errors.ts';
import type { ImportOptions, ImportResult, ImportStats } from './importResult.ts';
import { importThirtyMusic } from './importThirtyMusic.ts';
import { importYes } from './importYes.ts';

/** The dataset layouts `omakase import --format` knows. */
export const IMPORT_FORMATS = ['yes', '30music'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

const IMPORTERS: Record<ImportFormat, (inPath: string, options: ImportOptions) => Promise<ImportResult>> = {
  yes: importYes,
  '30music': importThirtyMusic,
};

/**
 * Imports a dataset and writes `outDir/catalog.jsonl` and `outDir/sessions.jsonl`. Everything is parsed
 * before anything is written, and both files are written into a staging folder first and then renamed into
 * place, so a failure leaves neither a half file nor a new catalog beside old sessions.
 */
export async function importDataset(
  format: string,
  inPath: string,
  outDir: string,
  options: ImportOptions = {},
): Promise<ImportStats & { catalogPath: string; sessionsPath: string }> {
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) {
    throw importError(
      'IMPORT_UNKNOWN_FORMAT',
      `Unknown format "${format}"; use one of ${IMPORT_FORMATS.join(', ')}.`,
      {
        details: { format },
      },
    );
  }
  const { rows, sessions, stats } = await IMPORTERS[format as ImportFormat](inPath, options);
  await mkdir(outDir, { recursive: true });
  const staging = await mkdtemp(join(outDir, '.import-'));
  const catalogPath = join(outDir, 'catalog.jsonl');
  const sessionsPath = join(outDir, 'sessions.jsonl');
  try {
    options.onProgress?.('writing catalog.jsonl', 0, 1);
    await writeCatalogFile(join(staging, 'catalog.jsonl'), rows);
    options.onProgress?.('writing catalog.jsonl', 1, 1);
    options.onProgress?.('writing sessions.jsonl', 0, 1);
    await writeSessionsFile(join(staging, 'sessions.jsonl'), sessions);
    options.onProgress?.('writing sessions.jsonl', 1, 1);
    await rename(join(staging, 'catalog.jsonl'), catalogPath);
    await rename(join(staging, 'sessions.jsonl'), sessionsPath);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { ...stats, catalogPath, sessionsPath };
}
