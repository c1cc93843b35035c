/**
 * Whole simulated sessions on the demo: synthetic listeners with hidden tastes (the same kind that produced
 * the training sessions, with seeds never used in training) listen to streams from the engine with the
 * trained model, with the fallback scorer, and with the model but no slate policy, plus a random stream.
 * Prints skip rate, early-skip rate, likes, items before quitting, repeats and artist repeats.
 *
 *   npx tsx bench/demoListeners.ts      (LISTENERS=200 STREAM=100 override; ROWS=served,per-pick runs only
 *                                        those rows; POOL_PICKS=20 another refresh interval)
 *
 * LISTENER_SET=validation draws other listeners (seeds from 2,000,000) for choosing a model, so the default
 * set (seeds from 1,000,000), the one reported, stays unseen by the choice. VECTORS=exact retrieves with the
 * exact scan instead of the HNSW index (usearch) the demo's 24,000 items get by default.
 */
import { DEFAULT_MODEL_DIR, loadRuntime } from '../adapters/runtime.ts';
import { createListener } from '../engine/demo/syntheticListener.ts';
import { createEngine, type Engine } from '../engine/engine.ts';
import type { Item } from '../engine/item.ts';
import type { Pick } from '../engine/pick.ts';
import { createVectorIndex } from '../engine/retrieval/vectorIndex.ts';
import { createRng } from '../engine/rng.ts';
import type { Outcome } from '../engine/session.ts';
import { nextPicks, type StreamCursor } from '../engine/streamCursor.ts';
import { createFallbackScorer } from '../models/fallbackScorer.ts';
import { loadModel } from '../models/loadModel.ts';

const LISTENERS = Number(process.env.LISTENERS ?? 200);
const STREAM = Number(process.env.STREAM ?? 100);
const T0 = Date.UTC(2026, 0, 1, 8);

// The demo resources exactly as `npm start` builds them; each variant below swaps the scorer or the policy.
const { catalog, transitions, sessions, sequences } = await loadRuntime();
const LISTENER_SET = process.env.LISTENER_SET ?? 'test';
if (LISTENER_SET !== 'test' && LISTENER_SET !== 'validation')
  throw new Error(`LISTENER_SET must be test or validation, got ${LISTENER_SET}`);
const LISTENER_BASE = LISTENER_SET === 'validation' ? 2_000_000 : 1_000_000;
const VECTORS = process.env.VECTORS ?? 'default';
if (VECTORS !== 'default' && VECTORS !== 'exact' && VECTORS !== 'hnsw')
  throw new Error(`VECTORS must be default, exact or hnsw, got ${VECTORS}`);
const vectors = createVectorIndex(catalog, VECTORS === 'default' ? {} : { force: VECTORS });
const { scorer, card } = await loadModel(process.env.MODEL_DIR ?? DEFAULT_MODEL_DIR);
const resources = { catalog, transitions, sessions, sequences, vectors };

type Next = (recent: { id: string; artist: string; outcome?: Outcome }[]) => Promise<Item | undefined>;

interface Row {
  name: string;
  skipRate: number;
  earlySkipRate: number;
  likes: number;
  dislikes: number;
  lengthBeforeQuit: number;
  repeats: number;
  artistRepeat3: number;
  /** Mean hidden affinity of the items played, and the share above 0.7 (only those can be liked). */
  meanAffinity: number;
  likeableShare: number;
}

async function simulate(
  name: string,
  make: (seed: number) => { next: Next; feedback?: (o: Outcome, playedMs: number) => void },
): Promise<Row> {
  let plays = 0;
  let skips = 0;
  let early = 0;
  let likes = 0;
  let dislikes = 0;
  let length = 0;
  let repeats = 0;
  let artistRepeats = 0;
  let affinitySum = 0;
  let likeable = 0;
  for (let l = 0; l < LISTENERS; l++) {
    // Listener seeds far from the 1..3000 range the training sessions used.
    const seed = LISTENER_BASE + l;
    const listener = createListener(catalog, { seed });
    const rng = createRng(seed ^ 0x5eed);
    const stream = make(seed);
    const recent: { id: string; artist: string; outcome?: Outcome }[] = [];
    const seen = new Set<string>();
    let quitAt = STREAM;
    for (let k = 0; k < STREAM; k++) {
      const item = await stream.next(recent);
      if (!item) break;
      if (seen.has(item.id)) repeats++;
      seen.add(item.id);
      if (recent.slice(-3).some((r) => r.artist === item.artist)) artistRepeats++;
      const reaction = listener.react(item, { recent }, rng);
      const a = listener.affinity(item);
      affinitySum += a;
      if (a > 0.7) likeable++;
      plays++;
      if (reaction.outcome === 'skipped') {
        skips++;
        if (reaction.playedMs < 30_000) early++;
      }
      if (reaction.outcome === 'liked') likes++;
      if (reaction.outcome === 'disliked') dislikes++;
      recent.push({ id: item.id, artist: item.artist, outcome: reaction.outcome });
      stream.feedback?.(reaction.outcome, reaction.playedMs);
      if (quitAt === STREAM && listener.quits({ recent }, rng)) quitAt = k + 1;
    }
    length += quitAt;
  }
  return {
    name,
    skipRate: skips / plays,
    earlySkipRate: early / plays,
    likes: likes / LISTENERS,
    dislikes: dislikes / LISTENERS,
    lengthBeforeQuit: length / LISTENERS,
    repeats,
    artistRepeat3: artistRepeats / plays,
    meanAffinity: affinitySum / plays,
    likeableShare: likeable / plays,
  };
}

/**
 * How a stream reaches the engine:
 * - `served`: as a session serves it now: picks decided at delivery from a scored pool, a new decision when
 *   the pool is due (after 10 picks or a strong signal), landed before the next pick;
 * - `late-refresh`: the same, but a strong signal's refresh lands only after the next pick (the worst case on
 *   a busy server): that pick rests on the feedback correction alone;
 * - `per-pick`: a whole decision (retrieval and the model) for every pick: the upper bound;
 * - `ahead-4`: as sessions were served before picks were decided at delivery: 4 picks decided ahead, a
 *   dislike or an early skip withdrawing only queued picks by the same artist.
 */
type Mode = 'served' | 'late-refresh' | 'per-pick' | 'ahead-4';

/** The engine one pick at a time, told every reaction before the next pick. */
function engineStream(engine: Engine, mode: Mode = 'served') {
  return (seed: number) => {
    let cursor: StreamCursor = { state: engine.start({ seed }), pool: null };
    let queue: Pick[] = [];
    let clock = T0;
    let last: { pos: number; durationMs: number } | undefined;
    const take = async (): Promise<Pick | undefined> => {
      if (mode === 'per-pick') {
        const out = await engine.next(cursor.state, { n: 1, nowMs: clock });
        decisions++;
        cursor = { state: out.state, pool: null };
        return out.picks[0];
      }
      if (mode === 'ahead-4') {
        queue = queue.filter((p) => cursor.state.history.some((h) => h.pos === p.pos));
        if (queue.length === 0) {
          const out = await engine.next(cursor.state, { n: 4, nowMs: clock });
          decisions++;
          cursor = { state: out.state, pool: null };
          queue = out.picks;
        }
        return queue.shift();
      }
      if (mode === 'late-refresh' && cursor.pool && engine.poolNeed(cursor.state, cursor.pool) === 'due') {
        const { pool } = cursor;
        const served = cursor.state.nextPos - pool.fromPos;
        if (served < 10) {
          const out = engine.pick(cursor.state, pool, { n: 1, nowMs: clock });
          if (out.picks.length > 0) {
            cursor = { state: out.state, pool };
            return out.picks[0];
          }
        }
      }
      const out = await nextPicks(engine, cursor, 1, clock);
      decisions += out.decided;
      cursor = out.cursor;
      return out.picks[0];
    };
    return {
      next: async () => {
        const pick = await take();
        last = pick && { pos: pick.pos, durationMs: pick.durationMs };
        return pick && catalog.get(pick.id);
      },
      feedback: (outcome: Outcome, playedMs: number) => {
        if (!last) return;
        clock += outcome === 'skipped' ? playedMs : last.durationMs;
        const fb =
          outcome === 'skipped'
            ? { type: 'skipped' as const, pos: last.pos, atMs: playedMs }
            : { type: outcome, pos: last.pos };
        cursor = { ...cursor, state: engine.feedback(cursor.state, fb, clock).state };
      },
    };
  };
}
let decisions = 0;

// POOL_PICKS=20 tries another refresh interval (picks from one pool before it is due).
const ours = createEngine({
  ...resources,
  scorer,
  config: process.env.POOL_PICKS ? { poolPicks: Number(process.env.POOL_PICKS) } : {},
});
const variants: [string, () => Promise<Row>][] = [
  ['served', () => simulate(`ours (${scorer.id} + policy), as served`, engineStream(ours))],
  [
    'late-refresh',
    () => simulate('ours, refresh after strong feedback lands late', engineStream(ours, 'late-refresh')),
  ],
  ['per-pick', () => simulate('ours, a whole decision per pick', engineStream(ours, 'per-pick'))],
  [
    'ahead-4',
    () => simulate('ours, 4 picks decided ahead (before this design)', engineStream(ours, 'ahead-4')),
  ],
  [
    'ranker',
    () =>
      simulate(
        'ours, ranker only (no policy)',
        engineStream(
          createEngine({
            ...resources,
            scorer,
            config: { mmrLambda: 1, exploration: 0, artistGap: 0, albumGap: 0 },
          }),
        ),
      ),
  ],
  [
    'fallback',
    () =>
      simulate(
        'fallback scorer + policy',
        engineStream(createEngine({ ...resources, scorer: createFallbackScorer() })),
      ),
  ],
  [
    'random',
    () =>
      simulate('random', (seed) => {
        const rng = createRng(seed);
        return { next: async () => catalog.items[rng.int(catalog.size)] };
      }),
  ],
];
// ROWS=served,per-pick runs only those.
const only = process.env.ROWS?.split(',');
const rows: Row[] = [];
let pooledDecisions = 0;
for (const [key, run] of variants) {
  if (only && !only.includes(key)) continue;
  decisions = 0;
  rows.push(await run());
  if (key === 'served') pooledDecisions = decisions;
}

console.log(
  `demo catalog ${catalog.size} items, ${vectors.kind} retrieval; model ${card.name}@${card.version} (val AUC ${card.metrics.valAuc.toFixed(3)}); ${LISTENERS} ${LISTENER_SET} listeners × ${STREAM} items`,
);
console.log(
  `served path: ${pooledDecisions} decisions for ${LISTENERS * STREAM} picks (${(pooledDecisions / (LISTENERS * STREAM)).toFixed(3)} per pick)`,
);
console.log('');
console.log(
  '| stream | skip rate | early skips (<30 s) | likes / listener | dislikes / listener | items before quitting | repeats | same artist within 3 | mean affinity | affinity > 0.7 |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${(r.skipRate * 100).toFixed(1)}% | ${(r.earlySkipRate * 100).toFixed(1)}% | ${r.likes.toFixed(2)} | ${r.dislikes.toFixed(2)} | ${r.lengthBeforeQuit.toFixed(1)} | ${r.repeats} | ${(r.artistRepeat3 * 100).toFixed(1)}% | ${r.meanAffinity.toFixed(3)} | ${(r.likeableShare * 100).toFixed(1)}% |`,
  );
}
console.log(
  JSON.stringify({
    bench: 'demo-listeners',
    listeners: LISTENERS,
    listenerSet: LISTENER_SET,
    vectors: vectors.kind,
    stream: STREAM,
    model: `${card.name}@${card.version}`,
    decisionsPerPick: pooledDecisions / (LISTENERS * STREAM),
    rows,
  }),
);
