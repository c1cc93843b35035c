import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { Catalog } from './catalog.ts';
import { type EngineErrorCode, engineError } from './errors.ts';
import type { CatalogRow } from './item.ts';

/** One thing wrong with one line of a JSONL file; `problem` is a whole sentence naming the field. */
export interface RowProblem {
  line: number;
  field: string;
  problem: string;
}

/** Called while a file is read: bytes consumed so far and the file's size. */
export type ProgressCallback = (bytesRead: number, totalBytes: number) => void;

/** Problems kept in an error's details; later ones are only counted (one bad column can break every row). */
const MAX_PROBLEMS = 20;
const MAX_DURATION_MS = 86_400_000;

/**
 * Validates one parsed catalog line and returns the row in its normal form (tags trimmed, lower-case and
 * de-duplicated; popularity defaulted to 0; unknown fields dropped). Throws ENGINE_CATALOG_INVALID_ROW.
 */
export function parseCatalogRow(value: unknown, line: number, source = 'catalog'): CatalogRow {
  const problems: RowProblem[] = [];
  const row = checkCatalogRow(value, line, problems);
  if (row === undefined) throw problemsError('ENGINE_CATALOG_INVALID_ROW', source, problems, problems.length);
  return row;
}

/** Like `parseCatalogRow` but appends what is wrong to `problems` and returns undefined instead of throwing. */
export function checkCatalogRow(
  value: unknown,
  line: number,
  problems: RowProblem[],
): CatalogRow | undefined {
  const before = problems.length;
  const bad = (field: string, expectation: string, got: unknown) =>
    problems.push({ line, field, problem: `${field} must be ${expectation} (got ${show(got)})` });
  if (value instanceof JsonLineError) {
    problems.push({ line, field: '', problem: `the line is not valid JSON (${value.reason})` });
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ line, field: '', problem: `the line must be a JSON object (got ${show(value)})` });
    return undefined;
  }
  const v = value as Record<string, unknown>;
  if (!isNonBlank(v.id)) bad('id', 'a non-empty string', v.id);
  if (typeof v.title !== 'string') bad('title', 'a string', v.title);
  if (!isNonBlank(v.artist)) bad('artist', 'a non-empty string', v.artist);
  if (v.album != null && typeof v.album !== 'string') bad('album', 'a string when present', v.album);
  let tags: string[] = [];
  if (v.tags != null) {
    if (!Array.isArray(v.tags) || v.tags.some((t) => typeof t !== 'string')) {
      bad('tags', 'an array of strings', v.tags);
    } else {
      tags = normaliseTags(v.tags as string[]);
    }
  }
  const d = v.durationMs;
  if (!Number.isInteger(d) || (d as number) < 1 || (d as number) > MAX_DURATION_MS) {
    bad('durationMs', `a positive integer of at most ${MAX_DURATION_MS} (24 h)`, d);
  }
  const y = v.year;
  if (y != null && (!Number.isInteger(y) || (y as number) < 1800 || (y as number) > 2100)) {
    bad('year', 'an integer from 1800 to 2100 when present', y);
  }
  const p = v.popularity;
  if (p != null && (typeof p !== 'number' || !Number.isFinite(p) || p < 0)) {
    bad('popularity', 'a finite number ≥ 0 when present', p);
  }
  const u = v.streamUrl;
  if (u != null && (typeof u !== 'string' || !URL.canParse(u) || new URL(u).protocol !== 'https:')) {
    bad('streamUrl', 'an absolute https URL when present', u);
  }
  const image = v.imageUrl;
  if (
    image != null &&
    (typeof image !== 'string' ||
      !(image.startsWith('data:image/') || (URL.canParse(image) && new URL(image).protocol === 'https:')))
  ) {
    bad('imageUrl', 'an absolute https URL or a data:image/ URL when present', image);
  }
  const e = v.embedding;
  if (e != null) {
    if (!Array.isArray(e) || e.length === 0 || e.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      bad('embedding', 'a non-empty array of finite numbers when present', e);
    } else if (e.every((x) => x === 0)) {
      bad('embedding', 'a vector with at least one non-zero number', e);
    }
  }
  if (problems.length > before) return undefined;
  const row: CatalogRow = {
    id: v.id as string,
    title: v.title as string,
    artist: v.artist as string,
    tags,
    durationMs: d as number,
    popularity: (p as number | undefined) ?? 0,
  };
  if (v.album != null) row.album = v.album as string;
  if (y != null) row.year = y as number;
  if (u != null) row.streamUrl = u as string;
  if (image != null) row.imageUrl = image as string;
  if (e != null) row.embedding = (e as number[]).slice();
  return row;
}

/** Trimmed, lower-case, de-duplicated, empty ones dropped, first-seen order kept. */
export function normaliseTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim().toLowerCase();
    if (tag !== '' && !out.includes(tag)) out.push(tag);
  }
  return out;
}

/**
 * Reads a JSONL catalog (docs/data-format.md) line by line and builds the `Catalog`. All or nothing: any bad
 * row, duplicate id or embedding mismatch throws an OmakaseError and no catalog is returned.
 */
export async function readCatalogFile(
  path: string,
  options: { onProgress?: ProgressCallback } = {},
): Promise<Catalog> {
  return new Catalog(await readCatalogRows(path, options));
}

/** The validated rows of a catalog file, in file order; same checks and errors as `readCatalogFile`. */
export async function readCatalogRows(
  path: string,
  options: { onProgress?: ProgressCallback } = {},
): Promise<CatalogRow[]> {
  const checker = new CatalogChecker(basename(path));
  await forEachJsonlLine(path, 'ENGINE_CATALOG_UNREADABLE', options.onProgress, (value, line) =>
    checker.add(value, line),
  );
  return checker.finish();
}

/** Writes rows as a JSONL catalog atomically (temp file, then rename); refuses rows that would not load back. */
export async function writeCatalogFile(path: string, rows: readonly CatalogRow[]): Promise<void> {
  const checker = new CatalogChecker(basename(path), 'Nothing was written.');
  for (let i = 0; i < rows.length; i++) checker.add(rows[i], i + 1);
  const valid = checker.finish();
  await writeJsonlAtomically(
    path,
    valid.map((row) => JSON.stringify(orderedRow(row))),
  );
}

/** Fixed key order so files diff well and read naturally. */
function orderedRow(row: CatalogRow): Record<string, unknown> {
  const { id, title, artist, album, tags, durationMs, year, popularity, streamUrl, imageUrl, embedding } =
    row;
  return { id, title, artist, album, tags, durationMs, year, popularity, streamUrl, imageUrl, embedding };
}

/** Accumulates rows and their problems, then answers with the rows or the one error that describes them. */
class CatalogChecker {
  private readonly rows: CatalogRow[] = [];
  private readonly lines: number[] = [];
  private readonly problems = new RowProblems();
  private readonly firstLineOfId = new Map<string, number>();
  private duplicate: { id: string; lines: [number, number] } | undefined;

  constructor(
    private readonly source: string,
    /** Closes every message: what did not happen, so nobody wonders about a partial result. */
    private readonly outcome = 'Nothing was loaded.',
  ) {}

  add(value: unknown, line: number): void {
    const found: RowProblem[] = [];
    const row = checkCatalogRow(value, line, found);
    if (row === undefined) {
      this.problems.add(found);
      return;
    }
    const first = this.firstLineOfId.get(row.id);
    if (first !== undefined) {
      this.duplicate ??= { id: row.id, lines: [first, line] };
      return;
    }
    this.firstLineOfId.set(row.id, line);
    this.rows.push(row);
    this.lines.push(line);
  }

  finish(): CatalogRow[] {
    this.problems.throwIfAny('ENGINE_CATALOG_INVALID_ROW', this.source, this.outcome);
    if (this.duplicate) {
      const { id, lines } = this.duplicate;
      throw engineError(
        'ENGINE_CATALOG_DUPLICATE_ID',
        `${this.source} lines ${lines[0]} and ${lines[1]}: both have id ${show(id)}; ids must be unique, so remove or rename one. ${this.outcome}`,
        { details: { id, lines, line: lines[1] } },
      );
    }
    if (this.rows.length === 0) {
      throw engineError(
        'ENGINE_CATALOG_EMPTY',
        `${this.source} has no rows; a catalog needs at least one item (one JSON object per line).`,
        { details: { source: this.source } },
      );
    }
    this.checkEmbeddings();
    return this.rows;
  }

  private checkEmbeddings(): void {
    const firstWith = this.rows.findIndex((r) => r.embedding !== undefined);
    if (firstWith === -1) return;
    const firstWithout = this.rows.findIndex((r) => r.embedding === undefined);
    if (firstWithout !== -1) {
      const line = this.lines[firstWithout];
      throw engineError(
        'ENGINE_CATALOG_EMBEDDING_DIM',
        `${this.source} line ${line}: this row has no embedding but line ${this.lines[firstWith]} has one; give every row an embedding or none. ${this.outcome}`,
        { details: { line, firstLineWithEmbedding: this.lines[firstWith] } },
      );
    }
    const dim = this.rows[0].embedding!.length;
    const other = this.rows.findIndex((r) => r.embedding!.length !== dim);
    if (other !== -1) {
      const line = this.lines[other];
      const got = this.rows[other].embedding!.length;
      throw engineError(
        'ENGINE_CATALOG_EMBEDDING_DIM',
        `${this.source} line ${line}: embedding has ${got} numbers but line ${this.lines[0]} has ${dim}; all embeddings must have the same length. ${this.outcome}`,
        { details: { line, expected: dim, got } },
      );
    }
  }
}

/** A file's row problems: every one counted, the first `MAX_PROBLEMS` kept for the error's details. */
export class RowProblems {
  private readonly kept: RowProblem[] = [];
  private count = 0;

  add(found: readonly RowProblem[]): void {
    this.count += found.length;
    for (const p of found) if (this.kept.length < MAX_PROBLEMS) this.kept.push(p);
  }

  /** Throws the one error that describes them all, if there are any. */
  throwIfAny(code: EngineErrorCode, source: string, outcome: string): void {
    if (this.count > 0) {
      throw problemsError(code, source, this.kept, this.count, `Fix the rows and try again. ${outcome}`);
    }
  }
}

/** The error for rows that fail validation: names the first problem and how many there are. */
export function problemsError(
  code: EngineErrorCode,
  source: string,
  problems: readonly RowProblem[],
  count: number,
  next = 'Fix the file and load it again. Nothing was loaded.',
) {
  const first = problems[0];
  const more =
    count > 1 ? ` (and ${count - 1} more problem${count > 2 ? 's' : ''}, see details.problems)` : '';
  return engineError(code, `${source} line ${first.line}: ${first.problem}${more}. ${next}`, {
    details: { line: first.line, field: first.field, problem: first.problem, problems, problemCount: count },
  });
}

/**
 * Streams a JSONL file, calling `onRow` with each parsed non-blank line and its 1-based line number. Lines
 * that are not JSON go to `onRow` as a `JsonLineError` so the caller's collector reports them with the rest.
 */
export async function forEachJsonlLine(
  path: string,
  unreadableCode: EngineErrorCode,
  onProgress: ProgressCallback | undefined,
  onRow: (value: unknown, line: number) => void,
): Promise<void> {
  let handle: FileHandle;
  let totalBytes: number;
  try {
    handle = await open(path, 'r');
    totalBytes = (await handle.stat()).size;
  } catch (cause) {
    throw unreadable(unreadableCode, path, cause);
  }
  const stream = handle.createReadStream({ highWaterMark: 1 << 20 });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        value = new JsonLineError((err as Error).message);
      }
      onRow(value, line);
      if (onProgress && line % 2000 === 0) onProgress(stream.bytesRead, totalBytes);
    }
  } catch (cause) {
    throw unreadable(unreadableCode, path, cause);
  } finally {
    lines.close();
    stream.destroy();
  }
  onProgress?.(totalBytes, totalBytes);
}

/** Stands in for a line that JSON.parse rejected; validators turn it into a problem on that line. */
export class JsonLineError {
  constructor(readonly reason: string) {}
}

function unreadable(code: EngineErrorCode, path: string, cause: unknown) {
  const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
  return engineError(code, `Cannot read ${path} (${reason}); check the path and its permissions.`, {
    cause,
    details: { path, reason },
  });
}

let tempCounter = 0;

/** Writes lines to `path` through a temp file in the same folder and a rename, so readers never see half a file. */
export async function writeJsonlAtomically(path: string, lines: readonly string[]): Promise<void> {
  // pid + counter, not random: the engine keeps to seeded randomness, and this is unique enough per process.
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  const handle = await open(temp, 'w');
  try {
    const batch = 2000;
    // An empty file stays empty rather than holding one blank line.
    for (let i = 0; i < lines.length; i += batch) {
      await handle.write(`${lines.slice(i, i + batch).join('\n')}\n`);
    }
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (err) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
}

function isNonBlank(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

/** A short rendering of a bad value for messages: `"abc"`, `-3`, `undefined`, `[1,"x",…]`. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
