import type { PickReasons } from '../engine/pick.ts';

/** The reasons of an item no engine picked (the benches' instant services): all zero, no rule met. */
export const blankReasons = (model: string): PickReasons => ({
  source: [],
  score: 0,
  rank: 0,
  mmr: 0,
  explored: false,
  degraded: false,
  model,
  rules: [],
  removed: {},
  candidates: 0,
});
