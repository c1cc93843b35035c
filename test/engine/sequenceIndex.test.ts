import { describe, expect, it } from 'vitest';
import { assembleFeatures } from '../../engine/features.ts';
import { buildQuery, createDirections } from '../../engine/query.ts';
import { SequenceIndex } from '../../engine/sequenceIndex.ts';
import type { HistoryEntry, Outcome } from '../../engine/session.ts';
import { initialState } from '../../engine/sessionUpdate.ts';
import { FEATURE_COUNT, FEATURE_INDEX } from '../../models/featureSchema.ts';
import { smallCatalog } from './fixtures.ts';

const catalog = smallCatalog({ items: 40, artists: 10 });
const ids = (...n: number[]) => n.map((i) => ({ id: `t${i}` }));

describe('SequenceIndex', () => {
  // Hand-computed below: rules weigh 1/gap (steps 10), scaled by the antecedent's strongest rule.
  const seq = SequenceIndex.fromSessions(catalog, [
    { items: ids(0, 1, 2, 3) },
    { items: ids(0, 1, 2) },
    { items: [...ids(5, 0), { id: 't9', outcome: 'skipped' as Outcome }, ...ids(1)] },
  ]);

  it('weights sequential rules by 1/gap, scaled by the strongest rule of the last play', () => {
    const cols = seq.columns([0], [1, 2, 3, 9]);
    // Session 3: t0 → t1 at gap 1 (the skipped t9 is left out), so t1 = 3, t2 = 1, t3 = 1/3.
    for (const [c, v] of [1, 1 / 3, 1 / 9, 0].entries()) expect(cols.srLast[c]).toBeCloseTo(v, 6);
    expect(Array.from(cols.srPrev)).toEqual([0, 0, 0, 0]);
    expect(Array.from(cols.ctx2)).toEqual([0, 0, 0, 0]);
  });

  it('reads the play before the last, and what followed the last two in that order', () => {
    // After (t0, t1): t2 twice (sessions 1 and 2); total 2, so 2 / (2 + 1).
    const cols = seq.columns([1, 0], [2, 3, 5]);
    expect(cols.ctx2[0]).toBeCloseTo(2 / 3, 6);
    expect(cols.ctx2[1]).toBe(0);
    // From t1: t2 = 1 + 1 = 2, t3 = 1/2 → scaled 1 and 1/4; from t0: t2 = 1/3 of t0's best, t3 = 1/9.
    expect(cols.srLast[0]).toBeCloseTo(1, 6);
    expect(cols.srLast[1]).toBeCloseTo(0.25, 6);
    expect(cols.srPrev[0]).toBeCloseTo(1 / 3, 6);
    // srRecent = last + prev / 2, scaled by the best candidate: t2 = 1 + 1/6 is the best.
    expect(cols.srRecent[0]).toBeCloseTo(1, 6);
    expect(cols.srRecent[1]).toBeCloseTo((0.25 + 1 / 18) / (1 + 1 / 6), 6);
    // The order matters: (t1, t0) never happened.
    expect(Array.from(seq.columns([0, 1], [2]).ctx2)).toEqual([0]);
  });

  it('gives zeros for an empty index or an empty session, and leaves its scratch clean', () => {
    expect(Array.from(SequenceIndex.empty(catalog).columns([0], [1, 2]).srLast)).toEqual([0, 0]);
    expect(Array.from(seq.columns([], [1]).srRecent)).toEqual([0]);
    seq.columns([0, 1], [2]);
    // From t5 (session 3: t5, t0, t1): t0 = 1 is the strongest, t1 = 1/2, t2 never followed it.
    expect(Array.from(seq.columns([5], [1, 2]).srLast)).toEqual([0.5, 0]);
  });
});

describe('the sequence and order features in a row', () => {
  const entry = (i: number, pos: number, outcome: Outcome, playedMs?: number): HistoryEntry => ({
    pos,
    id: `t${i}`,
    artist: catalog.items[i].artist,
    album: catalog.items[i].album,
    startMs: pos * 200_000,
    durationMs: catalog.items[i].durationMs,
    outcome,
    playedMs,
  });
  const seq = SequenceIndex.fromSessions(catalog, [{ items: ids(0, 1, 2) }]);

  it('reads the last plays in order, the artist and album gaps, and the run of early skips', () => {
    // t0, t1 heard; then t13 and t23 skipped early (both of artist 3): they do not count as context.
    const state = {
      ...initialState(1, {}, 'default'),
      nextPos: 4,
      history: [
        entry(0, 0, 'completed'),
        entry(1, 1, 'completed'),
        entry(13, 2, 'skipped', 2_000),
        entry(23, 3, 'skipped', 1_000),
      ],
    };
    const query = buildQuery(state, catalog, createDirections(catalog));
    expect(query.recentPlays).toEqual([1, 0]);
    expect(query.negativeRun).toBe(2);
    // t2 followed (t0, t1); t10 is by t0's artist, on t0's album (heard 2 plays back); t33 by the skipped artist.
    const candidates = { indexes: [2, 10, 33], sources: [1, 1, 1], transition: [0, 0, 0], sknn: [0, 0, 0] };
    const rows = assembleFeatures(catalog, query, candidates, 4, seq);
    const at = (c: number, name: keyof typeof FEATURE_INDEX) => rows[c * FEATURE_COUNT + FEATURE_INDEX[name]];
    expect(at(0, 'ctx2')).toBeCloseTo(1 / 2, 6);
    expect(at(0, 'sr_last')).toBe(1);
    expect(at(1, 'artist_recency')).toBe(1 / 2);
    expect(at(1, 'album_recency')).toBe(1 / 2);
    expect(at(2, 'artist_recency')).toBe(0);
    expect(at(0, 'negative_run')).toBeCloseTo(2 / 3, 6);
    // Without a sequence memory the sequence columns are 0; the order columns stay.
    const bare = assembleFeatures(catalog, query, candidates, 4);
    expect(bare[FEATURE_INDEX.ctx2]).toBe(0);
    expect(bare[FEATURE_COUNT + FEATURE_INDEX.artist_recency]).toBe(1 / 2);
    // The STAN vote is retrieval's (schema 4): read from the candidates, 0 where they carry none.
    expect(at(0, 'stan')).toBe(0);
    const voted = assembleFeatures(
      catalog,
      query,
      { ...candidates, sources: [1, 32, 1], stan: [0.25, 1, 0] },
      4,
      seq,
    );
    expect(voted[FEATURE_INDEX.stan]).toBe(0.25);
    expect(voted[FEATURE_COUNT + FEATURE_INDEX.stan]).toBe(1);
    // Source bit 32, the artist source (quotas.artist), is its own column.
    expect(at(1, 'src_artist')).toBe(0);
    expect(voted[FEATURE_COUNT + FEATURE_INDEX.src_artist]).toBe(1);
    expect(voted[FEATURE_COUNT + FEATURE_INDEX.src_ann]).toBe(0);
    expect(voted[FEATURE_INDEX.ctx2]).toBe(rows[FEATURE_INDEX.ctx2]);
  });
});
