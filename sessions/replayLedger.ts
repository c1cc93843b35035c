import type { Pick } from '../engine/pick.ts';
import { deliver, withdraw } from './lookahead.ts';
import type { LogCommand, LogDecision, LogStart, ReplayLog } from './replayLog.ts';
import type { DeliveredItem } from './sessionService.ts';

/**
 * Walks a session log the way the session layer lived it: the lookahead buffer, deliveries and their seqs,
 * held `feed.more` calls, and one copy of the session per node with compare-and-swap writes, so a copy that
 * lost a store race (its node had been taken over) does not leak into the stored session. Every logged event
 * was such a write (the manager appends each one fenced by the session's version), so each one lands unless
 * its node's copy was stale. The engine part is left to the caller: a replay runs a real engine, an export
 * reads the logged picks.
 */
export interface LedgerSteps<S> {
  start(entry: LogStart): S;
  decide(state: S, entry: LogDecision): Promise<{ state: S; picks: Pick[] }>;
  /** An accepted feedback (with the delivered item its seq names) or steer; returns the withdrawn positions. */
  change(state: S, entry: LogCommand, item: DeliveredItem | undefined): { state: S; withdrawn: number[] };
  /** Items a `feed.more` delivered (for exports that map seqs to picks). */
  delivered?(items: DeliveredItem[], entry: LogCommand | LogDecision): void;
}

interface Copy<S> {
  state: S;
  /** Picked, not yet delivered. */
  buffer: Pick[];
  delivered: DeliveredItem[];
  lastSeq: number;
  /** A held `feed.more`: answered when a refill fills the buffer or the rules allow no more. */
  pending: LogCommand | null;
  /** The store version this copy was loaded or saved at. */
  version: number;
}

/** Deliveries kept for seq lookups; the manager keeps fewer (100 by default), so this never refuses one it took. */
const WINDOW = 100_000;

export async function walkLedger<S>(log: ReplayLog, steps: LedgerSteps<S>): Promise<void> {
  let saved: Copy<S> = {
    state: steps.start(log.start),
    buffer: [],
    delivered: [],
    lastSeq: 0,
    pending: null,
    version: 1,
  };
  let storeVersion = 1;
  const copies = new Map<string, Copy<S>>([[log.start.node, saved]]);

  /** A logged event: it lands only when nobody else wrote since this copy was loaded. */
  const save = (node: string, copy: Copy<S>) => {
    if (copy.version !== storeVersion) {
      // SESSION_STORE_CONFLICT: that node dropped its copy; its next call loads the saved one.
      copies.delete(node);
      return;
    }
    storeVersion++;
    saved = { ...copy, version: storeVersion };
    copies.set(node, saved);
  };

  const deliverTo = (copy: Copy<S>, n: number, entry: LogCommand | LogDecision): Copy<S> => {
    const out = deliver(copy.buffer, copy.delivered, copy.lastSeq, n, WINDOW);
    const items = out.delivered.slice(out.delivered.length - out.seqs.length);
    steps.delivered?.(items, entry);
    return { ...copy, buffer: out.buffer, delivered: out.delivered, lastSeq: out.lastSeq, pending: null };
  };

  for (const entry of log.entries) {
    const { node } = entry;
    let copy = copies.get(node);
    // A node without a copy (first call there, or after a conflict) loads the saved session; a resume
    // always reloads when the store moved on.
    const reload =
      copy === undefined ||
      (entry.kind === 'command' && entry.type === 'client.resumed' && copy.version !== storeVersion);
    if (reload) copy = { ...saved };
    if (!copy) continue;

    if (entry.kind === 'decision') {
      const { state, picks } = await steps.decide(copy.state, entry);
      copy = { ...copy, state, buffer: [...copy.buffer, ...picks] };
      const exhausted = picks.length < entry.requested;
      const pending = copy.pending;
      if (pending && (copy.buffer.length >= pending.n! || exhausted))
        copy = deliverTo(copy, pending.n!, entry);
      copies.set(node, copy);
      save(node, copy);
      continue;
    }
    if (entry.kind === 'failure') {
      // A held `feed.more` is answered with SESSION_ENGINE_FAILED.
      copy = { ...copy, pending: null };
      copies.set(node, copy);
      save(node, copy);
      continue;
    }
    if (entry.ok === false) {
      // Refused: nothing changed.
      copies.set(node, copy);
      continue;
    }
    if (entry.type === 'feed.more' && entry.ok === undefined && copy.buffer.length < entry.n!) {
      // Held when the buffer could not cover it (the machine's own test); a logged `ok` says it was answered at once.
      copy = { ...copy, pending: entry };
    } else if (entry.type === 'client.resumed' || entry.type === 'client.disconnected') {
      // A `more` still held for the old connection died with it.
      copy = { ...copy, pending: null };
    } else if (entry.type === 'feed.more') {
      copy = deliverTo(copy, entry.n!, entry);
    } else if (entry.type === 'user.feedback' || entry.type === 'user.steer') {
      const item =
        entry.type === 'user.feedback'
          ? copy.delivered.find((d) => d.seq === entry.feedback!.seq)
          : undefined;
      const { state, withdrawn } = steps.change(copy.state, entry, item);
      const out = withdraw(copy.buffer, copy.delivered, withdrawn);
      copy = { ...copy, state, buffer: out.buffer, delivered: out.delivered };
    }
    copies.set(node, copy);
    save(node, copy);
  }
}
