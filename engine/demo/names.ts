import type { Rng } from '../rng.ts';

// Syllables chosen so any concatenation reads aloud (a voice assistant says these names).
const ONSETS = [
  'b',
  'br',
  'c',
  'ch',
  'd',
  'f',
  'g',
  'h',
  'j',
  'k',
  'l',
  'm',
  'n',
  'p',
  'r',
  's',
  'sh',
  't',
  'th',
  'v',
  'w',
  'z',
  'st',
  'tr',
  'cl',
  'fl',
  'gr',
  'pl',
];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'o', 'ai', 'ea', 'io', 'ou', 'ie'];
const CODAS = ['', '', '', '', 'n', 'r', 'l', 's', 'm', 'x', 'nd', 'rt', 'th'];

const WORDS = [
  'Night',
  'Tide',
  'Lantern',
  'River',
  'Glass',
  'Ember',
  'Harbor',
  'Velvet',
  'Signal',
  'Paper',
  'Neon',
  'Summer',
  'Winter',
  'Echo',
  'Orbit',
  'Garden',
  'Silver',
  'Hollow',
  'Static',
  'Wild',
  'Golden',
  'Quiet',
  'Electric',
  'Blue',
  'Midnight',
  'Morning',
  'Shadow',
  'Fire',
  'Rain',
  'Stone',
  'Mirror',
  'Ghost',
  'Honey',
  'Iron',
  'Salt',
  'Cloud',
  'Desert',
  'Ocean',
  'Feather',
  'Thunder',
  'Dream',
  'Heart',
  'Highway',
  'Lullaby',
  'Satellite',
  'Wolf',
  'Rose',
  'Copper',
  'Distant',
  'Fading',
  'Slow',
  'Bright',
  'Last',
  'First',
  'Little',
  'Broken',
  'Open',
  'Falling',
  'Rising',
];
const BAND_NOUNS = [
  'Lanterns',
  'Rivers',
  'Wolves',
  'Signals',
  'Engines',
  'Satellites',
  'Owls',
  'Tides',
  'Kings',
  'Echoes',
  'Machines',
  'Saints',
];
const CONNECTORS = ['of the', 'in the', 'on the', 'for the', 'under the', 'and the'];

/** A pronounceable made-up word of 1–3 syllables, capitalised (e.g. `Velora`). */
export function syllableWord(rng: Rng, minSyllables = 1, maxSyllables = 3): string {
  const n = minSyllables + rng.int(maxSyllables - minSyllables + 1);
  let word = '';
  for (let i = 0; i < n; i++) {
    word += pick(rng, ONSETS) + pick(rng, VOWELS);
    if (i === n - 1) word += pick(rng, CODAS);
  }
  return word[0].toUpperCase() + word.slice(1);
}

/** A solo name (`Mira Kadesh`), a band (`The Copper Owls`) or one invented word (`Zorelai`). */
export function artistName(rng: Rng): string {
  const r = rng.next();
  if (r < 0.5) return `${syllableWord(rng, 2, 2)} ${syllableWord(rng, 2, 3)}`;
  if (r < 0.75) return `The ${pick(rng, WORDS)} ${pick(rng, BAND_NOUNS)}`;
  if (r < 0.9) return syllableWord(rng, 2, 3);
  return `${syllableWord(rng, 1, 2)} ${pick(rng, BAND_NOUNS)}`;
}

/** An album title: English words, sometimes with an invented name. */
export function albumTitle(rng: Rng): string {
  const r = rng.next();
  if (r < 0.35) return `${pick(rng, WORDS)} ${pick(rng, WORDS)}`;
  if (r < 0.6) return pick(rng, WORDS);
  if (r < 0.8) return `${pick(rng, WORDS)} ${pick(rng, CONNECTORS)} ${pick(rng, WORDS)}`;
  return syllableWord(rng, 2, 3);
}

/** A track title, a little more varied than album titles. */
export function trackTitle(rng: Rng): string {
  const r = rng.next();
  if (r < 0.3) return `${pick(rng, WORDS)} ${pick(rng, WORDS)}`;
  if (r < 0.5) return `${pick(rng, WORDS)} ${pick(rng, CONNECTORS)} ${pick(rng, WORDS)}`;
  if (r < 0.7) return `${syllableWord(rng, 2, 3)} ${pick(rng, WORDS)}`;
  if (r < 0.85) return pick(rng, WORDS);
  return syllableWord(rng, 2, 3);
}

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[rng.int(list.length)];
}
