import type { CatalogRow } from '../item.ts';
import { createRng, deriveSeed, type Rng } from '../rng.ts';
import { albumTitle, artistName, trackTitle } from './names.ts';

/** A demo genre: typical duration (s), duration spread, its era, and where it sits on the energy axis. */
interface GenreSpec {
  name: string;
  durationS: number;
  sigma: number;
  era: [from: number, to: number];
  /** 0 = calm … 1 = energetic. */
  energy: number;
  /** Mean valence: 0 = dark/melancholic … 1 = bright/happy. */
  valence: number;
}

const g = (
  name: string,
  durationS: number,
  era: [number, number],
  energy: number,
  valence = 0.5,
  sigma = 0.22,
) => ({ name, durationS, sigma, era, energy, valence }) as GenreSpec;

/** Families and their genres; the weight is the family's share of artists. */
const FAMILIES: readonly { name: string; weight: number; genres: readonly GenreSpec[] }[] = [
  {
    name: 'rock',
    weight: 0.17,
    genres: [
      g('indie rock', 225, [1995, 2025], 0.6),
      g('punk', 155, [1976, 2010], 0.9, 0.45),
      g('classic rock', 260, [1965, 1990], 0.65, 0.55),
      g('metal', 300, [1975, 2025], 0.95, 0.2),
      g('alternative', 240, [1988, 2015], 0.6, 0.4),
      g('grunge', 250, [1988, 2000], 0.75, 0.25),
    ],
  },
  {
    name: 'electronic',
    weight: 0.15,
    genres: [
      g('house', 380, [1988, 2025], 0.8, 0.7),
      g('techno', 420, [1990, 2025], 0.85, 0.35),
      g('ambient', 520, [1978, 2025], 0.08, 0.5, 0.4),
      g('drum and bass', 330, [1994, 2025], 0.92, 0.5),
      g('trance', 410, [1993, 2015], 0.82, 0.65),
      g('downtempo', 290, [1994, 2025], 0.3, 0.45),
    ],
  },
  {
    name: 'jazz',
    weight: 0.08,
    genres: [
      g('bebop', 330, [1945, 1965], 0.65, 0.6, 0.3),
      g('cool jazz', 360, [1950, 1970], 0.3, 0.5, 0.3),
      g('jazz fusion', 400, [1969, 1990], 0.7, 0.55, 0.3),
      g('swing', 200, [1933, 1950], 0.7, 0.8),
      g('smooth jazz', 290, [1980, 2010], 0.3, 0.65),
    ],
  },
  {
    name: 'classical',
    weight: 0.07,
    genres: [
      g('baroque', 300, [1955, 2025], 0.45, 0.65, 0.5),
      g('romantic', 480, [1955, 2025], 0.4, 0.4, 0.5),
      g('contemporary classical', 420, [1970, 2025], 0.25, 0.35, 0.5),
      g('opera', 330, [1955, 2025], 0.5, 0.45, 0.5),
      g('chamber music', 450, [1955, 2025], 0.25, 0.5, 0.5),
    ],
  },
  {
    name: 'hip-hop',
    weight: 0.15,
    genres: [
      g('boom bap', 235, [1987, 2000], 0.65, 0.45),
      g('trap', 190, [2008, 2025], 0.8, 0.3),
      g('conscious hip-hop', 250, [1990, 2025], 0.55, 0.4),
      g('lo-fi hip-hop', 150, [2012, 2025], 0.15, 0.5, 0.3),
      g('r&b', 225, [1990, 2025], 0.45, 0.6),
    ],
  },
  {
    name: 'folk',
    weight: 0.1,
    genres: [
      g('contemporary folk', 230, [1995, 2025], 0.3, 0.45),
      g('country', 205, [1970, 2025], 0.55, 0.7),
      g('bluegrass', 180, [1950, 2025], 0.7, 0.75),
      g('singer-songwriter', 225, [1968, 2025], 0.25, 0.35),
      g('americana', 240, [1995, 2025], 0.45, 0.5),
    ],
  },
  {
    name: 'pop',
    weight: 0.18,
    genres: [
      g('synth-pop', 220, [1980, 2025], 0.7, 0.65),
      g('dance pop', 205, [1985, 2025], 0.85, 0.85),
      g('indie pop', 215, [2000, 2025], 0.55, 0.7),
      g('k-pop', 200, [2005, 2025], 0.85, 0.8),
      g('pop ballad', 245, [1975, 2025], 0.2, 0.35),
    ],
  },
  {
    name: 'world',
    weight: 0.1,
    genres: [
      g('reggae', 230, [1970, 2025], 0.5, 0.75),
      g('afrobeat', 330, [1970, 2025], 0.8, 0.8, 0.3),
      g('bossa nova', 185, [1958, 1975], 0.25, 0.65),
      g('flamenco', 260, [1960, 2025], 0.7, 0.4),
      g('latin', 215, [1990, 2025], 0.8, 0.85),
      g('celtic', 230, [1970, 2025], 0.45, 0.5),
    ],
  },
];

/** Every family tag of the demo catalog. */
export const DEMO_FAMILIES: readonly string[] = FAMILIES.map((f) => f.name);
/** Every genre tag of the demo catalog. */
export const DEMO_GENRES: readonly string[] = FAMILIES.flatMap((f) => f.genres.map((x) => x.name));
/** Mood tags on the energy axis, calm to energetic, with the energy each stands for. */
export const ENERGY_MOODS = { calm: 0.1, mellow: 0.35, upbeat: 0.65, energetic: 0.9 } as const;
/** Mood tags on the valence axis. */
export const VALENCE_MOODS = ['dark', 'melancholic', 'bright', 'happy'] as const;
/** Every mood tag of the demo catalog. */
export const DEMO_MOODS: readonly string[] = [...Object.keys(ENERGY_MOODS), ...VALENCE_MOODS];

export interface DemoCatalogOptions {
  seed?: number;
  tracks?: number;
  dim?: number;
}

interface Artist {
  name: string;
  family: number;
  genre: GenreSpec;
  second: GenreSpec | undefined;
  popularity: number;
  energy: number;
  valence: number;
  offset: Float64Array;
}

/**
 * A deterministic music catalog with realistic structure: genre families, genres, moods on an energy axis,
 * long-tail artists, albums, lognormal durations and embeddings that cluster by artist, genre and mood.
 * Same options, same rows; nothing is downloaded.
 */
export function generateDemoCatalog(options: DemoCatalogOptions = {}): CatalogRow[] {
  const seed = options.seed ?? 1;
  const total = options.tracks ?? 24_000;
  const dim = options.dim ?? 32;
  const space = createRng(deriveSeed(seed, 1));
  const familyDir = FAMILIES.map(() => randomUnit(space, dim));
  const genreDir = new Map(DEMO_GENRES.map((name) => [name, randomUnit(space, dim)]));
  const energyDir = randomUnit(space, dim);
  const valenceDir = randomUnit(space, dim);

  const rng = createRng(deriveSeed(seed, 2));
  const idWidth = Math.max(5, String(total).length);
  const usedArtistNames = new Set<string>();
  const rows: CatalogRow[] = [];
  while (rows.length < total) {
    const artist = makeArtist(rng, dim, usedArtistNames);
    const albums = Math.min(10, 1 + geometric(rng, 0.55));
    const albumTitles = new Set<string>();
    let year = clampInt(
      artist.genre.era[0] + rng.next() * (artist.genre.era[1] - artist.genre.era[0]) - albums,
      1930,
      2025,
    );
    for (let a = 0; a < albums && rows.length < total; a++) {
      const spec = artist.second && rng.next() < 0.25 ? artist.second : artist.genre;
      const size = albumSize(rng, spec);
      let title = albumTitle(rng);
      while (albumTitles.has(title)) title = albumTitle(rng);
      albumTitles.add(title);
      // The first album and the odd breakthrough carry the artist's name; most later ones fade.
      const albumFactor = Math.exp(0.6 * gauss(rng)) * (a === 0 ? 1.5 : 1);
      const hitPosition = rng.int(Math.min(size, 3));
      for (let k = 0; k < size && rows.length < total; k++) {
        const energy = clamp01(artist.energy + 0.15 * gauss(rng));
        const valence = clamp01(artist.valence + 0.18 * gauss(rng));
        const positionFactor = (k === hitPosition ? 2.5 : 1) / (1 + 0.25 * k);
        const popularity = artist.popularity * albumFactor * positionFactor * Math.exp(0.5 * gauss(rng));
        const durationS = Math.min(1200, Math.max(30, spec.durationS * Math.exp(spec.sigma * gauss(rng))));
        const v = new Float64Array(dim);
        addScaled(v, familyDir[artist.family], 1);
        addScaled(v, genreDir.get(spec.name)!, 0.7);
        addScaled(v, artist.offset, 0.55);
        addScaled(v, energyDir, 1.6 * (energy - 0.5));
        addScaled(v, valenceDir, 0.8 * (valence - 0.5));
        for (let d = 0; d < dim; d++) v[d] += (0.35 / Math.sqrt(dim)) * 2 * gauss(rng);
        rows.push({
          id: `t${String(rows.length + 1).padStart(idWidth, '0')}`,
          title: trackTitle(rng),
          artist: artist.name,
          album: title,
          tags: [spec.name, FAMILIES[artist.family].name, ...moods(rng, energy, valence)],
          durationMs: Math.round(durationS) * 1000,
          year,
          popularity,
          embedding: unitRounded(v),
        });
      }
      year = Math.min(2025, year + 1 + rng.int(4));
    }
  }
  // Read as play counts: the biggest hit has a million, nothing has none, the long tail keeps its shape.
  const max = rows.reduce((m, r) => Math.max(m, r.popularity), 0);
  for (const r of rows) r.popularity = Math.max(1, Math.round((r.popularity / max) * 1_000_000));
  return rows;
}

function makeArtist(rng: Rng, dim: number, used: Set<string>): Artist {
  let name = artistName(rng);
  while (used.has(name)) name = artistName(rng);
  used.add(name);
  const family = weightedIndex(
    rng,
    FAMILIES.map((f) => f.weight),
  );
  const genres = FAMILIES[family].genres;
  const genre = genres[rng.int(genres.length)];
  let second: GenreSpec | undefined;
  if (rng.next() < 0.3) {
    const fam = rng.next() < 0.8 ? FAMILIES[family] : FAMILIES[rng.int(FAMILIES.length)];
    second = fam.genres[rng.int(fam.genres.length)];
    if (second === genre) second = undefined;
  }
  return {
    name,
    family,
    genre,
    second,
    // Pareto (alpha 1.4): a few stars, a very long tail of artists hardly anyone plays.
    popularity: (1 - rng.next()) ** (-1 / 1.4),
    energy: clamp01(genre.energy + 0.12 * gauss(rng)),
    valence: clamp01(genre.valence + 0.15 * gauss(rng)),
    offset: randomUnit(rng, dim),
  };
}

/** Singles 1–2, EPs 4–6, LPs 8–16 (classical and jazz records hold fewer, longer pieces). */
function albumSize(rng: Rng, spec: GenreSpec): number {
  const r = rng.next();
  if (r < 0.45) return 1 + rng.int(2);
  if (r < 0.7) return 4 + rng.int(3);
  return spec.durationS > 320 ? 5 + rng.int(8) : 8 + rng.int(9);
}

/** One energy mood, and a valence mood when the track leans clearly one way. */
function moods(rng: Rng, energy: number, valence: number): string[] {
  const jittered = energy + 0.05 * gauss(rng);
  const out: string[] = [
    jittered < 0.22 ? 'calm' : jittered < 0.5 ? 'mellow' : jittered < 0.78 ? 'upbeat' : 'energetic',
  ];
  if (valence < 0.38) out.push(energy > 0.55 ? 'dark' : 'melancholic');
  else if (valence > 0.62) out.push(energy > 0.55 ? 'happy' : 'bright');
  return out;
}

function randomUnit(rng: Rng, dim: number): Float64Array {
  const v = new Float64Array(dim);
  for (let d = 0; d < dim; d++) v[d] = gauss(rng);
  let n = 0;
  for (let d = 0; d < dim; d++) n += v[d] * v[d];
  n = Math.sqrt(n);
  for (let d = 0; d < dim; d++) v[d] /= n;
  return v;
}

/** Unit length, 4 decimals: keeps the JSONL small and the numbers exactly reproducible. */
function unitRounded(v: Float64Array): number[] {
  let n = 0;
  for (let d = 0; d < v.length; d++) n += v[d] * v[d];
  n = Math.sqrt(n);
  return Array.from(v, (x) => Math.round((x / n) * 10_000) / 10_000);
}

function addScaled(into: Float64Array, v: Float64Array, w: number): void {
  for (let d = 0; d < into.length; d++) into[d] += w * v[d];
}

/** Standard normal (Box–Muller). */
export function gauss(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

function geometric(rng: Rng, p: number): number {
  let k = 0;
  while (rng.next() > p && k < 50) k++;
  return k;
}

function weightedIndex(rng: Rng, weights: readonly number[]): number {
  let r = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r < 0) return i;
  }
  return weights.length - 1;
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}

function clampInt(x: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.round(x)));
}
