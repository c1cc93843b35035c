import { Catalog } from '../../engine/catalog.ts';
import type { Engine } from '../../engine/engine.ts';
import { engineError } from '../../engine/errors.ts';
import type { Pick } from '../../engine/pick.ts';
import type { HistoryEntry, SessionState } from '../../engine/session.ts';
import { initialState } from '../../engine/sessionUpdate.ts';

/**
 * A tiny deterministic engine for machine tests: walks the catalog from a seed-derived offset, never repeats
 * an item, and on a dislike (or "less-artist") withdraws every queued pick of that artist. It records calls
 * so tests can see what the machine asked.
 */
export function fakeEngine(options: { items?: number; artists?: number } = {}) {
  const size = options.items ?? 60;
  const artists = options.artists ?? 6;
  const catalog = new Catalog(
    Array.from({ length: size }, (_, i) => ({
      id: `t${i}`,
      title: `Track ${i}`,
      artist: `A${i % artists}`,
      tags: ['test'],
      durationMs: 180_000,
      popularity: 1,
    })),
  );
  const calls = { next: 0 };
  let failNext: Error | undefined;
  const withdrawArtist = (
    state: SessionState,
    artist: string,
  ): { state: SessionState; withdrawn: number[] } => {
    const withdrawn = state.history
      .filter((h) => h.artist === artist && !h.started && !h.outcome)
      .map((h) => h.pos);
    return {
      state: { ...state, history: state.history.filter((h) => !withdrawn.includes(h.pos)) },
      withdrawn,
    };
  };
  const record = (state: SessionState, picks: readonly Pick[]): SessionState => {
    const entries: HistoryEntry[] = picks.map((p) => ({
      pos: p.pos,
      id: p.id,
      artist: p.artist,
      startMs: p.startMs,
      durationMs: p.durationMs,
    }));
    return {
      ...state,
      decisions: state.decisions + 1,
      nextPos: state.nextPos + picks.length,
      history: [...state.history, ...entries],
    };
  };
  const engine: Engine = {
    catalog,
    modelId: 'fake',
    start: ({ seed, intent = {}, profile = 'default' }) => {
      if (intent.itemId !== undefined && !catalog.get(intent.itemId)) {
        throw engineError('ENGINE_UNKNOWN_ITEM', `No item ${intent.itemId}.`);
      }
      return initialState(seed, intent, profile);
    },
    async next(state, { n, nowMs }) {
      calls.next++;
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      const used = new Set([...state.history.map((h) => h.id), ...state.olderIds, ...state.dislikedIds]);
      const blocked = new Set(state.blockedArtists.map((b) => b.artist));
      const picks: Pick[] = [];
      const offset = Math.abs(state.seed) % size;
      for (let k = 0; k < size && picks.length < n; k++) {
        const item = catalog.items[(offset + k) % size];
        if (used.has(item.id) || blocked.has(item.artist)) continue;
        const pos = state.nextPos + picks.length;
        picks.push({
          pos,
          id: item.id,
          title: item.title,
          artist: item.artist,
          durationMs: item.durationMs,
          startMs: nowMs,
          score: 1 / (1 + k),
          propensity: 1,
          reasons: {
            source: ['explore'],
            score: 1 / (1 + k),
            rank: k,
            mmr: 0,
            explored: false,
            degraded: false,
            model: 'fake',
            rules: [],
            removed: {},
            candidates: size,
          },
        });
      }
      return { picks, state: record(state, picks) };
    },
    record,
    feedback(state, feedback) {
      const entry = state.history.find((h) => h.pos === feedback.pos);
      if (!entry) throw engineError('ENGINE_UNKNOWN_POSITION', `No pick at position ${feedback.pos}.`);
      const history = state.history.map((h) =>
        h.pos !== feedback.pos
          ? h
          : feedback.type === 'started'
            ? { ...h, started: true }
            : {
                ...h,
                started: true,
                outcome: feedback.type === 'disliked' ? 'disliked' : ('completed' as const),
              },
      ) as HistoryEntry[];
      if (feedback.type !== 'disliked') return { state: { ...state, history }, withdrawn: [] };
      const next = {
        ...state,
        history,
        dislikedIds: [...state.dislikedIds, entry.id],
        blockedArtists: [...state.blockedArtists, { artist: entry.artist, untilPos: state.nextPos + 100 }],
      };
      return withdrawArtist(next, entry.artist);
    },
    steer(state, steer) {
      if (steer.kind !== 'less-artist')
        return { state: { ...state, steers: [{ steer, atPos: state.nextPos }] }, withdrawn: [] };
      const next = {
        ...state,
        blockedArtists: [...state.blockedArtists, { artist: steer.artist, untilPos: state.nextPos + 100 }],
      };
      return withdrawArtist(next, steer.artist);
    },
  };
  return {
    engine,
    calls,
    /** The next `next` call rejects with `err`. */
    failNextWith(err: Error) {
      failNext = err;
    },
  };
}
