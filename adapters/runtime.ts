import { fileURLToPath } from 'node:url';
import { Catalog } from '../engine/catalog.ts';
import { readCatalogFile } from '../engine/catalogFile.ts';
import type { EngineConfig } from '../engine/config.ts';
import { DEFAULT_CONFIG } from '../engine/config.ts';
import { generateDemoCatalog } from '../engine/demo/demoCatalog.ts';
import { generateDemoSessions } from '../engine/demo/demoSessions.ts';
import { createEngine, type Engine } from '../engine/engine.ts';
import { SessionKnnIndex } from '../engine/retrieval/sessionKnnIndex.ts';
import { TransitionIndex } from '../engine/retrieval/transitionIndex.ts';
import { SequenceIndex } from '../engine/sequenceIndex.ts';
import { readSessionsFile } from '../engine/sessionsFile.ts';
import { createFallbackScorer } from '../models/fallbackScorer.ts';
import { loadModel } from '../models/loadModel.ts';
import type { ModelCard } from '../models/modelCard.ts';
import type { Scorer } from '../models/scorer.ts';

/** The model trained on the demo sessions and shipped in the repository (`npm run train:demo` rebuilds it). */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../models/default', import.meta.url));
/** Seed of the built-in demo catalog and its logged sessions; the default model was trained on them. */
export const DEMO_SEED = 1;
export const DEMO_SESSIONS = 3000;

export interface RuntimeOptions {
  /** A JSONL catalog; the built-in demo catalog when absent. */
  catalogPath?: string;
  /** Logged sessions (JSONL) for the transition memory; the demo's own sessions with the demo catalog. */
  sessionsPath?: string;
  /** A model directory (model.onnx + model-card.json); the shipped default model when absent. */
  modelDir?: string;
  config?: Partial<EngineConfig>;
  /** Called with a warning the user should see (e.g. the model could not load and the engine runs degraded). */
  warn?: (message: string) => void;
}

export interface Runtime {
  engine: Engine;
  catalog: Catalog;
  card?: ModelCard;
  transitions: TransitionIndex;
  sessions: SessionKnnIndex;
  sequences: SequenceIndex;
  description: string;
  /** A model was asked for (or is the demo's) but could not be loaded: the engine serves degraded. */
  modelFailed: boolean;
}

/**
 * The engine's history window that lets feedback reach every item a session keeps for resend: the session
 * keeps its last `historyWindow` delivered items, and picks are decided at delivery, so the engine's history
 * holds nothing else and needs to be no longer than the session's window (and never shorter than the
 * engine's default, which its features read).
 */
export function engineHistoryWindow(historyWindow: number): number {
  return Math.max(historyWindow, DEFAULT_CONFIG.historyWindow);
}

/** The composition root of the engine: catalog, transition memory and model, from files or the demo. */
export async function loadRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const demo = options.catalogPath === undefined;
  const catalog = demo
    ? new Catalog(generateDemoCatalog({ seed: DEMO_SEED }))
    : await readCatalogFile(options.catalogPath!);
  const logged =
    options.sessionsPath !== undefined
      ? await readSessionsFile(options.sessionsPath)
      : demo
        ? generateDemoSessions(catalog, { seed: DEMO_SEED, sessions: DEMO_SESSIONS })
        : undefined;
  const transitions = logged ? TransitionIndex.fromSessions(catalog, logged) : TransitionIndex.empty(catalog);
  const sessions = logged ? SessionKnnIndex.fromSessions(catalog, logged) : SessionKnnIndex.empty(catalog);
  const sequences = logged ? SequenceIndex.fromSessions(catalog, logged) : SequenceIndex.empty(catalog);

  let scorer: Scorer;
  let card: ModelCard | undefined;
  let modelFailed = false;
  const modelDir = options.modelDir ?? (demo ? DEFAULT_MODEL_DIR : undefined);
  if (modelDir === undefined) {
    options.warn?.('No --model given: ranking with the simple fallback scorer; picks are marked degraded.');
    scorer = createFallbackScorer();
  } else {
    try {
      ({ scorer, card } = await loadModel(modelDir));
    } catch (err) {
      modelFailed = true;
      // The stream never stops for a model: say why, and serve degraded.
      options.warn?.(
        `${(err as Error).message} Serving with the fallback scorer; picks are marked degraded.`,
      );
      scorer = createFallbackScorer();
    }
  }
  const engine = createEngine({ catalog, scorer, transitions, sessions, sequences, config: options.config });
  const description = `${demo ? 'demo catalog' : options.catalogPath} (${catalog.size} items), model ${scorer.id}`;
  return { engine, catalog, card, transitions, sessions, sequences, description, modelFailed };
}
