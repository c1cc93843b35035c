import type { RefreshQueue } from './refreshQueue.ts';

/**
 * When a session's background refresh (a decision for a pool that still serves) may begin. All sessions of
 * a node share one event loop, so a decision's synchronous work delays any answer that waits behind it.
 *
 * - A refresh that a command makes due begins after that command's caller has its answer (a turn of the
 *   loop after the call resolves, so a response written on resolution goes out first).
 * - It then waits until no command of another session is under way (at most `idleWaitMs`, so a busy node
 *   still refreshes its pools before they run dry), and then for its turn in the node's `RefreshQueue`. A
 *   command of its own session does not hold it back: that command may be a `more` waiting for it.
 *
 * Only when a refresh starts changes; what it decides does not (the machine reads its clock before it waits).
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
  /** Commands under way, all sessions. */
  private underWay = 0;
  /** Refreshes waiting for a moment with no command under way. */
  private readonly idleWaiters: { sessionId: string; go: () => void }[] = [];
  private readonly idleWaitMs: number;

  constructor(
    readonly queue: RefreshQueue,
    options: { idleWaitMs?: number } = {},
  ) {
    this.idleWaitMs = options.idleWaitMs ?? 50;
  }

  /** Resolves with the function to call when the refresh is done, or undefined when `signal` aborted first. */
  async slot(sessionId: string, signal: AbortSignal): Promise<(() => void) | undefined> {
    const held = this.answering.get(sessionId);
    if (held) await new Promise<void>((resolve) => held.push(resolve));
    await this.idle(sessionId);
    return this.queue.acquire(signal);
  }

  /** Marks a command of `sessionId` as under way; call the returned function once it is answered. */
  hold(sessionId: string): () => void {
    const held: (() => void)[] = [];
    // A session's calls are serialized, so one command of a session is under way at a time.
    this.answering.set(sessionId, held);
    this.underWay++;
    this.wake();
    return () => {
      if (this.answering.get(sessionId) === held) this.answering.delete(sessionId);
      this.underWay--;
      if (held.length > 0)
        setImmediate(() => {
          for (const go of held) go();
        });
      this.wake();
    };
  }

  /** Commands under way on this node (for tests and gauges). */
  get commands(): number {
    return this.underWay;
  }

  /** Whether every command under way (if any) is of `sessionId`. */
  private quiet(sessionId: string): boolean {
    return this.underWay - (this.answering.has(sessionId) ? 1 : 0) === 0;
  }

  private wake(): void {
    if (this.idleWaiters.length === 0) return;
    // Oldest first, so they reach the queue in the order they fell due.
    const ready = this.idleWaiters.filter((w) => this.quiet(w.sessionId));
    for (const waiter of ready) {
      this.idleWaiters.splice(this.idleWaiters.indexOf(waiter), 1);
      waiter.go();
    }
  }

  private idle(sessionId: string): Promise<void> {
    if (this.quiet(sessionId)) return Promise.resolve();
    return new Promise((resolve) => {
      let done = false;
      const go = () => {
        if (done) return;
        done = true;
        clearTimeout(late);
        resolve();
      };
      const waiter = { sessionId, go };
      const late = setTimeout(() => {
        const at = this.idleWaiters.indexOf(waiter);
        if (at >= 0) this.idleWaiters.splice(at, 1);
        go();
      }, this.idleWaitMs);
      late.unref?.();
      this.idleWaiters.push(waiter);
    });
  }
}
