import type { RefreshQueue, RefreshRun } from './refreshQueue.ts';

/**
 * When a session's background refresh (a decision for a pool that still serves) may begin. All sessions of
 * a node share one event loop, so a decision's synchronous work delays any answer that waits behind it.
 *
 * - A refresh that a command makes due begins after that command's caller has its answer (a turn of the
 *   loop after the call resolves, so a response written on resolution goes out first).
 * - It then waits for its turn in the node's `RefreshQueue`.
 *
 * Only when a refresh starts changes; what it decides does not (the machine reads its clock before it waits).
 * (A wait for a moment when no other session's command is under way was tried, for voice devices sharing a
 * node; `bench:voice` showed no gain, so it is not here.)
 *
 * @example
 * const slots = new RefreshSlots(new RefreshQueue());
 * const machine = createSessionMachine({ engine, now, refreshSlot: (id, signal) => slots.slot(id, signal) });
 * const done = slots.hold(sessionId); // around each command
 * try { return await run(); } finally { done(); }
 */
export class RefreshSlots {
  /** Sessions with a command under way → refreshes it made due, held until it is answered. */
  private readonly answering = new Map<string, (() => void)[]>();

  constructor(readonly queue: RefreshQueue) {}

  /** Resolves with the function to run the refresh with, or undefined when `signal` aborted first. */
  async slot(sessionId: string, signal: AbortSignal): Promise<RefreshRun | undefined> {
    const held = this.answering.get(sessionId);
    if (held) await new Promise<void>((resolve) => held.push(resolve));
    return this.queue.acquire(signal);
  }

  /** Marks a command of `sessionId` as under way; call the returned function once it is answered. */
  hold(sessionId: string): () => void {
    const held: (() => void)[] = [];
    // A session's calls are serialized, so one command of a session is under way at a time.
    this.answering.set(sessionId, held);
    return () => {
      if (this.answering.get(sessionId) === held) this.answering.delete(sessionId);
      if (held.length > 0)
        setImmediate(() => {
          for (const go of held) go();
        });
    };
  }
}
