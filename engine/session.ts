/**
 * The engine's view of one listening session: plain JSON, bounded, owned by whoever keeps the session
 * (the session machine, the CLI, a replay). Engine functions never mutate it; they return a new one.
 */
export const PROFILES = ['default', 'radio'] as const;
export type Profile = (typeof PROFILES)[number];

/** How the session started: "play music" (`{}`), or seeded by a genre/mood tag, an artist or an item. */
export interface Intent {
  tag?: string;
  artist?: string;
  itemId?: string;
  /** Free text as said ("play some jazz"); resolved to tag/artist by `resolveIntent` when possible. */
  text?: string;
}

/** What happened to a picked item. `skipped` carries how far into the item (ms), which grades it. */
export type Outcome = 'completed' | 'skipped' | 'liked' | 'disliked';

export interface HistoryEntry {
  pos: number;
  id: string;
  artist: string;
  album?: string;
  /** Scheduled start on the session timeline (ms since epoch), used by the radio rules. */
  startMs: number;
  durationMs: number;
  /** True once the client said it started playing; a started item is never withdrawn. */
  started?: boolean;
  /** Undefined while queued or playing. */
  outcome?: Outcome;
  /** For `skipped`: how far in the listener skipped. */
  playedMs?: number;
  liked?: boolean;
  /** The session's signal count when this entry's outcome was last set (see `SessionState.signals`). */
  mark?: number;
}

/** Steering said during the session; each kind replaces an earlier one of the same kind. */
export type Steer =
  | { kind: 'more-like'; itemId: string }
  | { kind: 'less-artist'; artist: string }
  | { kind: 'artist'; artist: string }
  | { kind: 'tag'; tag: string }
  | { kind: 'mood'; tag: string }
  | { kind: 'clear' };

export interface SessionState {
  v: 1;
  /** Session seed; decision k uses a seed derived from (seed, k). */
  seed: number;
  profile: Profile;
  intent: Intent;
  /** Position the next pick will take (0-based). */
  nextPos: number;
  /** Number of decisions (scored candidate pools) made so far. */
  decisions: number;
  /**
   * Outcomes recorded so far (completed, skipped, liked, disliked): a pool remembers the count it was scored
   * at, and what was marked later corrects its scores. Absent in states written before it was kept.
   */
  signals?: number;
  /** Recent picks, oldest first, bounded by the config's history window. */
  history: HistoryEntry[];
  /** Ids picked earlier than `history` still holds, bounded by the freshness window. */
  olderIds: string[];
  /** Active steering, newest last (at most one per kind). */
  steers: { steer: Steer; atPos: number }[];
  /** Artists the listener turned down, and the position until which they stay out. */
  blockedArtists: { artist: string; untilPos: number }[];
  /** Items disliked in this session (never picked again). */
  dislikedIds: string[];
}

/** Listener feedback on an item already picked. */
export type Feedback =
  | { type: 'started'; pos: number }
  | { type: 'completed'; pos: number }
  | { type: 'skipped'; pos: number; atMs: number }
  | { type: 'liked'; pos: number }
  | { type: 'disliked'; pos: number };
