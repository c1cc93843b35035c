import { deriveSeed, hashString } from '../rng.ts';

/** Shares of sessions held out, and the seed that decides which. */
export interface SplitOptions {
  seed: number;
  /** Share of sessions for validation (tuning), e.g. 0.1. */
  validation: number;
  /** Share of sessions for the final test, e.g. 0.15. */
  test: number;
}

export const DEFAULT_SPLIT: SplitOptions = { seed: 42, validation: 0.1, test: 0.15 };

export interface Split<T> {
  train: T[];
  validation: T[];
  test: T[];
}

/**
 * Splits sessions (never plays) into train / validation / test with a fixed seed. Which part a session
 * lands in depends only on the seed and its id, not on file order; each part keeps the input order
 * (the kNN baselines read later training sessions as more recent).
 */
export function splitSessions<T extends { id: string }>(
  sessions: readonly T[],
  options: Partial<SplitOptions> = {},
): Split<T> {
  const { seed, validation, test } = { ...DEFAULT_SPLIT, ...options };
  if (!(validation >= 0 && test >= 0 && validation + test < 1)) {
    throw new RangeError(`validation (${validation}) and test (${test}) shares must be ≥ 0 and sum below 1.`);
  }
  const key = sessions.map((s, i) => ({ i, h: deriveSeed(seed, hashString(s.id)) >>> 0, id: s.id }));
  key.sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : a.id > b.id ? 1 : a.i - b.i));
  const nTest = Math.round(sessions.length * test);
  const nValidation = Math.round(sessions.length * validation);
  const part = new Uint8Array(sessions.length);
  key.forEach((k, rank) => {
    part[k.i] = rank < nTest ? 2 : rank < nTest + nValidation ? 1 : 0;
  });
  const out: Split<T> = { train: [], validation: [], test: [] };
  sessions.forEach((s, i) => {
    (part[i] === 2 ? out.test : part[i] === 1 ? out.validation : out.train).push(s);
  });
  return out;
}
