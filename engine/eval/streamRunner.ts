import type { SessionRecommender } from '../baselines/sessionRecommender.ts';
import type { Catalog } from '../catalog.ts';
import type { Engine } from '../engine.ts';
import { radioViolations } from '../policy/radioRules.ts';
import type { ScoredPool } from '../pool.ts';
import type { Profile, SessionState } from '../session.ts';
import { nextPicks } from '../streamCursor.ts';
import type { Listener, Reaction } from './listenerSimulator.ts';
import type { StreamPlay } from './streamMetrics.ts';

/** Something that plays a stream one item at a time and may hear how each went. */
export interface StreamPlayer {
  readonly name: string;
  /** Begins a session after `start` (ids already heard, oldest first). */
  begin(start: readonly string[], seed: number, nowMs: number): void;
  /** The next item, or undefined when the player has nothing left. */
  next(nowMs: number): Promise<{ id: string; startMs: number } | undefined>;
  /** How the last item went. */
  react(reaction: Reaction, nowMs: number): void;
}

export interface SimulatedPlay extends StreamPlay {
  outcome: Reaction['outcome'];
  playedMs: number;
  liked: boolean;
}

export interface SimulatedSession {
  plays: SimulatedPlay[];
  /** Plays before the listener would have quit (the session length when they never did). */
  quitAt: number;
  skips: number;
  likes: number;
}

/** A fixed start of the session timeline (any constant: the engine only compares times). */
export const SIMULATION_EPOCH_MS = 1_700_000_000_000;

/**
 * Drives one session of `length` items. With `closedLoop` the listener reacts (skips, likes) and the player
 * hears it; without, every item plays to the end (the player's own stream, for stream metrics). The
 * session always runs `length` items, so stream rules are judged on long sessions; `quitAt` records
 * where the listener would have left.
 */
export async function runStream(
  player: StreamPlayer,
  listener: Listener,
  options: { catalog: Catalog; length: number; seed: number; closedLoop: boolean },
): Promise<SimulatedSession> {
  const { catalog, length, closedLoop } = options;
  let now: number = SIMULATION_EPOCH_MS;
  // The start plays are placed just before `now`.
  player.begin(listener.start, options.seed, now);
  const heard = new Set(listener.start);
  const plays: SimulatedPlay[] = [];
  let skips = 0;
  let inRow = 0;
  let likes = 0;
  let quitAt = -1;
  for (let step = 0; step < length; step++) {
    const pick = await player.next(now);
    if (!pick) break;
    const item = catalog.get(pick.id);
    const durationMs = item?.durationMs ?? 0;
    const reaction: Reaction = closedLoop
      ? listener.react(pick.id, step, heard.has(pick.id))
      : { outcome: 'completed', playedMs: durationMs, liked: false, affinity: 0 };
    heard.add(pick.id);
    plays.push({
      id: pick.id,
      artist: item?.artist ?? '',
      album: item?.album,
      startMs: pick.startMs,
      outcome: reaction.outcome,
      playedMs: reaction.playedMs,
      liked: reaction.liked,
    });
    if (reaction.outcome === 'skipped') {
      skips++;
      inRow++;
    } else inRow = 0;
    if (reaction.liked) likes++;
    if (quitAt < 0 && closedLoop && listener.quits(inRow, skips)) quitAt = step + 1;
    now = Math.max(now, pick.startMs) + reaction.playedMs;
    player.react(reaction, now);
  }
  return { plays, quitAt: quitAt < 0 ? plays.length : quitAt, skips, likes };
}

/** The simulated-online numbers of a set of closed-loop sessions. */
export interface SimulationSummary {
  simSkipRate: number;
  simLength: number;
  simLikes: number;
  simRepeats: number;
  simViolations: number;
}

export function summariseSimulations(sessions: readonly SimulatedSession[]): SimulationSummary {
  let plays = 0;
  let skips = 0;
  let likes = 0;
  let quit = 0;
  let repeats = 0;
  let violations = 0;
  for (const s of sessions) {
    plays += s.plays.length;
    skips += s.skips;
    likes += s.likes;
    quit += s.quitAt;
    const seen = new Set<string>();
    for (const p of s.plays) {
      if (seen.has(p.id)) repeats++;
      seen.add(p.id);
    }
    violations += radioViolations(s.plays).length;
  }
  const n = sessions.length || 1;
  return {
    simSkipRate: plays > 0 ? skips / plays : 0,
    simLength: quit / n,
    simLikes: likes / n,
    simRepeats: repeats,
    simViolations: violations,
  };
}

/**
 * A baseline as a stream: each next item is its top recommendation after everything played so far,
 * excluding what was played; `fallback` (popularity) fills in when it has nothing to say. Baselines
 * cannot hear feedback, so reactions are ignored.
 */
export function recommenderPlayer(
  recommender: SessionRecommender,
  fallback: SessionRecommender,
): StreamPlayer {
  let played: string[] = [];
  let playedSet = new Set<string>();
  return {
    name: recommender.name,
    begin(start) {
      played = [...start];
      playedSet = new Set(start);
    },
    async next(nowMs) {
      const id =
        recommender.recommend(played, 1, playedSet)[0] ?? fallback.recommend(played, 1, playedSet)[0];
      if (id === undefined) return undefined;
      played.push(id);
      playedSet.add(id);
      return { id, startMs: nowMs };
    },
    react() {},
  };
}

/**
 * The engine as a stream, through its public path only, as a session serves it: `start` (with the first
 * start item as the "more like this" intent), one pick at a time from a scored pool (`nextPicks`: a new
 * decision when the pool is stale or due), and `feedback` for every reaction. The start plays are put in the
 * history as completed plays, as a client reporting them would leave them.
 */
export function enginePlayer(name: string, engine: Engine, profile: Profile): StreamPlayer {
  let state: SessionState | undefined;
  let pool: ScoredPool | null = null;
  let pos = -1;
  return {
    name,
    begin(start, seed, nowMs) {
      const first = start.find((id) => engine.catalog.indexOf(id) !== undefined);
      state = engine.start({ seed, profile, intent: first === undefined ? {} : { itemId: first } });
      state = withPlayed(state, engine.catalog, start, nowMs);
      pool = null;
    },
    async next(nowMs) {
      if (!state) throw new Error('enginePlayer.next before begin');
      const out = await nextPicks(engine, { state, pool }, 1, nowMs);
      ({ state, pool } = out.cursor);
      const pick = out.picks[0];
      if (!pick) return undefined;
      pos = pick.pos;
      state = engine.feedback(state, { type: 'started', pos }, nowMs).state;
      return { id: pick.id, startMs: pick.startMs };
    },
    react(reaction, nowMs) {
      if (!state) return;
      state =
        reaction.outcome === 'completed'
          ? engine.feedback(state, { type: 'completed', pos }, nowMs).state
          : engine.feedback(state, { type: 'skipped', pos, atMs: reaction.playedMs }, nowMs).state;
      if (reaction.liked) state = engine.feedback(state, { type: 'liked', pos }, nowMs).state;
    },
  };
}

/** `state` with `ids` appended as completed plays ending at `nowMs` (a client's report of earlier plays). */
export function withPlayed(
  state: SessionState,
  catalog: Catalog,
  ids: readonly string[],
  nowMs: number,
  historyWindow = 200,
): SessionState {
  const items = ids.map((id) => catalog.get(id)).filter((x) => x !== undefined);
  let clock = nowMs - items.reduce((sum, it) => sum + it.durationMs, 0);
  const entries = items.map((item, i) => {
    const entry = {
      pos: state.nextPos + i,
      id: item.id,
      artist: item.artist,
      album: item.album,
      startMs: clock,
      durationMs: item.durationMs,
      outcome: 'completed' as const,
      started: true,
    };
    clock += item.durationMs;
    return entry;
  });
  const history = [...state.history, ...entries];
  const keep = history.slice(-historyWindow);
  const older = history.slice(0, history.length - keep.length).map((h) => h.id);
  return {
    ...state,
    nextPos: state.nextPos + entries.length,
    history: keep,
    olderIds: [...state.olderIds, ...older],
  };
}
