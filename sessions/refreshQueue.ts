/**
 * The node's background refreshes, taken in turns: each turn of the event loop grants as many as fit in a
 * time budget about equal to the time the rest of the node's work took since the last grant, so under load
 * refreshes and answers share the loop about half and half.
 *
 * Why: a refresh is a whole decision (retrieval, features, a model call, the slate policy), and under load
 * hundreds of sessions' pools fall due together. Run as they fell due, their decisions filled each turn of
 * the loop for a second or more; Node accepts one new connection a turn, so `/healthz`, `/metrics` and new
 * sessions waited minutes in the listen queue while the sessions already open streamed on
 * (docs/operations.md, "The soak"). Granting one refresh a turn went too far the other way: where turns are
 * long (many clients at once), pools went unrefreshed for hundreds of picks. A refresh never holds an answer
 * (the pool it refreshes still serves, corrected for the feedback since), so it can wait its turn; the
 * decisions a waiting `more` needs do not come through here.
 *
 * @example
 * const run = await queue.acquire(signal);
 * if (run) await run(() => engine.score(state, { nowMs })); // undefined: the session stopped meanwhile
 */
export interface RefreshQueueOptions {
  /** Refreshes in flight at most (granted, their model call not yet back); default 32. */
  concurrency?: number;
  /** The smallest budget of a turn, ms (default 4: a refresh or two even when nothing else runs). */
  minTurnMs?: number;
  /** The largest, ms (default 100): a turn after a long one is not all refreshes. */
  maxTurnMs?: number;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
  /** Told how long each granted refresh waited, in ms (the `omakase_refresh_wait_seconds` metric). */
  onGrant?: (waitedMs: number) => void;
}

/**
 * A granted refresh: runs `work` (the decision) and counts its synchronous part against the turn's budget.
 * The next refresh may take this one's place once `work` settles.
 */
export type RefreshRun = <T>(work: () => Promise<T>) => Promise<T>;

interface Waiting {
  grant: (run: RefreshRun | undefined) => void;
  since: number;
}

export class RefreshQueue {
  private readonly waiting: Waiting[] = [];
  private running = 0;
  private pumping = false;
  private readonly concurrency: number;
  private readonly minTurnMs: number;
  private readonly maxTurnMs: number;
  private readonly now: () => number;
  private readonly onGrant: ((waitedMs: number) => void) | undefined;
  /** When the last turn granted, and the refresh work reported since (`spent`). */
  private lastTurnAt: number | undefined;
  private spentSinceTurn = 0;
  /** A refresh's synchronous work, ms: a moving average of what `spent` reports. */
  private refreshMs = 2;

  constructor(options: RefreshQueueOptions = {}) {
    this.concurrency = options.concurrency ?? 32;
    this.minTurnMs = options.minTurnMs ?? 4;
    this.maxTurnMs = options.maxTurnMs ?? 100;
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
   * Resolves with the function to run the refresh with when its turn comes, or with undefined when `signal`
   * aborts first (the session stopped: its refresh is not worth making).
   */
  acquire(signal?: AbortSignal): Promise<RefreshRun | undefined> {
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

  /** How long a granted refresh's synchronous work took (ms): it sizes the turns that follow. */
  private spent(ms: number): void {
    this.spentSinceTurn += ms;
    this.refreshMs = 0.8 * this.refreshMs + 0.2 * ms;
  }

  private schedule(): void {
    if (this.pumping || this.running >= this.concurrency || this.waiting.length === 0) return;
    this.pumping = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.pumping = false;
    const now = this.now();
    // The rest of the node's work since the last grant: refreshes may take about as long again.
    const other =
      this.lastTurnAt === undefined ? 0 : Math.max(0, now - this.lastTurnAt - this.spentSinceTurn);
    const budget = Math.min(this.maxTurnMs, Math.max(this.minTurnMs, other));
    this.lastTurnAt = now;
    this.spentSinceTurn = 0;
    let n = Math.max(1, Math.floor(budget / this.refreshMs));
    while (n-- > 0 && this.running < this.concurrency) {
      const next = this.waiting.shift();
      if (next === undefined) break;
      this.grant(next);
    }
    // An idle queue starts afresh: its first turn after a quiet spell is measured from then, not from before.
    if (this.waiting.length === 0) this.lastTurnAt = undefined;
    // The rest wait for the loop's next check phase.
    this.schedule();
  }

  private grant(next: Waiting): void {
    this.running++;
    this.onGrant?.(this.now() - next.since);
    let used = false;
    next.grant(async (work) => {
      if (used) throw new Error('A refresh runs once per grant.');
      used = true;
      try {
        const started = this.now();
        // An async function runs until its first await when called: that part is this turn's work.
        const done = work();
        this.spent(this.now() - started);
        return await done;
      } finally {
        this.running--;
        this.schedule();
      }
    });
  }
}
