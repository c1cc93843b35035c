import type { Catalog } from '../catalog.ts';
import type { Outcome } from '../session.ts';

/** The part of a logged session the transition index reads. */
export interface PlaySequence {
  items: readonly { id: string; outcome?: Outcome }[];
}

/**
 * Co-occurrence/transition neighbours learned from logged sessions: for each item, the items that followed
 * it (weight 1) or came two steps later (weight 0.5) and were not skipped or disliked, top `perItem` kept,
 * weights scaled to [0, 1] per item. Stored flat (CSR) so a large catalog costs a few arrays.
 */
export class TransitionIndex {
  private constructor(
    private readonly offsets: Int32Array,
    private readonly targets: Int32Array,
    private readonly weights: Float32Array,
  ) {}

  static empty(catalog: Catalog): TransitionIndex {
    return new TransitionIndex(new Int32Array(catalog.size + 1), new Int32Array(0), new Float32Array(0));
  }

  static fromSessions(catalog: Catalog, sessions: readonly PlaySequence[], perItem = 50): TransitionIndex {
    const counts = new Map<number, Map<number, number>>();
    const add = (a: number, b: number, w: number) => {
      if (a === b) return;
      let row = counts.get(a);
      if (!row) {
        row = new Map();
        counts.set(a, row);
      }
      row.set(b, (row.get(b) ?? 0) + w);
    };
    for (const session of sessions) {
      const idx = session.items.map((p) => ({
        i: catalog.indexOf(p.id),
        ok: p.outcome === undefined || p.outcome === 'completed' || p.outcome === 'liked',
      }));
      for (let t = 0; t < idx.length; t++) {
        const from = idx[t];
        if (from.i === undefined || !from.ok) continue;
        for (let step = 1; step <= 2 && t + step < idx.length; step++) {
          const to = idx[t + step];
          if (to.i !== undefined && to.ok) add(from.i, to.i, step === 1 ? 1 : 0.5);
        }
      }
    }
    const offsets = new Int32Array(catalog.size + 1);
    const rows: [number, number][][] = new Array(catalog.size);
    let total = 0;
    for (let i = 0; i < catalog.size; i++) {
      const row = counts.get(i);
      const top = row ? [...row].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, perItem) : [];
      rows[i] = top;
      offsets[i] = total;
      total += top.length;
    }
    offsets[catalog.size] = total;
    const targets = new Int32Array(total);
    const weights = new Float32Array(total);
    for (let i = 0; i < catalog.size; i++) {
      const top = rows[i];
      const max = top.length > 0 ? top[0][1] : 1;
      top.forEach(([j, w], k) => {
        targets[offsets[i] + k] = j;
        weights[offsets[i] + k] = w / max;
      });
    }
    return new TransitionIndex(offsets, targets, weights);
  }

  /** Neighbours of one item, strongest first. */
  neighbours(index: number): { targets: Int32Array; weights: Float32Array } {
    const from = this.offsets[index];
    const to = this.offsets[index + 1];
    return { targets: this.targets.subarray(from, to), weights: this.weights.subarray(from, to) };
  }

  get edgeCount(): number {
    return this.targets.length;
  }
}
