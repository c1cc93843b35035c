import type { CatalogRow, Item } from './item.ts';
import { createRng, hashString } from './rng.ts';

/**
 * A loaded catalog: items by dense index, unit-normalised embeddings in one Float32Array, and the
 * look-ups retrieval needs (by id, by artist, by tag). Immutable once built.
 */
export class Catalog {
  readonly items: readonly Item[];
  readonly dim: number;
  /** Row i holds item i's unit embedding: `embeddings.subarray(i * dim, (i + 1) * dim)`. */
  readonly embeddings: Float32Array;
  readonly maxPopularity: number;
  /** Release year per item (NaN when unknown) and duration in ms, for hot loops. */
  readonly years: Float32Array;
  readonly durations: Float32Array;
  /** log1p(popularity) / log1p(max popularity) per item, in [0, 1]. */
  readonly popularityScore: Float32Array;
  /** Tags as dense numbers: item i's are `tagIds[tagOffsets[i] .. tagOffsets[i + 1])`; `tagNames[n]` names n. */
  readonly tagIds: Int32Array;
  readonly tagOffsets: Int32Array;
  readonly tagNames: readonly string[];
  /**
   * Each item's tags as a 64-bit set in two words (`tagMasks[2i]`, `tagMasks[2i + 1]`), tag number mod 64:
   * exact for catalogs of up to 64 tags (the demo has 59), an overlap estimate beyond.
   */
  readonly tagMasks: Uint32Array;
  /** Dense artist number per item, so hot loops compare integers, not names. */
  readonly artistIds: Int32Array;
  /** Dense album number per item (albums are per artist); -1 for an item without an album. */
  readonly albumIds: Int32Array;
  /** How many artist and album numbers there are (`artistIds` and `albumIds` are below them). */
  readonly artistCount: number;
  readonly albumCount: number;
  /** True when embeddings were derived from tags and artists because the rows had none. */
  readonly derivedEmbeddings: boolean;
  private readonly indexById: Record<string, number>;
  private readonly indexByArtist: Map<string, number[]>;
  private readonly indexByTag: Map<string, number[]>;
  private readonly tagNumbers: Map<string, number>;
  private readonly artistNumbers = new Map<string, number>();
  private readonly albumNumbers = new Map<string, number>();

  /** Rows must already be valid (see `parseCatalogRow`); embeddings all present or all absent. */
  constructor(rows: readonly CatalogRow[], options: { derivedDim?: number } = {}) {
    const withEmbedding = rows.filter((r) => r.embedding !== undefined).length;
    this.derivedEmbeddings = withEmbedding === 0;
    this.dim = this.derivedEmbeddings ? (options.derivedDim ?? 32) : rows[0]!.embedding!.length;
    this.embeddings = new Float32Array(rows.length * this.dim);
    this.indexById = Object.create(null);
    this.indexByArtist = new Map();
    this.indexByTag = new Map();
    const items: Item[] = [];
    let maxPop = 0;
    this.artistIds = new Int32Array(rows.length);
    this.albumIds = new Int32Array(rows.length);
    const { artistNumbers, albumNumbers } = this;
    rows.forEach((row, i) => {
      const { embedding, ...item } = row;
      items.push(item);
      this.indexById[item.id] = i;
      pushTo(this.indexByArtist, item.artist, i);
      this.artistIds[i] = numberFor(artistNumbers, item.artist);
      this.albumIds[i] =
        item.album === undefined ? -1 : numberFor(albumNumbers, `${item.artist}\u0000${item.album}`);
      for (const tag of item.tags) pushTo(this.indexByTag, tag, i);
      if (item.popularity > maxPop) maxPop = item.popularity;
      const target = this.embeddings.subarray(i * this.dim, (i + 1) * this.dim);
      if (embedding) target.set(embedding);
      else deriveEmbedding(item, target);
      normalise(target);
    });
    this.items = items;
    this.artistCount = artistNumbers.size;
    this.albumCount = albumNumbers.size;
    this.maxPopularity = maxPop;
    const logMax = Math.log1p(maxPop) || 1;
    this.popularityScore = Float32Array.from(items, (item) => Math.log1p(item.popularity) / logMax);
    this.years = Float32Array.from(items, (item) => item.year ?? Number.NaN);
    this.durations = Float32Array.from(items, (item) => item.durationMs);
    this.tagNames = [...this.indexByTag.keys()];
    const tagNumber = new Map(this.tagNames.map((t, n) => [t, n]));
    this.tagNumbers = tagNumber;
    this.tagOffsets = new Int32Array(items.length + 1);
    const ids: number[] = [];
    items.forEach((item, i) => {
      this.tagOffsets[i] = ids.length;
      for (const tag of item.tags) ids.push(tagNumber.get(tag)!);
    });
    this.tagOffsets[items.length] = ids.length;
    this.tagIds = Int32Array.from(ids);
    this.tagMasks = new Uint32Array(items.length * 2);
    for (let i = 0; i < items.length; i++) {
      for (let t = this.tagOffsets[i]; t < this.tagOffsets[i + 1]; t++) {
        const bit = this.tagIds[t] & 63;
        this.tagMasks[2 * i + (bit >> 5)] |= 1 << (bit & 31);
      }
    }
  }

  get size(): number {
    return this.items.length;
  }

  indexOf(id: string): number | undefined {
    return this.indexById[id];
  }

  get(id: string): Item | undefined {
    const i = this.indexById[id];
    return i === undefined ? undefined : this.items[i];
  }

  embedding(index: number): Float32Array {
    return this.embeddings.subarray(index * this.dim, (index + 1) * this.dim);
  }

  /** Whether item `index` has the tag numbered `tag`: its tag set answers most items, the list the rest. */
  hasTag(index: number, tag: number): boolean {
    const bit = tag & 63;
    if ((this.tagMasks[2 * index + (bit >> 5)] & (1 << (bit & 31))) === 0) return false;
    if (this.tagNames.length <= 64) return true;
    for (let t = this.tagOffsets[index]; t < this.tagOffsets[index + 1]; t++)
      if (this.tagIds[t] === tag) return true;
    return false;
  }

  /** The dense number of an artist (see `artistIds`), undefined when no item is theirs. */
  artistNumber(artist: string): number | undefined {
    return this.artistNumbers.get(artist);
  }

  /** The dense number of an artist's album (see `albumIds`), undefined when no item is on it. */
  albumNumber(artist: string, album: string): number | undefined {
    return this.albumNumbers.get(`${artist}\u0000${album}`);
  }

  byArtist(artist: string): readonly number[] {
    return this.indexByArtist.get(artist) ?? [];
  }

  private artistNames?: string[];

  /** The items of the artist numbered `artist` (see `artistIds`). */
  byArtistNumber(artist: number): readonly number[] {
    if (!this.artistNames) {
      this.artistNames = [];
      for (const [name, n] of this.artistNumbers) this.artistNames[n] = name;
    }
    const name = this.artistNames[artist];
    return name === undefined ? [] : this.byArtist(name);
  }

  /** The dense number of a tag (see `tagIds`). */
  tagNumber(tag: string): number | undefined {
    return this.tagNumbers.get(tag);
  }

  byTag(tag: string): readonly number[] {
    return this.indexByTag.get(tag) ?? [];
  }

  artists(): IterableIterator<string> {
    return this.indexByArtist.keys();
  }

  tags(): IterableIterator<string> {
    return this.indexByTag.keys();
  }
}

/** The number `key` has in `numbers`, or the next one, given to it now (artists and albums are numbered so). */
export function numberFor(numbers: Map<string, number>, key: string): number {
  let n = numbers.get(key);
  if (n === undefined) {
    n = numbers.size;
    numbers.set(key, n);
  }
  return n;
}

function pushTo(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A fixed random direction per tag and per artist, summed: items sharing tags and artists lie close. */
function deriveEmbedding(item: Item, out: Float32Array): void {
  const add = (key: string, weight: number) => {
    const rng = createRng(hashString(key));
    for (let d = 0; d < out.length; d++) out[d] += weight * (rng.next() * 2 - 1);
  };
  for (const tag of item.tags) add(`tag:${tag}`, 1);
  add(`artist:${item.artist}`, 1.5);
  if (item.album) add(`album:${item.artist}/${item.album}`, 0.5);
}

export function normalise(v: Float32Array): void {
  let norm = 0;
  for (let d = 0; d < v.length; d++) norm += v[d] * v[d];
  if (norm === 0) return;
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < v.length; d++) v[d] *= inv;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d] * b[d];
  return s;
}

/**
 * `out[k] = dot(v, embedding of item rows[k])` for k in [from, to), where v is `v[vOffset .. vOffset + dim)`.
 * Each product is summed in dimension order, exactly as `dot` does, so results are bit-identical; four rows
 * run side by side so the additions overlap.
 */
export function dotRows(
  v: Float32Array,
  vOffset: number,
  embeddings: Float32Array,
  dim: number,
  rows: ArrayLike<number>,
  from: number,
  to: number,
  out: Float64Array,
): void {
  let k = from;
  for (; k + 4 <= to; k += 4) {
    const o0 = rows[k] * dim;
    const o1 = rows[k + 1] * dim;
    const o2 = rows[k + 2] * dim;
    const o3 = rows[k + 3] * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let d = 0; d < dim; d++) {
      const q = v[vOffset + d];
      s0 += q * embeddings[o0 + d];
      s1 += q * embeddings[o1 + d];
      s2 += q * embeddings[o2 + d];
      s3 += q * embeddings[o3 + d];
    }
    out[k] = s0;
    out[k + 1] = s1;
    out[k + 2] = s2;
    out[k + 3] = s3;
  }
  for (; k < to; k++) {
    const o = rows[k] * dim;
    let s = 0;
    for (let d = 0; d < dim; d++) s += v[vOffset + d] * embeddings[o + d];
    out[k] = s;
  }
}
