import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Layers from the top down: a file may import its own layer or a lower one, never a higher one. */
const LAYERS = ['adapters', 'sessions', 'engine', 'models'] as const;
const ROOT = resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)].map((m) =>
    relative(ROOT, resolve(ROOT, file, '..', m[1])),
  );
}

describe('architecture', () => {
  it('dependencies point one way: adapters → sessions → engine → models', () => {
    const upward: string[] = [];
    for (const layer of LAYERS) {
      const rank = LAYERS.indexOf(layer);
      for (const file of sources(layer)) {
        for (const target of importsOf(file)) {
          const targetLayer = target.split('/')[0] as (typeof LAYERS)[number];
          if (LAYERS.includes(targetLayer) && LAYERS.indexOf(targetLayer) < rank)
            upward.push(`${file} → ${target}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it('the engine stays pure: no clock, no randomness, no sockets or stores', () => {
    const impure: string[] = [];
    for (const file of sources('engine')) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      if (/Date\.now\(|Math\.random\(|from ['"](ws|ioredis|xstate)['"]/.test(text)) impure.push(file);
    }
    expect(impure).toEqual([]);
  });

  it('finds the imports it checks (the check itself works)', () => {
    expect(importsOf('adapters/runtime.ts')).toContain('engine/engine.ts');
  });
});
