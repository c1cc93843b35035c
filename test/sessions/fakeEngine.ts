import type { Catalog } from '../../engine/catalog.ts';
import { createEngine, type Engine, type EngineResources } from '../../engine/engine.ts';
import { createFallbackScorer } from '../../models/fallbackScorer.ts';
import { smallCatalog } from '../engine/fixtures.ts';

/**
 * The real engine on a small catalog (`smallCatalog`) with the fallback scorer, for machine and manager
 * tests, wrapped so a test can see and steer its decisions: `calls.score` counts them, `failNextWith` makes
 * the next one reject, and `hold()` keeps the next decisions from landing until `release()`.
 */
export function fakeEngine(
  options: { items?: number; artists?: number; catalog?: Catalog; config?: EngineResources['config'] } = {},
) {
  const catalog =
    options.catalog ?? smallCatalog({ items: options.items ?? 400, artists: options.artists ?? 40 });
  const real = createEngine({ catalog, scorer: createFallbackScorer(), config: options.config });
  const calls = { score: 0 };
  let failNext: Error | undefined;
  let gate: { promise: Promise<void>; open(): void } | undefined;
  const engine: Engine = {
    ...real,
    catalog: real.catalog,
    modelId: real.modelId,
    async score(state, opts) {
      calls.score++;
      const waitFor = gate?.promise;
      if (waitFor) await waitFor;
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      return real.score(state, opts);
    },
  };
  return {
    engine,
    real,
    catalog,
    calls,
    /** The next `score` call rejects with `err`. */
    failNextWith(err: Error) {
      failNext = err;
    },
    /** Decisions begun from now on wait until `release()`. */
    hold() {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => {
        open = resolve;
      });
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
  };
}
