import type { Pick } from '../engine/pick.ts';
import type { DeliveredItem } from './sessionService.ts';

/** Delivered and withdrawn bookkeeping for the session machine: pure functions over plain JSON. */

/** Picks become delivered items with consecutive seqs after `lastSeq`; the window keeps the latest `window`. */
export function deliver(
  picks: readonly Pick[],
  delivered: readonly DeliveredItem[],
  lastSeq: number,
  window: number,
): { delivered: DeliveredItem[]; lastSeq: number; seqs: number[] } {
  // New keys before the spread: on Node 20, adding keys to a spread copy costs microseconds per item.
  const items = picks.map((pick, i) => ({ seq: lastSeq + 1 + i, degraded: pick.reasons.degraded, ...pick }));
  const all =
    delivered.length + items.length > window
      ? [...delivered, ...items].slice(-window)
      : [...delivered, ...items];
  return { delivered: all, lastSeq: lastSeq + items.length, seqs: items.map((item) => item.seq) };
}

/**
 * Drops withdrawn positions from the window (their seqs are invalidated). With nothing withdrawn (most
 * feedback) the window comes back as it is, uncopied: it is never mutated.
 */
export function withdraw(
  delivered: DeliveredItem[],
  positions: readonly number[],
): { delivered: DeliveredItem[]; invalidated: number[] } {
  if (positions.length === 0) return { delivered, invalidated: [] };
  const gone = new Set(positions);
  return {
    delivered: delivered.filter((item) => !gone.has(item.pos)),
    invalidated: delivered.filter((item) => gone.has(item.pos)).map((item) => item.seq),
  };
}
