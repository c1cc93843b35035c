/**
 * The vector index against the exact scan, on the catalogs the engine serves: the demo catalog (24,000
 * items), the Yes.com catalog when its files are in ../shared/data (73,444 items), and a generated 100,000-item
 * one. For each: the HNSW (usearch) build time, recall@k of its answers against the exact top k, and the
 * query time of both, without exclusions and with 2,000 excluded items (the query's 1,000 nearest and 1,000
 * others: a session late in its freshness window, the hard case for an index with no filter).
 * Last line: one JSON object.
 *
 *   npx tsx bench/annBench.ts      (ANN_K=214 neighbours, the decision's ann quota plus its margin;
 *                                   ANN_QUERIES=200; ANN_YES=path/to/yes_complete_sample)
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { importYes } from '../adapters/import/importYes.ts';
import { Catalog } from '../engine/catalog.ts';
import { generateDemoCatalog } from '../engine/demo/demoCatalog.ts';
import { annUnavailable, createVectorIndex, type VectorIndex } from '../engine/retrieval/vectorIndex.ts';
import { createRng } from '../engine/rng.ts';

const K = Number(process.env.ANN_K ?? 214);
const QUERIES = Number(process.env.ANN_QUERIES ?? 200);
const YES =
  process.env.ANN_YES ??
  fileURLToPath(new URL('../../shared/data/yes-radio-playlists/yes_complete_sample', import.meta.url));

const log = (m: string) => process.stdout.write(`${m}\n`);
const quantile = (xs: number[], q: number) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const ms = (x: number) => Number(x.toFixed(3));

/** Session-like queries: the unit mean of two or three catalog items. */
function queries(catalog: Catalog, n: number): Float32Array[] {
  const rng = createRng(7);
  return Array.from({ length: n }, () => {
    const q = new Float32Array(catalog.dim);
    const parts = 2 + rng.int(2);
    for (let p = 0; p < parts; p++) {
      const e = catalog.embedding(rng.int(catalog.size));
      for (let d = 0; d < q.length; d++) q[d] += e[d];
    }
    const norm = Math.hypot(...q) || 1;
    for (let d = 0; d < q.length; d++) q[d] /= norm;
    return q;
  });
}

function timed(index: VectorIndex, qs: Float32Array[], excluded: ((i: number) => boolean)[] | undefined) {
  const times: number[] = [];
  const answers: number[][] = [];
  for (let i = 0; i < qs.length; i++) {
    const t = performance.now();
    answers.push(index.search(qs[i], K, excluded?.[i]));
    times.push(performance.now() - t);
  }
  return { answers, p50Ms: ms(quantile(times, 0.5)), p99Ms: ms(quantile(times, 0.99)) };
}

function recall(answers: number[][], truth: number[][]): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const got = new Set(answers[i]);
    for (const t of truth[i]) hit += got.has(t) ? 1 : 0;
    total += truth[i].length;
  }
  return Number((hit / total).toFixed(4));
}

async function measure(name: string, catalog: Catalog) {
  const qs = queries(catalog, QUERIES);
  const exact = createVectorIndex(catalog, { force: 'exact' });
  let t = performance.now();
  const ann = createVectorIndex(catalog);
  const buildS = Number(((performance.now() - t) / 1000).toFixed(1));
  // Exclusions: each query's 1,000 nearest and 1,000 seeded others.
  const rng = createRng(11);
  const excluded = qs.map((q) => {
    const out = new Uint8Array(catalog.size);
    for (const i of exact.search(q, 1_000)) out[i] = 1;
    for (let k = 0; k < 1_000; k++) out[rng.int(catalog.size)] = 1;
    return (i: number) => out[i] === 1;
  });
  timed(ann, qs.slice(0, 20), undefined); // warm-up
  timed(exact, qs.slice(0, 20), undefined);
  const exactFree = timed(exact, qs, undefined);
  const annFree = timed(ann, qs, undefined);
  const exactEx = timed(exact, qs, excluded);
  const annEx = timed(ann, qs, excluded);
  t = performance.now();
  const row = {
    catalog: name,
    items: catalog.size,
    dim: catalog.dim,
    index: ann.kind,
    buildS: ann.kind === 'exact' ? 0 : buildS,
    recall: recall(annFree.answers, exactFree.answers),
    recallExcluded: recall(annEx.answers, exactEx.answers),
    leakedExcluded: annEx.answers.reduce((n, a, i) => n + a.filter((x) => excluded[i](x)).length, 0),
    exactP50Ms: exactFree.p50Ms,
    exactP99Ms: exactFree.p99Ms,
    annP50Ms: annFree.p50Ms,
    annP99Ms: annFree.p99Ms,
    exactExcludedP50Ms: exactEx.p50Ms,
    exactExcludedP99Ms: exactEx.p99Ms,
    annExcludedP50Ms: annEx.p50Ms,
    annExcludedP99Ms: annEx.p99Ms,
  };
  log(
    `| ${name} | ${row.items} | ${row.index} | ${row.buildS} s | ${row.recall} | ${row.recallExcluded} | ${row.exactP50Ms} / ${row.exactP99Ms} ms | ${row.annP50Ms} / ${row.annP99Ms} ms | ${row.exactExcludedP50Ms} / ${row.exactExcludedP99Ms} ms | ${row.annExcludedP50Ms} / ${row.annExcludedP99Ms} ms |`,
  );
  return row;
}

log(`# k = ${K}, ${QUERIES} queries; HNSW: ${annUnavailable() ?? 'usearch'}`);
log(
  '| catalog | items | index | build | recall@k | recall@k, 2,000 excluded | exact p50 / p99 | index p50 / p99 | exact, excluded | index, excluded |',
);
log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|');
const rows = [await measure('demo', new Catalog(generateDemoCatalog({ seed: 1 })))];
if (existsSync(YES))
  rows.push(await measure('yes_complete_sample', new Catalog((await importYes(YES)).rows)));
else log(`(no Yes.com data at ${YES}: skipped)`);
rows.push(await measure('generated 100k', new Catalog(generateDemoCatalog({ seed: 1, tracks: 100_000 }))));
log(JSON.stringify({ bench: 'ann', k: K, queries: QUERIES, ann: annUnavailable() ?? 'usearch', rows }));
