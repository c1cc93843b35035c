import { RADIO_RULES } from '../config.ts';

/** What the radio rules need to know of a play. */
export interface TimedPlay {
  artist: string;
  album?: string;
  startMs: number;
}

export type RadioRule = 'radio-album-window' | 'radio-album-run' | 'radio-artist-window' | 'radio-artist-run';

/**
 * The rule a candidate would break if it started at `startMs` after `plays` (oldest first, in time order),
 * or undefined if it keeps to the DMCA performance complement. Checking every append against the window
 * ending at it covers every 3-hour period, because plays are appended in time order.
 */
export function radioRuleBroken(
  plays: readonly TimedPlay[],
  candidate: TimedPlay,
  end = plays.length,
): RadioRule | undefined {
  const since = candidate.startMs - RADIO_RULES.windowMs;
  let albumCount = 0;
  let artistCount = 0;
  for (let i = end - 1; i >= 0; i--) {
    const p = plays[i];
    if (p.startMs <= since) break;
    if (p.artist === candidate.artist) artistCount++;
    if (candidate.album !== undefined && p.album === candidate.album && p.artist === candidate.artist)
      albumCount++;
  }
  if (candidate.album !== undefined) {
    if (albumCount >= RADIO_RULES.maxPerAlbum) return 'radio-album-window';
    if (
      runLength(plays, end, (p) => p.album === candidate.album && p.artist === candidate.artist) >=
      RADIO_RULES.maxConsecutivePerAlbum
    )
      return 'radio-album-run';
  }
  if (artistCount >= RADIO_RULES.maxPerArtist) return 'radio-artist-window';
  if (runLength(plays, end, (p) => p.artist === candidate.artist) >= RADIO_RULES.maxConsecutivePerArtist)
    return 'radio-artist-run';
  return undefined;
}

/** Every violation in a whole stream (for tests, evaluation and audits). */
export function radioViolations(plays: readonly TimedPlay[]): { index: number; rule: RadioRule }[] {
  const found: { index: number; rule: RadioRule }[] = [];
  for (let i = 0; i < plays.length; i++) {
    const rule = radioRuleBroken(plays, plays[i], i);
    if (rule) found.push({ index: i, rule });
  }
  return found;
}

function runLength(plays: readonly TimedPlay[], end: number, same: (p: TimedPlay) => boolean): number {
  let n = 0;
  for (let i = end - 1; i >= 0 && same(plays[i]); i--) n++;
  return n;
}
