import type { Catalog } from '../catalog.ts';
import { createRng, deriveSeed, type Rng } from '../rng.ts';
import type { LoggedPlay, LoggedSession } from '../sessionsFile.ts';
import { createListener, type ListenContext } from './syntheticListener.ts';

export interface DemoSessionsOptions {
  seed: number;
  sessions?: number;
  /** The listener cannot quit before this many plays. */
  minLength?: number;
  maxLength?: number;
}

/** Items the neighbour proposal scores per step: enough to find a good one, far from a catalog scan. */
const NEIGHBOUR_SAMPLE = 200;
const CONTEXT_WINDOW = 10;

/**
 * Logged sessions from synthetic listeners (one per session, its taste drawn from the seed) reacting to a
 * deliberately mixed logging policy: embedding neighbours of the last item they finished, same-genre items,
 * popular items and random ones, so the log holds good and bad proposals. Same options, same sessions.
 */
export function generateDemoSessions(catalog: Catalog, options: DemoSessionsOptions): LoggedSession[] {
  const count = options.sessions ?? 3000;
  const minLength = options.minLength ?? 20;
  const maxLength = Math.max(minLength, options.maxLength ?? 80);
  const popular = popularitySampler(catalog);
  const width = Math.max(6, String(count).length);
  const out: LoggedSession[] = [];
  for (let s = 0; s < count; s++) {
    const sessionSeed = deriveSeed(options.seed, s + 1);
    const listener = createListener(catalog, { seed: sessionSeed });
    const rng = createRng(deriveSeed(sessionSeed, 0x10c));
    const played = new Set<number>();
    const plays: LoggedPlay[] = [];
    const recent: { id: string; artist: string; outcome?: LoggedPlay['outcome'] }[] = [];
    const context: ListenContext = { recent };
    // The session opens like "play some <favourite genre>" most of the time, else on a popular item.
    const favourite = catalog.byTag(listener.taste.genres[0]);
    let anchor =
      favourite.length > 0 && rng.next() < 0.7 ? favourite[rng.int(favourite.length)] : popular(rng);
    let next = anchor;
    while (plays.length < maxLength) {
      const item = catalog.items[next];
      const reaction = listener.react(item, context, rng);
      played.add(next);
      plays.push({ id: item.id, outcome: reaction.outcome, playedMs: reaction.playedMs });
      recent.push({ id: item.id, artist: item.artist, outcome: reaction.outcome });
      if (recent.length > CONTEXT_WINDOW) recent.shift();
      if (reaction.outcome === 'completed' || reaction.outcome === 'liked') anchor = next;
      if (plays.length >= minLength && listener.quits(context, rng)) break;
      next = propose(catalog, anchor, played, popular, rng);
    }
    out.push({ id: `s${String(s + 1).padStart(width, '0')}`, items: plays });
  }
  return out;
}

/** The logging policy: one proposal, never an item already played in this session. */
function propose(
  catalog: Catalog,
  anchor: number,
  played: ReadonlySet<number>,
  popular: (rng: Rng) => number,
  rng: Rng,
): number {
  for (let tries = 0; tries < 20; tries++) {
    const r = rng.next();
    let candidate: number;
    if (r < 0.45) candidate = neighbour(catalog, anchor, played, rng);
    else if (r < 0.65) {
      const genre = catalog.byTag(catalog.items[anchor].tags[0] ?? '');
      candidate = genre.length > 0 ? genre[rng.int(genre.length)] : rng.int(catalog.size);
    } else if (r < 0.82) candidate = popular(rng);
    else candidate = rng.int(catalog.size);
    if (!played.has(candidate)) return candidate;
  }
  return rng.int(catalog.size);
}

/** One of the 5 items most similar to the anchor among a random sample (not a catalog scan). */
function neighbour(catalog: Catalog, anchor: number, played: ReadonlySet<number>, rng: Rng): number {
  const a = catalog.embedding(anchor);
  const dim = catalog.dim;
  const emb = catalog.embeddings;
  const best: { index: number; score: number }[] = [];
  // A random start and stride: two draws instead of 200 (the generator dominated the profile).
  const size = catalog.size;
  const start = rng.int(size);
  const stride = 1 + rng.int(Math.max(1, size - 1));
  for (let k = 0; k < NEIGHBOUR_SAMPLE; k++) {
    const i = (start + k * stride) % size;
    if (i === anchor || played.has(i)) continue;
    let s = 0;
    const off = i * dim;
    for (let d = 0; d < dim; d++) s += a[d] * emb[off + d];
    if (best.length < 5 || s > best[best.length - 1].score) {
      best.push({ index: i, score: s });
      best.sort((x, y) => y.score - x.score);
      if (best.length > 5) best.pop();
    }
  }
  return best.length > 0 ? best[rng.int(best.length)].index : rng.int(catalog.size);
}

/** Draws item indices with probability proportional to popularity (cumulative table, binary search). */
function popularitySampler(catalog: Catalog): (rng: Rng) => number {
  const cumulative = new Float64Array(catalog.size);
  let total = 0;
  catalog.items.forEach((item, i) => {
    total += item.popularity;
    cumulative[i] = total;
  });
  if (total === 0) return (rng) => rng.int(catalog.size);
  return (rng) => {
    const r = rng.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}
