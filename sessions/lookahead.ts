import type { Pick } from '../engine/pick.ts';
import type { DeliveredItem } from './sessionService.ts';

/** Delivered and withdrawn bookkeeping for the session machine: pure functions over plain JSON. */

/** The next `n` buffered picks become delivered items with consecutive seqs after `lastSeq`. */
export function deliver(
  buffer: readonly Pick[],
  delivered: readonly DeliveredItem[],
  lastSeq: number,
  n: number,
  window: number,
): { buffer: Pick[]; delivered: DeliveredItem[]; lastSeq: number; seqs: number[] } {
  const taken = buffer.slice(0, Math.max(0, n));
  // New keys before the spread: on Node 20, adding keys to a spread copy costs microseconds per item.
  const items = taken.map((pick, i) => ({ seq: lastSeq + 1 + i, degraded: pick.reasons.degraded, ...pick }));
  return {
    buffer: buffer.slice(taken.length),
    delivered: [...delivered, ...items].slice(-window),
    lastSeq: lastSeq + items.length,
    seqs: items.map((item) => item.seq),
  };
}

/**
 * Drops withdrawn positions from the buffer (silently) and the window (their seqs are invalidated). With
 * nothing withdrawn (most feedback) both come back as they are, uncopied: neither is ever mutated.
 */
export function withdraw(
  buffer: Pick[],
  delivered: DeliveredItem[],
  positions: readonly number[],
): { buffer: Pick[]; delivered: DeliveredItem[]; invalidated: number[] } {
  if (positions.length === 0) return { buffer, delivered, invalidated: [] };
  const gone = new Set(positions);
  return {
    buffer: buffer.filter((pick) => !gone.has(pick.pos)),
    delivered: delivered.filter((item) => !gone.has(item.pos)),
    invalidated: delivered.filter((item) => gone.has(item.pos)).map((item) => item.seq),
  };
}
