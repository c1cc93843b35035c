import type { Catalog } from '../catalog.ts';
import { radioViolations } from '../policy/radioRules.ts';

/** One play of a generated stream, timed so the radio rules can be checked. */
export interface StreamPlay {
  id: string;
  artist: string;
  album?: string;
  startMs: number;
}

/** What a set of generated streams looks like to a listener, regardless of accuracy. */
export interface StreamMetrics {
  /** Distinct items over all streams / catalog size. */
  coverage: number;
  /** Mean pairwise (1 − cosine) of item embeddings within consecutive windows of `window` plays. */
  ild: number;
  /** Share of plays whose artist is among the previous `artistLookback` plays. */
  artistRepeatRate: number;
  /** Plays of an item already played earlier in the same stream (total over streams). */
  repeats: number;
  /** Plays breaking the DMCA radio rules (total over streams). */
  radioViolations: number;
  /** Plays over all streams. */
  plays: number;
}

export interface StreamMetricOptions {
  window: number;
  artistLookback: number;
}

export const STREAM_METRIC_DEFAULTS: StreamMetricOptions = { window: 10, artistLookback: 3 };

/** Stream metrics over generated streams; items missing from the catalog count for everything but ILD. */
export function streamMetrics(
  streams: readonly (readonly StreamPlay[])[],
  catalog: Catalog,
  options: Partial<StreamMetricOptions> = {},
): StreamMetrics {
  const { window, artistLookback } = { ...STREAM_METRIC_DEFAULTS, ...options };
  const distinct = new Set<string>();
  let plays = 0;
  let repeats = 0;
  let artistRepeats = 0;
  let artistChecked = 0;
  let violations = 0;
  let ildSum = 0;
  let ildWindows = 0;
  for (const stream of streams) {
    const seen = new Set<string>();
    stream.forEach((play, i) => {
      distinct.add(play.id);
      if (seen.has(play.id)) repeats++;
      seen.add(play.id);
      if (i > 0) {
        artistChecked++;
        for (let j = Math.max(0, i - artistLookback); j < i; j++) {
          if (stream[j].artist === play.artist) {
            artistRepeats++;
            break;
          }
        }
      }
    });
    plays += stream.length;
    violations += radioViolations(stream).length;
    for (let start = 0; start + 1 < stream.length; start += window) {
      const d = meanPairwiseDistance(stream.slice(start, start + window), catalog);
      if (d !== undefined) {
        ildSum += d;
        ildWindows++;
      }
    }
  }
  return {
    coverage: catalog.size > 0 ? distinct.size / catalog.size : 0,
    ild: ildWindows > 0 ? ildSum / ildWindows : 0,
    artistRepeatRate: artistChecked > 0 ? artistRepeats / artistChecked : 0,
    repeats,
    radioViolations: violations,
    plays,
  };
}

/** Mean (1 − cosine) over the pairs of a window's catalog items; undefined with fewer than two. */
export function meanPairwiseDistance(plays: readonly StreamPlay[], catalog: Catalog): number | undefined {
  const rows: Float32Array[] = [];
  for (const p of plays) {
    const i = catalog.indexOf(p.id);
    if (i !== undefined) rows.push(catalog.embedding(i));
  }
  if (rows.length < 2) return undefined;
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < rows.length; a++) {
    for (let b = a + 1; b < rows.length; b++) {
      let dot = 0;
      for (let d = 0; d < rows[a].length; d++) dot += rows[a][d] * rows[b][d];
      sum += 1 - dot;
      pairs++;
    }
  }
  return sum / pairs;
}
