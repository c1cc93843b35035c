import { SessionIndex } from '../baselines/sessionIndex.ts';
import type { TrainSession } from '../baselines/sessionRecommender.ts';
import type { Catalog } from '../catalog.ts';
import { createRng, deriveSeed } from '../rng.ts';

/** The simulator's knobs; docs/evaluation.md explains each assumption. */
export interface ListenerOptions {
  /** Plays of the held-out session every algorithm is given as the start. */
  seedPlays: number;
  /** Chance of completing an item from the listener's own held-out session. */
  ownCompletion: number;
  /** Chance of completing an item with no affinity at all. */
  floorCompletion: number;
  /** Affinity of an unknown item by the same artist as one in the listener's session. */
  artistAffinity: number;
  /** Affinity scale for an item whose tags the listener's session carries. */
  tagAffinity: number;
  /** The listener quits after this many skips in a row ... */
  quitAfterSkipsInRow: number;
  /** ... or after this many skips in all. */
  skipBudget: number;
}

export const LISTENER_DEFAULTS: ListenerOptions = {
  seedPlays: 1,
  ownCompletion: 0.9,
  floorCompletion: 0.1,
  artistAffinity: 0.5,
  tagAffinity: 0.4,
  quitAfterSkipsInRow: 5,
  skipBudget: 30,
};

/** What a simulated listener did with one offered item. */
export interface Reaction {
  outcome: 'completed' | 'skipped';
  /** How far the item played before the listener moved on (its duration when completed). */
  playedMs: number;
  liked: boolean;
  /** The affinity that drove the reaction, in [0, 1] (1 = from the listener's own session). */
  affinity: number;
}

/**
 * What simulated listeners know, learned from TRAINING sessions only: which items co-occur in sessions.
 * A listener is one held-out session: its items are its taste, the items after the start are its "future".
 */
export class ListenerModel {
  private readonly index: SessionIndex;
  readonly options: ListenerOptions;

  constructor(
    private readonly catalog: Catalog,
    train: readonly TrainSession[],
    options: Partial<ListenerOptions> = {},
  ) {
    this.index = new SessionIndex(train);
    this.options = { ...LISTENER_DEFAULTS, ...options };
  }

  /** The listener of one held-out session; `seed` fixes its random draws (the same for every algorithm). */
  listener(session: TrainSession, seed: number): Listener {
    const ids = session.items.map((p) => p.id).filter((id) => this.catalog.indexOf(id) !== undefined);
    const start = ids.slice(0, this.options.seedPlays);
    const future = new Set(ids.slice(this.options.seedPlays));
    for (const id of start) future.delete(id);
    return new Listener(
      this.catalog,
      start,
      future,
      this.affinities(ids),
      this.profile(ids),
      this.options,
      seed,
    );
  }

  /**
   * Co-occurrence affinity of every item that shared a training session with the listener's items:
   * max over the listener's items h of n(x,h) / (√(n(x)·n(h)) + 1), n counting training sessions.
   * The +1 keeps a single chance co-occurrence of two rare items from looking like certainty.
   */
  private affinities(ids: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    const counts = new Map<number, number>();
    for (const h of new Set(this.index.known(ids))) {
      counts.clear();
      const postings = this.index.postings[h];
      for (const s of postings) for (const x of this.index.sets[s]) counts.set(x, (counts.get(x) ?? 0) + 1);
      for (const [x, n] of counts) {
        if (x === h) continue;
        const a = n / (Math.sqrt(this.index.postings[x].length * postings.length) + 1);
        const id = this.index.ids[x];
        if (a > (out.get(id) ?? 0)) out.set(id, a);
      }
    }
    return out;
  }

  private profile(ids: readonly string[]): { artists: Set<string>; tags: Set<string> } {
    const artists = new Set<string>();
    const tagCounts = new Map<string, number>();
    for (const id of ids) {
      const item = this.catalog.get(id);
      if (!item) continue;
      artists.add(item.artist);
      for (const t of item.tags) tagCounts.set(t, (tagCounts.get(t) ?? 0) + 1);
    }
    // The session's ten most frequent tags stand for its style; rarer ones are noise.
    const tags = [...tagCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10);
    return { artists, tags: new Set(tags.map(([t]) => t)) };
  }
}

/** One simulated listener: reacts to offered items with graded, seeded probabilities. */
export class Listener {
  constructor(
    private readonly catalog: Catalog,
    /** The plays every algorithm starts from. */
    readonly start: readonly string[],
    private readonly future: ReadonlySet<string>,
    private readonly cooccurrence: ReadonlyMap<string, number>,
    private readonly taste: { artists: ReadonlySet<string>; tags: ReadonlySet<string> },
    private readonly options: ListenerOptions,
    private readonly seed: number,
  ) {}

  /** How much this listener wants `id`, in [0, 1]. */
  affinity(id: string): number {
    if (this.future.has(id)) return 1;
    const item = this.catalog.get(id);
    if (!item) return 0;
    let a = this.cooccurrence.get(id) ?? 0;
    if (this.taste.artists.has(item.artist)) a = Math.max(a, this.options.artistAffinity);
    if (item.tags.length > 0) {
      const shared = item.tags.filter((t) => this.taste.tags.has(t)).length;
      a = Math.max(a, (this.options.tagAffinity * shared) / item.tags.length);
    }
    return Math.min(1, a);
  }

  /**
   * The reaction to the item offered at `step` (0-based). A repeat of an item already heard in this
   * session is skipped. Draws depend only on (seed, step), so every algorithm meets the same luck.
   */
  react(id: string, step: number, heard: boolean): Reaction {
    const rng = createRng(deriveSeed(this.seed, step));
    const u = rng.next();
    const v = rng.next();
    const durationMs = this.catalog.get(id)?.durationMs ?? 0;
    const affinity = heard ? 0 : this.affinity(id);
    const own = affinity === 1 && this.future.has(id);
    const { floorCompletion, ownCompletion } = this.options;
    const complete = heard
      ? false
      : u < (own ? ownCompletion : floorCompletion + (ownCompletion - floorCompletion) * affinity);
    if (complete) return { outcome: 'completed', playedMs: durationMs, liked: own, affinity };
    // Skips are graded: the less the listener wants it, the sooner they skip (5%..50% into the item).
    const playedMs = Math.round(durationMs * v * (0.05 + 0.45 * affinity));
    return { outcome: 'skipped', playedMs, liked: false, affinity };
  }

  /** True once the listener would have left: `skipsInRow` in a row, or `skips` in all, reach the limits. */
  quits(skipsInRow: number, skips: number): boolean {
    return skipsInRow >= this.options.quitAfterSkipsInRow || skips >= this.options.skipBudget;
  }
}
