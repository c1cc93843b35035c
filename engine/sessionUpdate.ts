import type { Catalog } from './catalog.ts';
import { type EngineConfig, RADIO_RULES } from './config.ts';
import { engineError } from './errors.ts';
import type { Pick } from './pick.ts';
import { TimelineRules } from './policy/radioWindow.ts';
import { nextStart } from './policy/slatePolicy.ts';
import type { Feedback, HistoryEntry, Intent, Profile, SessionState, Steer } from './session.ts';

/** A state change and the queued positions it withdrew (to be replaced, and announced to the client). */
export interface Update {
  state: SessionState;
  withdrawn: number[];
}

/** The state of a session before its first pick (intent already resolved against the catalog). */
export function initialState(seed: number, intent: Intent, profile: Profile): SessionState {
  return {
    v: 1,
    seed: seed | 0,
    profile,
    intent,
    nextPos: 0,
    decisions: 0,
    signals: 0,
    history: [],
    olderIds: [],
    steers: [],
    blockedArtists: [],
    dislikedIds: [],
  };
}

/** Records the picks as queued entries and keeps the history and freshness windows bounded. */
export function appendPicks(state: SessionState, picks: readonly Pick[], config: EngineConfig): SessionState {
  if (picks.length === 0) return state;
  const entries: HistoryEntry[] = picks.map((p) => ({
    pos: p.pos,
    id: p.id,
    artist: p.artist,
    album: p.album,
    startMs: p.startMs,
    durationMs: p.durationMs,
  }));
  return trim(
    {
      ...state,
      nextPos: picks[picks.length - 1].pos + 1,
      history: [...state.history, ...entries],
    },
    config,
  );
}

export function applyFeedback(
  state: SessionState,
  feedback: Feedback,
  config: EngineConfig,
  nowMs: number,
): Update {
  const at = state.history.findIndex((h) => h.pos === feedback.pos);
  if (at < 0) {
    throw engineError(
      'ENGINE_UNKNOWN_POSITION',
      `No pick at position ${feedback.pos} in this session's history.`,
      {
        details: { pos: feedback.pos },
      },
    );
  }
  // Object.assign, not a spread: the switch below adds keys, and on Node 20 adding keys to a spread copy
  // costs microseconds.
  const entry: HistoryEntry = Object.assign({}, state.history[at]);
  let next: SessionState = { ...state };
  switch (feedback.type) {
    case 'started':
      entry.started = true;
      break;
    case 'completed':
      entry.started = true;
      if (entry.outcome !== 'disliked') entry.outcome = entry.liked ? 'liked' : 'completed';
      break;
    case 'skipped':
      entry.started = true;
      entry.outcome = 'skipped';
      entry.playedMs = Math.max(0, Math.min(feedback.atMs, entry.durationMs));
      break;
    case 'liked':
      entry.liked = true;
      if (entry.outcome === undefined || entry.outcome === 'completed') entry.outcome = 'liked';
      next.blockedArtists = state.blockedArtists.filter((b) => b.artist !== entry.artist);
      break;
    case 'disliked':
      entry.outcome = 'disliked';
      entry.liked = false;
      next.dislikedIds = [...state.dislikedIds, entry.id].slice(-config.freshnessWindow);
      break;
  }
  if (feedback.type !== 'started') {
    // Marked, so a pool scored before this outcome knows to correct for it.
    next.signals = (state.signals ?? 0) + 1;
    entry.mark = next.signals;
  }
  const history = state.history.slice();
  history[at] = entry;
  next.history = history;

  // Withdraw queued picks the feedback makes wrong: a dislike rules out the artist for a while; an early
  // skip rules out more of the same artist right now. A skip also moves the timeline earlier.
  let conflicts: (h: HistoryEntry) => boolean = () => false;
  if (feedback.type === 'disliked') {
    next = block(next, entry.artist, config.blockAfterDislike, feedback.pos);
    conflicts = (h) => h.artist === entry.artist;
  } else if (feedback.type === 'skipped' && (entry.playedMs ?? 0) < 30_000) {
    conflicts = (h) => h.artist === entry.artist;
  }
  const update = withdraw(next, feedback.pos, conflicts, config);
  return feedback.type === 'skipped' ? retime(update, nowMs) : update;
}

/**
 * Whether `steer` takes the place of an earlier `old`: one of the same kind always; and a genre (`tag`) or an
 * artist says anew what to play, so it replaces an earlier genre, artist and mood ("play some jazz" after
 * "something calmer" is jazz, not calm jazz). A mood refines what plays ("something calmer" after "play some
 * jazz" is calm jazz; `steerLead` falls back to the mood alone when nothing is both).
 */
export function replaces(steer: Steer, old: Steer): boolean {
  if (old.kind === steer.kind) return true;
  const saysWhat = steer.kind === 'tag' || steer.kind === 'artist';
  return saysWhat && (old.kind === 'tag' || old.kind === 'artist' || old.kind === 'mood');
}

export function applySteer(
  state: SessionState,
  steer: Steer,
  catalog: Catalog,
  config: EngineConfig,
  nowMs: number,
): Update {
  validateSteer(steer, catalog);
  const lastPos = state.history.length > 0 ? state.history[state.history.length - 1].pos : -1;
  let next: SessionState;
  if (steer.kind === 'clear') {
    next = { ...state, steers: [], blockedArtists: [] };
  } else {
    const steers = state.steers
      .filter((s) => !replaces(steer, s.steer))
      .concat({ steer, atPos: state.nextPos });
    next = { ...state, steers };
    if (steer.kind === 'less-artist') next = block(next, steer.artist, config.blockAfterDislike * 4, lastPos);
    // Steering back to an artist lifts a block on it.
    const back =
      steer.kind === 'artist'
        ? steer.artist
        : steer.kind === 'more-like'
          ? catalog.get(steer.itemId)?.artist
          : undefined;
    if (back !== undefined)
      next = { ...next, blockedArtists: next.blockedArtists.filter((b) => b.artist !== back) };
  }
  // The listener asked for something else: every queued pick not yet started gives way.
  const update = withdraw(next, Number.NEGATIVE_INFINITY, () => true, config);
  return retime(update, nowMs);
}

function validateSteer(steer: Steer, catalog: Catalog): void {
  const bad = (what: string) => {
    throw engineError('ENGINE_INVALID_REQUEST', `Cannot steer: ${what}.`, { details: { steer } });
  };
  switch (steer.kind) {
    case 'more-like':
      if (catalog.indexOf(steer.itemId) === undefined) bad(`item "${steer.itemId}" is not in the catalog`);
      break;
    case 'artist':
    case 'less-artist':
      if (catalog.byArtist(steer.artist).length === 0) bad(`artist "${steer.artist}" is not in the catalog`);
      break;
    case 'tag':
    case 'mood':
      if (catalog.byTag(steer.tag).length === 0) bad(`no item has the tag "${steer.tag}"`);
      break;
    case 'clear':
      break;
    default:
      bad('unknown steer kind');
  }
}

function block(state: SessionState, artist: string, picks: number, fromPos: number): SessionState {
  const untilPos = Math.max(state.nextPos, fromPos + 1) + picks;
  const others = state.blockedArtists.filter((b) => b.artist !== artist);
  return { ...state, blockedArtists: [...others, { artist, untilPos }] };
}

/**
 * Removes queued entries after `afterPos` that have not started and match `conflicts`, and hands back their
 * positions. Positions are never reused: replacements take new ones. A withdrawn item stays out of the
 * stream for the freshness window (it joins `olderIds`): the client showed it, and it was withdrawn for a
 * reason, so it must not come back under a new seq.
 */
function withdraw(
  state: SessionState,
  afterPos: number,
  conflicts: (h: HistoryEntry) => boolean,
  config: EngineConfig,
): Update {
  // Most feedback withdraws nothing: the history is copied only when something goes.
  if (!state.history.some((h) => h.pos > afterPos && h.outcome === undefined && !h.started && conflicts(h)))
    return { state, withdrawn: [] };
  const withdrawn: number[] = [];
  const ids: string[] = [];
  const history = state.history.filter((h) => {
    const out = h.pos > afterPos && h.outcome === undefined && !h.started && conflicts(h);
    if (out) {
      withdrawn.push(h.pos);
      ids.push(h.id);
    }
    return !out;
  });
  if (withdrawn.length === 0) return { state, withdrawn };
  const olderIds = appendBounded(state.olderIds, ids, config.freshnessWindow);
  return { state: { ...state, history, olderIds }, withdrawn };
}

/**
 * Re-times queued entries after the timeline changed (a skip, a withdrawal). In the radio profile, a queued
 * entry that now breaks the performance complement is withdrawn too.
 */
function retime(update: Update, nowMs: number): Update {
  const { state } = update;
  const history: HistoryEntry[] = [];
  const withdrawn = update.withdrawn.slice();
  // The plays kept so far are the timeline the rules read.
  const rules = state.profile === 'radio' ? new TimelineRules(state.history.length) : undefined;
  let changed = false;
  for (const h of state.history) {
    let entry = h;
    if (h.outcome === undefined && !h.started) {
      const startMs = nextStart(history, nowMs);
      if (startMs !== h.startMs) {
        entry = { ...h, startMs };
        changed = true;
      }
      if (rules?.broken(history, entry)) {
        withdrawn.push(h.pos);
        changed = true;
        continue;
      }
    }
    history.push(entry);
    rules?.append(entry);
  }
  return changed ? { state: { ...state, history }, withdrawn: withdrawn.sort((a, b) => a - b) } : update;
}

/** Keeps `historyWindow` entries (more in the radio profile, which must see three hours back). */
function trim(state: SessionState, config: EngineConfig): SessionState {
  const { history } = state;
  let keep = config.historyWindow;
  if (state.profile === 'radio' && history.length > keep) {
    const since = history[history.length - 1].startMs - RADIO_RULES.windowMs;
    let k = history.length - keep;
    while (k > 0 && history[k - 1].startMs > since) k--;
    keep = Math.min(history.length - k, config.historyWindow * 5);
  }
  if (history.length <= keep) return state;
  const dropped = history.slice(0, history.length - keep).map((h) => h.id);
  return {
    ...state,
    history: history.slice(history.length - keep),
    olderIds: appendBounded(state.olderIds, dropped, config.freshnessWindow - keep),
    blockedArtists: state.blockedArtists.filter((b) => b.untilPos > state.nextPos),
    steers: state.steers,
  };
}

/**
 * `[...older, ...added].slice(-limit)` in one copy (a long session's `olderIds` holds up to 2,000 ids, and
 * this runs on every pick); with `limit` 0 or less everything is kept, as that slice keeps it.
 */
export function appendBounded(older: readonly string[], added: readonly string[], limit: number): string[] {
  if (limit <= 0) return [...older, ...added];
  const from = Math.max(0, older.length + added.length - limit);
  const out = older.slice(Math.min(from, older.length));
  for (let i = Math.max(0, from - older.length); i < added.length; i++) out.push(added[i]);
  return out;
}
