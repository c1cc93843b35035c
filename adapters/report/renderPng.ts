import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';

/** Font files tried before the system fonts, so labels render the same on a bare CI image. */
const FONT_FILES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf',
];

/** Renders an SVG string to PNG bytes at `scale` × its size (2 = sharp on high-density screens). */
export function renderPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    background: '#ffffff',
    fitTo: { mode: 'zoom', value: scale },
    font: {
      loadSystemFonts: true,
      fontFiles: FONT_FILES.filter((f) => existsSync(f)),
      defaultFontFamily: 'DejaVu Sans',
    },
  });
  return resvg.render().asPng();
}
