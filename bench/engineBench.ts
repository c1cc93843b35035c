/**
 * Engine decision latency: the next 10 picks from 500 and from 2,000 candidates, end to end in the engine
 * (query, retrieval over an HNSW index, transitions and session-kNN, features, one ONNX call, slate
 * policy), on a generated
 * 100,000-item catalog, p50/p99 over 2,000+ decisions each; and in the same run the bare ONNX call on a
 * batch of the same size, so the engine's overhead is a ratio. Last line: one JSON object.
 *
 *   npm run bench            (BENCH_ITEMS, BENCH_DECISIONS override the sizes)
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
import type { SessionState } from '../engine/session.ts';
import { FEATURE_COUNT } from '../models/featureSchema.ts';
import { loadModel } from '../models/loadModel.ts';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 100_000);
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 2_000);
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
log(
  `transition memory ${transitions.edgeCount} edges, session-kNN over ${logged.length} sessions (${((performance.now() - t) / 1000).toFixed(1)} s)`,
);
const { scorer, card } = await loadModel(DEFAULT_MODEL_DIR);
log(
  `model: ${scorer.id} (${card.sha256.slice(0, 12)}), ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}`,
);

async function measure(candidates: number) {
  const engine = createEngine({ catalog, scorer, transitions, sessions, vectors, config: { candidates } });
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
  let scored = 0;
  for (let d = 0; d < DECISIONS; d++) {
    const s = d % SESSIONS;
    const start = performance.now();
    const out = await engine.next(states[s], { n: 10, nowMs: clocks[s] });
    times.push((performance.now() - start) * 1000);
    scored = out.picks[0]?.reasons.candidates ?? scored;
    // Keep the session moving: play the picks, as a listener would.
    let state = out.state;
    for (const p of out.picks) {
      clocks[s] += p.durationMs;
      state = engine.feedback(state, { type: 'completed', pos: p.pos }, clocks[s]).state;
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
  };
}

// One untimed pass so the JIT and ONNX Runtime are warm before any figure is taken.
await measure(500);
const at500 = await measure(500);
const at2000 = await measure(2000);
log('');
log('| candidates | decision p50 | decision p99 | bare ONNX p50 | bare ONNX p99 | decision / ONNX (p50) |');
log('|---:|---:|---:|---:|---:|---:|');
for (const r of [at500, at2000]) {
  log(
    `| ${r.candidates} | ${(r.decisionP50Us / 1000).toFixed(2)} ms | ${(r.decisionP99Us / 1000).toFixed(2)} ms | ${(r.onnxP50Us / 1000).toFixed(3)} ms | ${(r.onnxP99Us / 1000).toFixed(3)} ms | ${r.overheadP50}× |`,
  );
}
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
    goals: { c500P50Ms: 1, c500P99Ms: 3, c2000P99Ms: 5 },
  }),
);
