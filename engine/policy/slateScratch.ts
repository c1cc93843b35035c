import { TopK } from './topK.ts';

/**
 * The slate policy's working arrays, kept from one call to the next. A call used to allocate a dozen typed
 * arrays and a top-k per slot (each with its own backing store, 0.1 to 1 µs apiece and garbage after), for a
 * few hundred candidates. `takeScratch` hands out the spare set, grown to fit, or a new one while another call
 * holds it (a `follow.onSlot` that picks again); `giveBack` returns it. Nothing in it outlives the call that
 * took it: the arrays that call reads before writing are cleared for it here.
 */
export class SlateScratch {
  relevance = new Float32Array(0);
  /** A copy of the scores for the shortlist's cut (the selection reorders it). */
  cutScores = new Float32Array(0);
  /** Candidates by position: the shortlist first, then the rest. */
  order = new Int32Array(0);
  artists = new Int32Array(0);
  albums = new Int32Array(0);
  maxSim = new Float32Array(0);
  seen = new Int32Array(0);
  fit = new Uint8Array(0);
  taken = new Uint8Array(0);
  historyIndex = new Int32Array(0);
  seedSims = new Float64Array(0);
  best = new TopK(0);
  /**
   * Per artist and album number: the stamp of the last slot whose spacing window held it. A slot takes a new
   * stamp (`nextStamp`), so nothing is cleared between slots or calls, and a candidate's spacing is one read.
   */
  nearArtist = new Int32Array(0);
  nearAlbum = new Int32Array(0);
  private stamp = 0;

  /** A stamp no entry of `nearArtist` or `nearAlbum` holds yet. */
  nextStamp(): number {
    if (this.stamp === 0x7fffffff) {
      this.stamp = 0;
      this.nearArtist.fill(0);
      this.nearAlbum.fill(0);
    }
    return ++this.stamp;
  }

  /**
   * Room for `count` candidates, `looked` history entries, `sims` seeds, a top-k of `top`, and the catalog's
   * `artists` and `albums` numbers.
   */
  prepare(count: number, looked: number, sims: number, top: number, artists = 0, albums = 0): void {
    // Grown arrays start at 0, below every stamp handed out.
    if (this.nearArtist.length < artists) this.nearArtist = new Int32Array(artists);
    if (this.nearAlbum.length < albums) this.nearAlbum = new Int32Array(albums);
    if (this.relevance.length < count) {
      const size = Math.max(count, 2 * this.relevance.length);
      this.relevance = new Float32Array(size);
      this.cutScores = new Float32Array(size);
      this.order = new Int32Array(size);
      this.artists = new Int32Array(size);
      this.albums = new Int32Array(size);
      this.maxSim = new Float32Array(size);
      this.seen = new Int32Array(size);
      this.fit = new Uint8Array(size);
      this.taken = new Uint8Array(size);
    }
    if (this.historyIndex.length < looked) this.historyIndex = new Int32Array(Math.max(looked, 64));
    if (this.seedSims.length < sims) this.seedSims = new Float64Array(Math.max(sims, 64));
    if (this.best.capacity < top) this.best = new TopK(top, Math.max(top, 32));
    this.maxSim.fill(-1, 0, count);
    this.seen.fill(0, 0, count);
    this.taken.fill(0, 0, count);
  }
}

/**
 * One spare object of a kind, for a synchronous hot function to reuse between its calls: `take` gives the spare
 * (or a new one while a call that took it is still running), `give` puts it back once the call is done with it.
 */
export class Spare<T> {
  private spare: T | undefined;

  constructor(private readonly make: () => T) {}

  take(): T {
    const t = this.spare ?? this.make();
    this.spare = undefined;
    return t;
  }

  give(t: T): void {
    this.spare = t;
  }
}

const slates = new Spare(() => new SlateScratch());

/** The working arrays for one slate: the spare set when it is free, grown to fit. */
export function takeScratch(
  count: number,
  looked: number,
  sims: number,
  top: number,
  catalog: { artistCount: number; albumCount: number },
): SlateScratch {
  const scratch = slates.take();
  scratch.prepare(count, looked, sims, top, catalog.artistCount, catalog.albumCount);
  return scratch;
}

/** The slate is done with them: the next call may use them. */
export function giveBack(scratch: SlateScratch): void {
  slates.give(scratch);
}
