/**
 * Whole simulated sessions on the demo: synthetic listeners with hidden tastes (the same kind that produced
 * the training sessions, with seeds never used in training) listen to streams from the engine with the
 * trained model, with the fallback scorer, and with the model but no slate policy, plus a random stream.
 * Prints skip rate, early-skip rate, likes, items before quitting, repeats and artist repeats.
 *
 *   npx tsx bench/demoListeners.ts      (LISTENERS=200 STREAM=100 override)
 */
import { DEFAULT_MODEL_DIR, loadRuntime } from '../adapters/runtime.ts';
import { createListener } from '../engine/demo/syntheticListener.ts';
import { createEngine, type Engine } from '../engine/engine.ts';
import type { Item } from '../engine/item.ts';
import { createVectorIndex } from '../engine/retrieval/vectorIndex.ts';
import { createRng } from '../engine/rng.ts';
import type { Outcome } from '../engine/session.ts';
import { createFallbackScorer } from '../models/fallbackScorer.ts';
import { loadModel } from '../models/loadModel.ts';

const LISTENERS = Number(process.env.LISTENERS ?? 200);
const STREAM = Number(process.env.STREAM ?? 100);
const T0 = Date.UTC(2026, 0, 1, 8);

// The demo resources exactly as `npm start` builds them; each variant below swaps the scorer or the policy.
const { catalog, transitions, sessions } = await loadRuntime();
const vectors = createVectorIndex(catalog);
const { scorer, card } = await loadModel(process.env.MODEL_DIR ?? DEFAULT_MODEL_DIR);
const resources = { catalog, transitions, sessions, vectors };

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
  for (let l = 0; l < LISTENERS; l++) {
    // Listener seeds far from the 1..3000 range the training sessions used.
    const seed = 1_000_000 + l;
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
  };
}

/** The engine one pick at a time, told every reaction before the next pick. */
function engineStream(engine: Engine) {
  return (seed: number) => {
    let state = engine.start({ seed });
    let clock = T0;
    let last: { pos: number; durationMs: number } | undefined;
    return {
      next: async () => {
        const out = await engine.next(state, { n: 1, nowMs: clock });
        state = out.state;
        const pick = out.picks[0];
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
        state = engine.feedback(state, fb, clock).state;
      },
    };
  };
}

const rows: Row[] = [];
rows.push(
  await simulate(`ours (${scorer.id} + policy)`, engineStream(createEngine({ ...resources, scorer }))),
);
rows.push(
  await simulate(
    'ours, ranker only (no policy)',
    engineStream(
      createEngine({
        ...resources,
        scorer,
        config: { mmrLambda: 1, exploration: 0, artistGap: 0, albumGap: 0 },
      }),
    ),
  ),
);
rows.push(
  await simulate(
    'fallback scorer + policy',
    engineStream(createEngine({ ...resources, scorer: createFallbackScorer() })),
  ),
);
rows.push(
  await simulate('random', (seed) => {
    const rng = createRng(seed);
    return { next: async () => catalog.items[rng.int(catalog.size)] };
  }),
);

console.log(
  `demo catalog ${catalog.size} items; model ${card.name}@${card.version} (val AUC ${card.metrics.valAuc.toFixed(3)}); ${LISTENERS} listeners × ${STREAM} items`,
);
console.log('');
console.log(
  '| stream | skip rate | early skips (<30 s) | likes / listener | dislikes / listener | items before quitting | repeats | same artist within 3 |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${(r.skipRate * 100).toFixed(1)}% | ${(r.earlySkipRate * 100).toFixed(1)}% | ${r.likes.toFixed(2)} | ${r.dislikes.toFixed(2)} | ${r.lengthBeforeQuit.toFixed(1)} | ${r.repeats} | ${(r.artistRepeat3 * 100).toFixed(1)}% |`,
  );
}
console.log(
  JSON.stringify({
    bench: 'demo-listeners',
    listeners: LISTENERS,
    stream: STREAM,
    model: `${card.name}@${card.version}`,
    rows,
  }),
);
