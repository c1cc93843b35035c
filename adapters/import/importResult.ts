import type { CatalogRow } from '../../engine/item.ts';
import type { LoggedSession } from '../../engine/sessionsFile.ts';
import type { OnProgress } from '../cli/progressReporter.ts';

/** Duration given to every item whose dataset has none: 3.5 minutes, a typical radio single. */
export const DEFAULT_DURATION_MS = 210_000;

/** Options shared by the importers. */
export interface ImportOptions {
  onProgress?: OnProgress;
  /** Duration of items whose dataset has none [DEFAULT_DURATION_MS]. */
  defaultDurationMs?: number;
}

/** What an importer returns: catalog rows and sessions ready for the writers, and counts for the summary. */
export interface ImportResult {
  rows: CatalogRow[];
  sessions: LoggedSession[];
  stats: ImportStats;
}

export interface ImportStats {
  items: number;
  sessions: number;
  plays: number;
  /** Catalog items that no imported session plays (yes keeps the dataset's whole song list). */
  unplayedItems: number;
  /** Format-specific counts, documented in docs/datasets.md. */
  notes: Record<string, number>;
}
