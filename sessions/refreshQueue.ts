/**
 * The node's background refreshes, taken in turn: at most `concurrency` run at once, and each is begun from a
 * `setImmediate` of its own, so a turn of the event loop begins at most a few of them.
 *
 * Why: a refresh is a whole decision (retrieval, features, a model call, the slate policy), and under load
 * hundreds of sessions' pools fall due together. Run as they fell due, their decisions filled each turn of
 * the loop for a second or more; Node accepts one new connection a turn, so `/healthz`, `/metrics` and new
 * sessions waited minutes in the listen queue while the sessions already open streamed on
 * (docs/operations.md, "The soak"). A refresh never holds an answer (the pool it refreshes still serves,
 * corrected for the feedback since), so it can wait its turn; the decisions a waiting `more` needs do not
 * come through here.
 *
 * @example
 * const release = await queue.acquire(signal);
 * if (release) try { await engine.score(state, { nowMs }); } finally { release(); }
 */
export interface RefreshQueueOptions {
  /** Refreshes running at once (default 2: one's model call on a worker thread, the other's retrieval here). */
  concurrency?: number;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
  /** Told how long each granted refresh waited, in ms (the `omakase_refresh_wait_seconds` metric). */
  onGrant?: (waitedMs: number) => void;
}

export class RefreshQueue {
  private readonly waiting: { grant: (release: (() => void) | undefined) => void; since: number }[] = [];
  private running = 0;
  private pumping = false;

  private readonly concurrency: number;
  private readonly now: () => number;
  private readonly onGrant: ((waitedMs: number) => void) | undefined;

  constructor(options: RefreshQueueOptions = {}) {
    this.concurrency = options.concurrency ?? 2;
    this.now = options.now ?? (() => performance.now());
    this.onGrant = options.onGrant;
  }

  /** Refreshes waiting for their turn. */
  get length(): number {
    return this.waiting.length;
  }

  /** How long the refresh first in line has waited (0 when none waits), in ms. */
  oldestWaitMs(): number {
    const first = this.waiting[0];
    return first === undefined ? 0 : this.now() - first.since;
  }

  /**
   * Resolves with `release` (call it when the refresh is done) when this refresh's turn comes, or with
   * undefined when `signal` aborts first (the session stopped: its refresh is not worth making).
   */
  acquire(signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const entry = { grant: resolve, since: this.now() };
      this.waiting.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) {
            this.waiting.splice(i, 1);
            resolve(undefined);
          }
        },
        { once: true },
      );
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pumping || this.running >= this.concurrency || this.waiting.length === 0) return;
    this.pumping = true;
    setImmediate(() => {
      this.pumping = false;
      const next = this.waiting.shift();
      if (next === undefined) return;
      this.running++;
      this.onGrant?.(this.now() - next.since);
      let released = false;
      next.grant(() => {
        if (released) return;
        released = true;
        this.running--;
        this.schedule();
      });
      // One grant per immediate: the next waits for the loop's next check phase.
      this.schedule();
    });
  }
}
