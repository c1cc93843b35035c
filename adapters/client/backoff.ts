import type { ClientTimers } from './clientTypes.ts';

/** How long a client waits before its next reconnect attempt. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms (default 500). */
  initialMs: number;
  /** Longest delay, in ms (default 30 000). */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor: number;
  /** Fraction of the delay drawn at random, 0 … 1 (default 0.5): spreads the clients a restart dropped together. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

/**
 * The delay before retry number `attempt` (0 for the first): exponential, capped, and jittered downwards so
 * that it never exceeds the cap.
 * @example backoffDelay(3, DEFAULT_BACKOFF, () => 0) // 4000
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt));
  return Math.round(ceiling * (1 - options.jitter * random()));
}

/**
 * A wait that grows by the backoff: `next` is the delay before the next try (each longer than the last, until
 * `reset`), `wait` runs a function after it, in place of any wait still pending.
 */
export class BackoffTimer {
  /** Tries since the last reset. */
  attempt = 0;
  private timer: unknown;

  constructor(
    private readonly timers: ClientTimers,
    private readonly options: BackoffOptions,
    private readonly random: () => number,
  ) {}

  next(): number {
    return backoffDelay(this.attempt++, this.options, this.random);
  }

  wait(fn: () => void, ms: number): void {
    this.clear();
    this.timer = this.timers.setTimeout(fn, ms);
  }

  clear(): void {
    this.timers.clearTimeout(this.timer);
  }

  reset(): void {
    this.attempt = 0;
  }
}
