import { readFile } from 'node:fs/promises';
import { importError } from './errors.ts';

/**
 * The lines of a dataset file (CRLF or LF), without the empty string a final newline leaves; line k of the
 * file is element k - 1. A missing file is IMPORT_MISSING_FILE naming the path.
 */
export async function readLines(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw importError(
      'IMPORT_MISSING_FILE',
      code === 'ENOENT'
        ? `${path} does not exist; check --in and the dataset layout.`
        : `Cannot read ${path} (${code}).`,
      { cause: err, details: { path } },
    );
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  return lines;
}
