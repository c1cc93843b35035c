/** Tunables of the engine. Every field has a default; callers override what they need. */
export interface EngineConfig {
  /** Candidates scored per decision (the model sees one batch of this many). */
  candidates: number;
  /**
   * Share of candidates from each retrieval source; the rest comes from the exploration pool. `artist` (off
   * when absent): the unplayed items of the session's last four artists, for listening services.
   */
  quotas: { ann: number; transition: number; intent: number; session: number; artist?: number };
  /** Items of recent history kept in the session state (details: artist, album, outcome). */
  historyWindow: number;
  /** No item repeats within this many picks (history plus older ids). */
  freshnessWindow: number;
  /** Minimum picks between two items of one artist / one album (default profile). */
  artistGap: number;
  albumGap: number;
  /** Picks an artist stays out after a dislike or "less of this artist". */
  blockAfterDislike: number;
  /** Share of picks drawn from the wider eligible set instead of the greedy best. */
  exploration: number;
  /** How many top candidates an exploring pick draws from. */
  explorationTop: number;
  /** MMR trade-off: 1 = score only, 0 = diversity only. */
  mmrLambda: number;
  /** Recent picks the diversity term compares against, across decision boundaries. */
  diversityWindow: number;
  /** Size of the popular/fresh exploration pool. */
  explorePool: number;
  /** Scored candidates a decision keeps for the picks that follow it (best first). */
  poolKeep: number;
  /** Picks taken from one pool before it is due for a refresh (a strong signal makes it due sooner). */
  poolPicks: number;
}

export const DEFAULT_CONFIG: EngineConfig = {
  candidates: 500,
  quotas: { ann: 0.3, transition: 0.2, intent: 0.1, session: 0.25 },
  historyWindow: 100,
  freshnessWindow: 2000,
  artistGap: 4,
  albumGap: 10,
  blockAfterDislike: 12,
  exploration: 0.05,
  explorationTop: 20,
  mmrLambda: 0.75,
  diversityWindow: 8,
  explorePool: 3000,
  poolKeep: 200,
  poolPicks: 10,
};

/** The US DMCA sound recording performance complement (17 U.S.C. §114(j)(13)), per any 3-hour period. */
export const RADIO_RULES = {
  windowMs: 3 * 60 * 60 * 1000,
  maxPerAlbum: 3,
  maxConsecutivePerAlbum: 2,
  maxPerArtist: 4,
  maxConsecutivePerArtist: 3,
} as const;

/**
 * Named engine settings for a kind of service, chosen per deployment (`--preset` of serve, stream and eval);
 * `served` is the defaults above. `listening` is for on-demand listening sessions, where people keep to an
 * artist or an album (on the 30Music validation days, a third to a half of the next items are by an artist
 * among the last four plays; on the Yes radio playlists 2 %): artist and album spacing off, a tenth of the
 * candidates from the last four artists' other items (`quotas.artist`), everything else as served (MMR
 * diversity, exploration, freshness, dislike blocks). The radio profile's DMCA rules still
 * apply in the radio profile, whatever the preset. Chosen on validation sessions: docs/evaluation.md.
 *
 * @example createEngine({ catalog, scorer, config: ENGINE_PRESETS.listening })
 */
export const ENGINE_PRESETS = {
  served: {},
  listening: {
    artistGap: 0,
    albumGap: 0,
    quotas: { ...DEFAULT_CONFIG.quotas, artist: 0.1 },
  },
} as const satisfies Record<string, Partial<EngineConfig>>;

export type EnginePreset = keyof typeof ENGINE_PRESETS;
export const ENGINE_PRESET_NAMES = Object.keys(ENGINE_PRESETS) as EnginePreset[];
