import { engineError } from '../errors.ts';
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

/** Days held out at the end of the data by a split by time. */
export interface TimeSplitOptions {
  /** Days at the end whose sessions are the test part, e.g. 1. */
  testDays: number;
  /** Days just before the test days whose sessions are the validation part, e.g. 1. */
  validationDays: number;
}

export const DEFAULT_TIME_SPLIT: TimeSplitOptions = { testDays: 1, validationDays: 1 };

const DAY_MS = 86_400_000;

/**
 * Splits sessions by their start time (`startMs`): the sessions starting in the last `testDays` before the
 * latest start are the test part, the `validationDays` before those the validation part, the rest train. Each
 * part is ordered by start time (ties keep input order), so "later in training" means "more recent" for the
 * kNN baselines. Throws ENGINE_SPLIT_NO_TIME when a session has no `startMs`.
 */
export function splitSessionsByTime<T extends { id: string; startMs?: number }>(
  sessions: readonly T[],
  options: Partial<TimeSplitOptions> = {},
): Split<T> & { testFromMs: number; validationFromMs: number } {
  const { testDays, validationDays } = { ...DEFAULT_TIME_SPLIT, ...options };
  if (!(testDays > 0 && validationDays >= 0)) {
    throw new RangeError(`testDays (${testDays}) must be > 0 and validationDays (${validationDays}) ≥ 0.`);
  }
  const untimed = sessions.find((s) => s.startMs === undefined);
  if (untimed) {
    throw engineError(
      'ENGINE_SPLIT_NO_TIME',
      `session ${JSON.stringify(untimed.id)} has no startMs, so sessions cannot be split by time; ` +
        'split by session instead (--split session), or give every session a startMs (docs/data-format.md).',
      { details: { session: untimed.id } },
    );
  }
  const ordered = sessions
    .map((s, i) => ({ s, i, t: s.startMs as number }))
    .sort((a, b) => a.t - b.t || a.i - b.i);
  const latest = ordered.length > 0 ? ordered[ordered.length - 1].t : 0;
  const testFromMs = latest - testDays * DAY_MS;
  const validationFromMs = testFromMs - validationDays * DAY_MS;
  const out: Split<T> = { train: [], validation: [], test: [] };
  for (const { s, t } of ordered) {
    (t > testFromMs ? out.test : t > validationFromMs ? out.validation : out.train).push(s);
  }
  return { ...out, testFromMs, validationFromMs };
}

/** How `omakase train` and `omakase eval` split sessions; both must be given the same. */
export type SplitMode = { kind: 'session'; seed: number } | ({ kind: 'time' } & TimeSplitOptions);

/** Splits by `mode` and says in words how, for reports and model cards. */
export function splitByMode<T extends { id: string; startMs?: number }>(
  sessions: readonly T[],
  mode: SplitMode,
): Split<T> & { description: string } {
  if (mode.kind === 'session') {
    const split = splitSessions(sessions, { seed: mode.seed });
    return {
      ...split,
      description: `by session, seed ${mode.seed}: ${split.train.length} train / ${split.validation.length} validation / ${split.test.length} test`,
    };
  }
  const split = splitSessionsByTime(sessions, mode);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  return {
    ...split,
    description:
      `by time: test = sessions starting after ${day(split.testFromMs)} UTC (last ${mode.testDays} d), ` +
      `validation = the ${mode.validationDays} d before; ${split.train.length} train / ${split.validation.length} validation / ${split.test.length} test`,
  };
}

/**
 * As session-rec does after a split by time: drops the held-out plays of items never played in training
 * (nobody can rank those from the training data), then the held-out sessions left with under 2 plays.
 */
export function dropUnseenItems<T extends { items: readonly { id: string }[] }>(split: Split<T>): Split<T> {
  const known = new Set(split.train.flatMap((s) => s.items.map((p) => p.id)));
  const keep = (part: readonly T[]) =>
    part
      .map((s) => ({ ...s, items: s.items.filter((p) => known.has(p.id)) }))
      .filter((s) => s.items.length >= 2);
  return { train: split.train, validation: keep(split.validation), test: keep(split.test) };
}
