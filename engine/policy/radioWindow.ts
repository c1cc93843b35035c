import { type Catalog, numberFor } from '../catalog.ts';
import { RADIO_RULES } from '../config.ts';
import type { HistoryEntry } from '../session.ts';
import { type RadioRule, radioRuleBroken, type TimedPlay } from './radioRules.ts';

/**
 * The radio rules' state for one slate, kept up to date as it grows: the plays in the 3-hour window before
 * the next slot counted per artist and per album, and the trailing runs of the last artist and album. A
 * candidate's check is then two array reads. Artists and albums are numbers (the catalog's `artistIds` and
 * `albumIds`; an album is per artist, -1 when an item has none), so a slot costs no string hashing.
 *
 * It gives the same answers as `radioRuleBroken` over the same plays (test/engine/policy/radioWindow.test.ts):
 * the window is the longest run of plays at the end that started after `startMs - 3 h`, and the runs reach
 * back over the whole stream.
 *
 * @example
 * const window = new RadioWindow(artistCount, albumCount, history.length + n);
 * for (const h of history) window.append(artistOf(h), albumOf(h), h.startMs);
 * window.moveTo(nextStartMs);
 * window.broken(catalog.artistIds[i], catalog.albumIds[i]); // undefined when item i may play next
 */
export class RadioWindow {
  private readonly artists: Int32Array;
  private readonly albums: Int32Array;
  private readonly starts: Float64Array;
  private length = 0;
  /** The first play in the window (`moveTo`). */
  private from = 0;
  private readonly artistCount: Int32Array;
  private readonly albumCount: Int32Array;
  private artistRun = 0;
  private albumRun = 0;

  /**
   * `artists` and `albums` bound the numbers `append` and `broken` are given; `capacity` bounds the plays
   * appended. `counts`: zeroed per-artist and per-album arrays at least that long to count in (what `release`
   * gave back from an earlier window), instead of new ones.
   */
  constructor(
    artists: number,
    albums: number,
    capacity: number,
    counts?: { artists: Int32Array; albums: Int32Array },
  ) {
    this.artists = new Int32Array(capacity);
    this.albums = new Int32Array(capacity);
    this.starts = new Float64Array(capacity);
    this.artistCount = counts?.artists ?? new Int32Array(artists);
    this.albumCount = counts?.albums ?? new Int32Array(albums);
  }

  /**
   * The window is done with: its per-artist and per-album counts, zeroed again (only the plays still in the
   * window count), for another window to count in.
   */
  release(): { artists: Int32Array; albums: Int32Array } {
    for (; this.from < this.length; this.from++) {
      this.artistCount[this.artists[this.from]] = 0;
      const album = this.albums[this.from];
      if (album >= 0) this.albumCount[album] = 0;
    }
    return { artists: this.artistCount, albums: this.albumCount };
  }

  /** A play after the others (it counts in the window until a `moveTo` past its start drops it). */
  append(artist: number, album: number, startMs: number): void {
    const last = this.length - 1;
    this.artistRun = last >= 0 && this.artists[last] === artist ? this.artistRun + 1 : 1;
    this.albumRun =
      album >= 0 && last >= 0 && this.albums[last] === album ? this.albumRun + 1 : album >= 0 ? 1 : 0;
    this.artists[this.length] = artist;
    this.albums[this.length] = album;
    this.starts[this.length] = startMs;
    this.length++;
    this.artistCount[artist]++;
    if (album >= 0) this.albumCount[album]++;
  }

  /** Sets the window to the 3 hours before `startMs`, the next play's start (it may only move forward). */
  moveTo(startMs: number): void {
    const since = startMs - RADIO_RULES.windowMs;
    let from = this.length;
    while (from > this.from && this.starts[from - 1] > since) from--;
    for (; this.from < from; this.from++) {
      this.artistCount[this.artists[this.from]]--;
      const album = this.albums[this.from];
      if (album >= 0) this.albumCount[album]--;
    }
  }

  /** The rule an item of `artist` (and `album`, -1 for none) would break as the next play, or undefined. */
  broken(artist: number, album: number): RadioRule | undefined {
    const last = this.length - 1;
    if (album >= 0) {
      if (this.albumCount[album] >= RADIO_RULES.maxPerAlbum) return 'radio-album-window';
      if (last >= 0 && this.albums[last] === album && this.albumRun >= RADIO_RULES.maxConsecutivePerAlbum)
        return 'radio-album-run';
    }
    if (this.artistCount[artist] >= RADIO_RULES.maxPerArtist) return 'radio-artist-window';
    if (last >= 0 && this.artists[last] === artist && this.artistRun >= RADIO_RULES.maxConsecutivePerArtist)
      return 'radio-artist-run';
    return undefined;
  }
}

/**
 * `radioRuleBroken(plays, candidate)` for candidate after candidate while `plays` grows, without reading the
 * whole window again for each: a `RadioWindow` over numbers of its own for the artists and albums (by name;
 * no catalog needed). `plays` must be what was `append`ed, in order. A candidate that starts before one asked
 * about earlier is answered by `radioRuleBroken` itself (the window only moves forward).
 */
export class TimelineRules {
  private readonly window: RadioWindow;
  private readonly artists = new Map<string, number>();
  /** Album numbers by artist, then album: names as they are, no key built per look-up. */
  private readonly albums = new Map<string, Map<string, number>>();
  private albumCount = 0;
  private latest = Number.NEGATIVE_INFINITY;

  /** `capacity` bounds the plays appended and the candidates asked about together. */
  constructor(capacity: number) {
    this.window = new RadioWindow(capacity + 1, capacity + 1, capacity);
  }

  append(play: TimedPlay): void {
    this.window.append(this.artistOf(play), this.albumOf(play), play.startMs);
  }

  broken(plays: readonly TimedPlay[], candidate: TimedPlay): RadioRule | undefined {
    if (candidate.startMs < this.latest) return radioRuleBroken(plays, candidate);
    this.latest = candidate.startMs;
    this.window.moveTo(candidate.startMs);
    return this.window.broken(this.artistOf(candidate), this.albumOf(candidate));
  }

  private artistOf(play: TimedPlay): number {
    return numberFor(this.artists, play.artist);
  }

  /** Albums are per artist, as the rules count them; -1 for none. */
  private albumOf(play: TimedPlay): number {
    if (play.album === undefined) return -1;
    let albums = this.albums.get(play.artist);
    if (!albums) {
      albums = new Map();
      this.albums.set(play.artist, albums);
    }
    let n = albums.get(play.album);
    if (n === undefined) {
      n = this.albumCount++;
      albums.set(play.album, n);
    }
    return n;
  }
}

/**
 * The radio rules' window over the history, ready for the slate's picks: the entries from `from` on (those
 * that can still count, see `radioReach`). A history entry names its artist and album; the catalog's numbers
 * for them are read off its item when it has the same ones (nearly always), else looked up by name. An
 * artist the catalog lacks shares one spare number (no candidate can match it), an album it lacks counts as
 * none.
 */
export function radioWindow(
  catalog: Catalog,
  history: readonly HistoryEntry[],
  from: number,
  indexOfEntry: (h: number) => number,
  picks: number,
): RadioWindow {
  const unknownArtist = catalog.artistCount;
  const counts = spareCounts.get(catalog);
  spareCounts.delete(catalog);
  const window = new RadioWindow(
    catalog.artistCount + 1,
    catalog.albumCount,
    history.length - from + picks,
    counts,
  );
  for (let h = from; h < history.length; h++) {
    const entry = history[h];
    const i = indexOfEntry(h);
    const item = i >= 0 ? catalog.items[i] : undefined;
    const artist =
      item?.artist === entry.artist
        ? catalog.artistIds[i]
        : (catalog.artistNumber(entry.artist) ?? unknownArtist);
    const album =
      entry.album === undefined
        ? -1
        : item?.artist === entry.artist && item.album === entry.album
          ? catalog.albumIds[i]
          : (catalog.albumNumber(entry.artist, entry.album) ?? -1);
    window.append(artist, album, entry.startMs);
  }
  return window;
}

/**
 * Per catalog, zeroed count arrays a released window left (`releaseWindow`): a slate's window counts over
 * every artist and album of the catalog (some 7,000 numbers in the demo), and a new pair per pick was most of
 * the window's cost. A window made while another holds them gets its own.
 */
const spareCounts = new WeakMap<Catalog, { artists: Int32Array; albums: Int32Array }>();

/** The slate is done with `window` (made by `radioWindow` for `catalog`): its counts serve the next one. */
export function releaseWindow(catalog: Catalog, window: RadioWindow): void {
  spareCounts.set(catalog, window.release());
}

/**
 * How many of the history's last entries the radio rules can still see from a slot starting at `startMs`:
 * those in its 3-hour window (the longest run at the end that started after it opened, as `moveTo` reads
 * it), and at least the longest run a rule counts (a run may reach back past the window). A long radio
 * history (the profile keeps three hours of it, up to 500 entries when skips are quick) is not looked up
 * whole for every pick.
 */
export function radioReach(history: readonly HistoryEntry[], startMs: number): number {
  const since = startMs - RADIO_RULES.windowMs;
  let from = history.length;
  while (from > 0 && history[from - 1].startMs > since) from--;
  const runs = Math.max(RADIO_RULES.maxConsecutivePerArtist, RADIO_RULES.maxConsecutivePerAlbum);
  return Math.min(history.length, Math.max(history.length - from, runs));
}
