/** One labelled point of the scatter plot. */
export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
  /** Drawn as a larger diamond (our engine), so it stands out from the baselines. */
  highlight?: boolean;
}

export interface ScatterOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  /** Where the better corner is, written under the title (e.g. "better: right and down"). */
  hint?: string;
  width?: number;
  height?: number;
  format?: (v: number) => string;
}

/** Tableau 10: distinct hues that stay apart for colour-blind readers better than a rainbow does. */
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const;

/** Highlighted points (our engine) take these, so no baseline shares a colour with them. */
const HIGHLIGHT_PALETTE = ['#1a1a1a', '#d81b60', '#00897b'] as const;

/** Each point's fill: baselines cycle through PALETTE, highlighted points through HIGHLIGHT_PALETTE. */
function colours(points: readonly ScatterPoint[]): string[] {
  let plain = 0;
  let strong = 0;
  return points.map((p) =>
    p.highlight ? HIGHLIGHT_PALETTE[strong++ % HIGHLIGHT_PALETTE.length] : PALETTE[plain++ % PALETTE.length],
  );
}

const FONT = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";

/**
 * A scatter plot as a standalone SVG string: axes with "nice" ticks, light grid, one marker and one label
 * per point (labels nudged apart when they would collide), a legend, title and axis titles.
 */
export function scatterPlotSvg(points: readonly ScatterPoint[], options: ScatterOptions): string {
  const width = options.width ?? 960;
  const height = options.height ?? 620;
  // Subtitle and hint share a line when they fit, else the hint goes on a second one.
  const oneLine = [options.subtitle, options.hint].filter(Boolean).join('   ·   ');
  const subLines =
    textWidth(oneLine, 14) <= width - 86 - 24
      ? [oneLine].filter(Boolean)
      : [options.subtitle ?? '', options.hint ?? ''].filter(Boolean);
  const margin = {
    top: 64 + 28 * Math.min(subLines.length, 1) + 18 * Math.max(0, subLines.length - 1),
    right: 210,
    bottom: 74,
    left: 86,
  };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs = niceScale(points.map((p) => p.x));
  const ys = niceScale(points.map((p) => p.y));
  const fmtX = options.format ?? tickFormat(xs.step);
  const fmtY = options.format ?? tickFormat(ys.step);
  const px = (v: number) => margin.left + ((v - xs.min) / (xs.max - xs.min)) * plotW;
  const py = (v: number) => margin.top + plotH - ((v - ys.min) / (ys.max - ys.min)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="34" font-size="21" font-weight="bold" fill="#222">${esc(options.title)}</text>`,
  );
  subLines.forEach((line, i) => {
    out.push(`<text x="${margin.left}" y="${60 + 18 * i}" font-size="14" fill="#555">${esc(line)}</text>`);
  });

  // Grid and ticks.
  out.push('<g class="grid" stroke="#e6e6e6" stroke-width="1">');
  for (const t of xs.ticks)
    out.push(`<line x1="${r(px(t))}" y1="${margin.top}" x2="${r(px(t))}" y2="${margin.top + plotH}"/>`);
  for (const t of ys.ticks)
    out.push(`<line x1="${margin.left}" y1="${r(py(t))}" x2="${margin.left + plotW}" y2="${r(py(t))}"/>`);
  out.push('</g>');
  out.push(
    `<g class="axes" stroke="#333" stroke-width="1.5">`,
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}"/>`,
    '</g>',
  );
  out.push('<g class="ticks" font-size="13" fill="#333">');
  for (const t of xs.ticks) {
    const x = r(px(t));
    out.push(
      `<line x1="${x}" y1="${margin.top + plotH}" x2="${x}" y2="${margin.top + plotH + 6}" stroke="#333"/>`,
      `<text x="${x}" y="${margin.top + plotH + 22}" text-anchor="middle">${esc(fmtX(t))}</text>`,
    );
  }
  for (const t of ys.ticks) {
    const y = r(py(t));
    out.push(
      `<line x1="${margin.left - 6}" y1="${y}" x2="${margin.left}" y2="${y}" stroke="#333"/>`,
      `<text x="${margin.left - 10}" y="${y + 4.5}" text-anchor="end">${esc(fmtY(t))}</text>`,
    );
  }
  out.push('</g>');
  out.push(
    `<text x="${margin.left + plotW / 2}" y="${height - 22}" font-size="15" text-anchor="middle" fill="#222">${esc(options.xLabel)}</text>`,
    `<text transform="translate(24 ${margin.top + plotH / 2}) rotate(-90)" font-size="15" text-anchor="middle" fill="#222">${esc(options.yLabel)}</text>`,
  );

  // Markers, then labels placed where they collide with nothing placed before.
  const placed: Box[] = points.map((p) => {
    const half = p.highlight ? 11 : 8;
    return { x: px(p.x) - half, y: py(p.y) - half, w: 2 * half, h: 2 * half };
  });
  const labels: string[] = [];
  const fills = colours(points);
  out.push('<g class="points">');
  points.forEach((p, i) => {
    const color = fills[i];
    const x = r(px(p.x));
    const y = r(py(p.y));
    out.push(
      p.highlight
        ? `<path class="point" data-label="${esc(p.label)}" d="M${x} ${y - 10}L${x + 10} ${y}L${x} ${y + 10}L${x - 10} ${y}Z" fill="${color}" fill-opacity="0.9" stroke="#222" stroke-width="1.5"/>`
        : `<circle class="point" data-label="${esc(p.label)}" cx="${x}" cy="${y}" r="7" fill="${color}" fill-opacity="0.9" stroke="#222" stroke-width="1"/>`,
    );
    const size = p.highlight ? 15 : 14;
    const w = textWidth(p.label, size);
    const box = placeLabel(px(p.x), py(p.y), w, size, p.highlight ? 15 : 11, placed, {
      x: margin.left,
      y: margin.top,
      w: plotW,
      h: plotH,
    });
    placed.push(box);
    labels.push(
      `<text class="label" x="${r(box.x)}" y="${r(box.y + size * 0.8)}" font-size="${size}"${p.highlight ? ' font-weight="bold"' : ''} fill="#222" stroke="#ffffff" stroke-width="3" paint-order="stroke">${esc(p.label)}</text>`,
    );
  });
  out.push('</g>', '<g class="labels">', ...labels, '</g>');

  // Legend, right of the plot.
  const lx = margin.left + plotW + 24;
  out.push(`<g class="legend" font-size="14" fill="#222">`);
  out.push(`<text x="${lx}" y="${margin.top + 4}" font-size="14" font-weight="bold">algorithm</text>`);
  points.forEach((p, i) => {
    const y = margin.top + 28 + i * 24;
    const color = fills[i];
    out.push(
      p.highlight
        ? `<path d="M${lx + 7} ${y - 12}L${lx + 14} ${y - 5}L${lx + 7} ${y + 2}L${lx} ${y - 5}Z" fill="${color}" stroke="#222"/>`
        : `<circle cx="${lx + 7}" cy="${y - 5}" r="6" fill="${color}" stroke="#222"/>`,
      `<text x="${lx + 22}" y="${y}">${esc(p.label)}</text>`,
    );
  });
  out.push('</g>', '</svg>');
  return out.join('\n');
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Tries positions around the marker (right first) and keeps the first that overlaps nothing. */
function placeLabel(
  cx: number,
  cy: number,
  w: number,
  h: number,
  gap: number,
  taken: readonly Box[],
  area: Box,
): Box {
  const tries: Box[] = [];
  for (const dy of [0, -16, 16, -32, 32, -48, 48]) {
    tries.push({ x: cx + gap, y: cy - h / 2 + dy, w, h });
    tries.push({ x: cx - gap - w, y: cy - h / 2 + dy, w, h });
  }
  tries.push({ x: cx - w / 2, y: cy - gap - h, w, h }, { x: cx - w / 2, y: cy + gap, w, h });
  const inside = (b: Box) =>
    b.x >= area.x && b.x + b.w <= area.x + area.w + 150 && b.y >= area.y - 4 && b.y + b.h <= area.y + area.h;
  const free = (b: Box) =>
    taken.every((t) => b.x + b.w <= t.x || t.x + t.w <= b.x || b.y + b.h <= t.y || t.y + t.h <= b.y);
  return tries.find((b) => inside(b) && free(b)) ?? tries.find(free) ?? tries[0];
}

/** A rough width of a label in DejaVu Sans (≈ 0.6 em per character). */
function textWidth(text: string, size: number): number {
  return text.length * size * 0.6;
}

/** Axis range and ticks at 1, 2 or 5 × 10^k, padded so no point sits on the frame. */
export function niceScale(
  values: readonly number[],
  count = 6,
): { min: number; max: number; step: number; ticks: number[] } {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (hi - lo < 1e-12) {
    const pad = Math.abs(hi) * 0.1 || 0.1;
    lo -= pad;
    hi += pad;
  }
  const pad = (hi - lo) * 0.08;
  const nonNegative = lo >= 0;
  lo -= pad;
  hi += pad;
  if (nonNegative && lo < 0) lo = 0;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = min; t <= max + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { min, max, step, ticks };
}

/** Tick labels with as many decimals as the step needs, the same for every tick (0.10, 0.15, 0.20). */
function tickFormat(step: number): (v: number) => string {
  let decimals = 0;
  while (decimals < 10 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6)
    decimals++;
  return (v) => v.toFixed(decimals);
}

function r(v: number): number {
  return Math.round(v * 10) / 10;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
