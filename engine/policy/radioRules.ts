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

/**
 * `radioRuleBroken` for many candidates that would all start at `startMs` after the same `plays`: the window
 * and the trailing runs are counted once, then each candidate costs a few look-ups.
 */
export function radioChecker(
  plays: readonly TimedPlay[],
  startMs: number,
): (artist: string, album: string | undefined) => RadioRule | undefined {
  const since = startMs - RADIO_RULES.windowMs;
  const artistCount = new Map<string, number>();
  /** Plays in the window by album title, then by artist (albums are per artist). */
  const albumCount = new Map<string, Map<string, number>>();
  for (let i = plays.length - 1; i >= 0; i--) {
    const p = plays[i];
    if (p.startMs <= since) break;
    artistCount.set(p.artist, (artistCount.get(p.artist) ?? 0) + 1);
    if (p.album === undefined) continue;
    let byArtist = albumCount.get(p.album);
    if (!byArtist) {
      byArtist = new Map();
      albumCount.set(p.album, byArtist);
    }
    byArtist.set(p.artist, (byArtist.get(p.artist) ?? 0) + 1);
  }
  // Only the last play's artist (and album) can have a run going.
  const last = plays[plays.length - 1];
  const artistRun = last ? runLength(plays, plays.length, (p) => p.artist === last.artist) : 0;
  const albumRun =
    last?.album !== undefined
      ? runLength(plays, plays.length, (p) => p.album === last.album && p.artist === last.artist)
      : 0;
  return (artist, album) => {
    if (album !== undefined) {
      if ((albumCount.get(album)?.get(artist) ?? 0) >= RADIO_RULES.maxPerAlbum) return 'radio-album-window';
      if (album === last?.album && artist === last.artist && albumRun >= RADIO_RULES.maxConsecutivePerAlbum)
        return 'radio-album-run';
    }
    if ((artistCount.get(artist) ?? 0) >= RADIO_RULES.maxPerArtist) return 'radio-artist-window';
    if (artist === last?.artist && artistRun >= RADIO_RULES.maxConsecutivePerArtist)
      return 'radio-artist-run';
    return undefined;
  };
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
