/**
 * A cover drawn from an item's id and tags, for catalogs without artwork: the first tag (the genre) sets the
 * hue family, mood tags set how bright and saturated it is, and the id places the shapes, so every item has
 * its own cover and items of one genre look related.
 */

/**
 * FNV-1a with murmur3's final mix: a small, stable string hash (the same cover on every load and in every
 * browser). The final mix matters: names that differ in their last letter ("genre2", "genre4") must not
 * land on neighbouring hues.
 */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const MOOD_LIGHT: Record<string, { s: number; l: number }> = {
  calm: { s: 35, l: 62 },
  mellow: { s: 45, l: 55 },
  upbeat: { s: 75, l: 55 },
  energetic: { s: 90, l: 50 },
  dark: { s: 40, l: 28 },
  melancholic: { s: 30, l: 40 },
  bright: { s: 80, l: 65 },
  happy: { s: 85, l: 60 },
};

/** The cover as SVG markup (viewBox 0 0 100 100); `label` becomes its accessible title. */
export function coverSvg(id: string, tags: readonly string[], label: string): string {
  const genre = tags.find((t) => !(t in MOOD_LIGHT)) ?? id;
  const mood = tags.find((t) => t in MOOD_LIGHT);
  const { s, l } = mood ? MOOD_LIGHT[mood] : { s: 60, l: 50 };
  const base = hash(genre) % 360;
  let seed = hash(id);
  const next = () => {
    // xorshift32 from the id: the shapes' places and sizes.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const hsl = (dh: number, dl: number, a = 1) =>
    `hsla(${(base + dh + 360) % 360},${s}%,${Math.max(8, Math.min(92, l + dl))}%,${a})`;
  const shapes: string[] = [];
  for (let k = 0; k < 4; k++) {
    const cx = (next() * 100).toFixed(1);
    const cy = (next() * 100).toFixed(1);
    const r = (18 + next() * 34).toFixed(1);
    shapes.push(`<circle cx="${cx}" cy="${cy}" r="${r}" fill="${hsl(30 * (k - 1.5), 12 - 8 * k, 0.75)}"/>`);
  }
  const angle = Math.floor(next() * 180);
  shapes.push(
    `<rect x="-20" y="44" width="140" height="${(6 + next() * 10).toFixed(1)}" fill="${hsl(180, 25, 0.55)}" transform="rotate(${angle} 50 50)"/>`,
  );
  const title = label.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" role="img" aria-label="${title}">` +
    `<title>${title}</title><rect width="100" height="100" fill="${hsl(0, -22)}"/>${shapes.join('')}</svg>`
  );
}

/** The cover as a data: URL, for an `<img src>`. */
export function coverDataUrl(id: string, tags: readonly string[], label: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(coverSvg(id, tags, label))}`;
}
