/**
 * The engine's costs on a generated 100,000-item catalog with an HNSW index and the shipped model:
 * 1. a decision (`engine.score`: query, retrieval, features, one ONNX call, the pool kept) at 500 and 2,000
 *    candidates, p50/p99 over 2,000+ decisions each, beside the bare ONNX call on a batch of the same size;
 * 2. a pick right after a feedback (`engine.pick`, n = 1, with the feedback correction), p50/p99;
 * 3. one 5,000-pick session served as a session serves it (`nextPicks`, feedback on every pick): the cost
 *    per pick (decisions included) for each 1,000 picks, to show it is flat in the session's age.
 * Last line: one JSON object.
 *
 *   npm run bench            (BENCH_ITEMS, BENCH_DECISIONS, BENCH_LONG override the sizes; MODEL_DIR another
 *                             model directory than the shipped one, e.g. an ensemble)
 */
import { cpus } from 'node:os';
import { DEFAULT_MODEL_DIR } from '../adapters/runtime.ts';
import { Catalog } from '../engine/catalog.ts';
import { generateDemoCatalog } from '../engine/demo/demoCatalog.ts';
import { generateDemoSessions } from '../engine/demo/demoSessions.ts';
import { createEngine } from '../engine/engine.ts';
import { SessionKnnIndex } from '../engine/retrieval/sessionKnnIndex.ts';
import { TransitionIndex } from '../engine/retrieval/transitionIndex.ts';
import { createVectorIndex } from '../engine/retrieval/vectorIndex.ts';
import { createRng } from '../engine/rng.ts';
import { SequenceIndex } from '../engine/sequenceIndex.ts';
import type { SessionState } from '../engine/session.ts';
import { nextPicks, type StreamCursor } from '../engine/streamCursor.ts';
import { FEATURE_COUNT } from '../models/featureSchema.ts';
import { loadModel } from '../models/loadModel.ts';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 100_000);
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 2_000);
const LONG = Number(process.env.BENCH_LONG ?? 5_000);
const SESSIONS = 100;
const T0 = Date.UTC(2026, 0, 1, 8);

const log = (m: string) => process.stdout.write(`${m}\n`);
const quantile = (xs: number[], q: number) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

let t = performance.now();
const catalog = new Catalog(generateDemoCatalog({ seed: 1, tracks: ITEMS }));
log(
  `catalog: ${catalog.size} items, ${[...catalog.artists()].length} artists (${((performance.now() - t) / 1000).toFixed(1)} s)`,
);
t = performance.now();
const vectors = createVectorIndex(catalog);
log(`vector index: ${vectors.kind} (${((performance.now() - t) / 1000).toFixed(1)} s to build)`);
t = performance.now();
const logged = generateDemoSessions(catalog, { seed: 1, sessions: 3000 });
const transitions = TransitionIndex.fromSessions(catalog, logged);
const sessions = SessionKnnIndex.fromSessions(catalog, logged);
const sequences = SequenceIndex.fromSessions(catalog, logged);
log(
  `transition memory ${transitions.edgeCount} edges, session-kNN over ${logged.length} sessions (${((performance.now() - t) / 1000).toFixed(1)} s)`,
);
const { scorer, card } = await loadModel(process.env.MODEL_DIR ?? DEFAULT_MODEL_DIR);
log(
  `model: ${scorer.id} (${card.sha256.slice(0, 12)}), ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}`,
);

async function measure(candidates: number) {
  const engine = createEngine({
    catalog,
    scorer,
    transitions,
    sessions,
    sequences,
    vectors,
    config: { candidates },
  });
  const rng = createRng(candidates);
  // Sessions with some history, so the query, exclusions and diversity have real work to do.
  const states: SessionState[] = [];
  const clocks: number[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    let state = engine.start({ seed: s });
    let clock = T0;
    for (let k = 0; k < 3; k++) {
      const out = await engine.next(state, { n: 10, nowMs: clock });
      state = out.state;
      for (const p of out.picks) {
        const skip = rng.next() < 0.3;
        clock += skip ? 8_000 : p.durationMs;
        const fb = skip
          ? { type: 'skipped' as const, pos: p.pos, atMs: 8_000 }
          : { type: 'completed' as const, pos: p.pos };
        if (state.history.some((h) => h.pos === p.pos)) state = engine.feedback(state, fb, clock).state;
      }
    }
    states.push(state);
    clocks.push(clock);
  }
  const times: number[] = [];
  const pickTimes: number[] = [];
  let scored = 0;
  for (let d = 0; d < DECISIONS; d++) {
    const s = d % SESSIONS;
    const start = performance.now();
    const decided = await engine.score(states[s], { nowMs: clocks[s] });
    times.push((performance.now() - start) * 1000);
    scored = decided.pool.candidates;
    // Keep the session moving: each pick follows a feedback on the one before (a skip now and then), as a
    // listener's would; the pick is timed.
    let state = decided.state;
    for (let k = 0; k < 10; k++) {
      const t0 = performance.now();
      const out = engine.pick(state, decided.pool, { n: 1, nowMs: clocks[s] });
      pickTimes.push((performance.now() - t0) * 1000);
      const p = out.picks[0];
      if (!p) break;
      const skip = rng.next() < 0.2;
      clocks[s] += skip ? 8_000 : p.durationMs;
      const fb = skip
        ? { type: 'skipped' as const, pos: p.pos, atMs: 8_000 }
        : { type: 'completed' as const, pos: p.pos };
      state = engine.feedback(out.state, fb, clocks[s]).state;
    }
    states[s] = state;
  }
  // The bare model call on a batch of the same size, same thread settings.
  const batch = new Float32Array(scored * FEATURE_COUNT);
  for (let i = 0; i < batch.length; i++) batch[i] = rng.next();
  const bare: number[] = [];
  for (let d = 0; d < DECISIONS; d++) {
    const start = performance.now();
    await scorer.score(batch, scored);
    bare.push((performance.now() - start) * 1000);
  }
  return {
    candidates: scored,
    decisionP50Us: Math.round(quantile(times, 0.5)),
    decisionP99Us: Math.round(quantile(times, 0.99)),
    onnxP50Us: Math.round(quantile(bare, 0.5)),
    onnxP99Us: Math.round(quantile(bare, 0.99)),
    overheadP50: Number((quantile(times, 0.5) / quantile(bare, 0.5)).toFixed(1)),
    pickAfterFeedbackP50Us: Math.round(quantile(pickTimes, 0.5)),
    pickAfterFeedbackP99Us: Math.round(quantile(pickTimes, 0.99)),
  };
}

/**
 * One long session served as a session serves it, feedback on every pick (completions, skips early and
 * late, some likes and dislikes): the time per pick, decisions included, for each 1,000 picks.
 */
async function longSession(picks: number) {
  const engine = createEngine({ catalog, scorer, transitions, sessions, sequences, vectors });
  const rng = createRng(99);
  let cursor: StreamCursor = { state: engine.start({ seed: 99 }), pool: null };
  let clock = T0;
  const bucket = 1_000;
  const perPickUs: number[] = [];
  const decisionsPer: number[] = [];
  let spent = 0;
  let decisions = 0;
  for (let k = 1; k <= picks; k++) {
    const start = performance.now();
    const out = await nextPicks(engine, cursor, 1, clock);
    const p = out.picks[0];
    if (!p) throw new Error(`the catalog ran out after ${k - 1} picks`);
    const r = rng.next();
    const fb =
      r < 0.05
        ? { type: 'disliked' as const, pos: p.pos }
        : r < 0.1
          ? { type: 'liked' as const, pos: p.pos }
          : r < 0.3
            ? { type: 'skipped' as const, pos: p.pos, atMs: r < 0.2 ? 4_000 : 60_000 }
            : { type: 'completed' as const, pos: p.pos };
    clock += fb.type === 'skipped' ? fb.atMs : p.durationMs;
    cursor = { ...out.cursor, state: engine.feedback(out.cursor.state, fb, clock).state };
    spent += performance.now() - start;
    decisions += out.decided;
    if (k % bucket === 0) {
      perPickUs.push(Math.round((spent * 1000) / bucket));
      decisionsPer.push(Number((decisions / bucket).toFixed(3)));
      spent = 0;
      decisions = 0;
    }
  }
  const first = perPickUs[0];
  const last = perPickUs[perPickUs.length - 1];
  return {
    picks,
    bucket,
    perPickUs,
    decisionsPerPick: decisionsPer,
    lastOverFirst: Number((last / first).toFixed(3)),
  };
}

// One untimed pass so the JIT and ONNX Runtime are warm before any figure is taken.
await measure(500);
const at500 = await measure(500);
const at2000 = await measure(2000);
await longSession(1_000);
const long = await longSession(LONG);
log('');
log(
  '| candidates | decision p50 | decision p99 | bare ONNX p50 | bare ONNX p99 | decision / ONNX (p50) | pick after feedback p50 | p99 |',
);
log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of [at500, at2000]) {
  log(
    `| ${r.candidates} | ${(r.decisionP50Us / 1000).toFixed(2)} ms | ${(r.decisionP99Us / 1000).toFixed(2)} ms | ${(r.onnxP50Us / 1000).toFixed(3)} ms | ${(r.onnxP99Us / 1000).toFixed(3)} ms | ${r.overheadP50}× | ${(r.pickAfterFeedbackP50Us / 1000).toFixed(3)} ms | ${(r.pickAfterFeedbackP99Us / 1000).toFixed(3)} ms |`,
  );
}
log('');
log(
  `one ${long.picks}-pick session, feedback on every pick: ${long.perPickUs.map((us) => `${us} µs`).join(', ')} per pick for each ${long.bucket} (decisions per pick ${long.decisionsPerPick.join(', ')}); last / first ${long.lastOverFirst}`,
);
log(
  JSON.stringify({
    bench: 'engine-decision',
    items: catalog.size,
    picksPerDecision: 10,
    decisions: DECISIONS,
    index: vectors.kind,
    model: scorer.id,
    c500: at500,
    c2000: at2000,
    long,
    goals: { c500P50Ms: 1, c500P99Ms: 3, c2000P99Ms: 5, pickAfterFeedbackP99Ms: 1, longLastOverFirst: 1.1 },
  }),
);
